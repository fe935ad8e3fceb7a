"""Has anything a rebuild reads changed since the last good build? Answered before Dagster.

`socfund build --from-raw` re-derives the warehouse from kept documents. When every
declared load's input digest (`pipelines.inputs`: its kept documents, parser, schema,
the modules they import and the data files those read) and the dbt project are those
of the last build that succeeded, the answer is the published warehouse as it is: the
command says so and stops, without importing Dagster or dbt. Any other build goes
through Dagster, where each load and the dbt step still skip what did not change.

Reading the declarations means importing every parser and schema (seconds), so a good
build leaves them in its stamp: each load's inputs and the files of the declarations
themselves (`pipelines.registry` and every module it imports). The check reads the
stamp, hashes those files and the manifests, and imports nothing; while the
declarations' files are unchanged, the loads they declare are too.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import NamedTuple

from pipelines.inputs import (
    LoadInputs,
    dbt_digest,
    files_digest,
    input_digest,
    load_inputs,
    module_files,
    project_name,
)
from pipelines.paths import WarehousePaths
from scrapers.files import write_text_atomic

_DECLARATIONS = "pipelines.registry"


class _Kept(NamedTuple):
    url: str
    sha256: str


def _stamp(paths: WarehousePaths) -> Path:
    return paths.root / ".last-good-build"


def kept_documents(raw_dir: Path, source: str, kind: str) -> list[_Kept]:
    """The documents of one kind in a source's manifests, in the order they list them.

    A source that keeps its documents in several manifests keeps them one folder down
    (ФПГ cards: `raw/fpg/cards/<contest>.json`).
    """
    folder = raw_dir / source
    docs: list[_Kept] = []
    for manifest in [folder / "manifest.json", *sorted(folder.glob("*/*.json"))]:
        if manifest.is_file():
            listed = json.loads(manifest.read_text(encoding="utf-8"))["documents"]
            docs.extend(_Kept(d["url"], d["sha256"]) for d in listed if d["kind"] == kind)
    return docs


def inputs_fingerprint(paths: WarehousePaths, live: bool, declarations: list[str],
                       loads: list[LoadInputs]) -> str:
    """The declarations' files, each declared load's input digest and the dbt project."""
    h = hashlib.sha256(f"live={live}\ndeclarations:{files_digest(declarations)}\n".encode())
    for load in loads:
        docs = kept_documents(paths.raw_dir, load.source, load.document_kind)
        h.update(f"{load.table}:{input_digest(load, docs)}\n".encode())
    h.update(f"dbt:{dbt_digest()}\n".encode())
    return h.hexdigest()


def unchanged_since_last_good_build(paths: WarehousePaths, live: bool = False) -> bool:
    stamp = _stamp(paths)
    if not (paths.published_db.exists() and stamp.exists()):
        return False
    try:
        recorded = json.loads(stamp.read_text(encoding="utf-8"))
        loads = [LoadInputs.from_json(load) for load in recorded["loads"]]
        current = inputs_fingerprint(paths, live, recorded["declarations"], loads)
    except (OSError, ValueError, KeyError, TypeError):
        # A stamp of another version, or a file it names is gone: not known to be unchanged.
        return False
    return current == recorded["fingerprint"]


def forget_last_good_build(paths: WarehousePaths) -> None:
    _stamp(paths).unlink(missing_ok=True)


def remember_good_build(paths: WarehousePaths, live: bool) -> None:
    # Here, not at the top: it imports every parser and schema, which the check must not.
    from pipelines.registry import SOURCES

    declarations = [project_name(f) for f in module_files([_DECLARATIONS])]
    loads = [load_inputs(decl, source.parser_version)
             for source in SOURCES for decl in source.entities]
    stamp = {
        "fingerprint": inputs_fingerprint(paths, live, declarations, loads),
        "declarations": declarations,
        "loads": [load.to_json() for load in loads],
    }
    write_text_atomic(_stamp(paths), json.dumps(stamp, ensure_ascii=False, indent=1) + "\n")
