"""Has anything a rebuild reads changed since the last good build? Answered before Dagster.

`socfund build --from-raw` re-derives the warehouse from kept documents. When the
documents (every manifest in the raw store), the code that parses, validates and models
them, and the dbt project are exactly those of the last build that succeeded, the
answer is the published warehouse as it is: the command says so and stops, without
importing Dagster or dbt. Any other build goes through Dagster, where each load and the
dbt step still skip what did not change.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipelines.paths import REPO_ROOT, WarehousePaths, dbt_input_files, project_files
from scrapers.files import write_text_atomic

_CODE_DIRS = ("scrapers", "schemas", "pipelines")


def _stamp(paths: WarehousePaths) -> Path:
    return paths.root / ".last-good-build"


def inputs_fingerprint(paths: WarehousePaths, live: bool) -> str:
    h = hashlib.sha256(f"live={live}\n".encode())
    manifests = sorted(paths.raw_dir.glob("*/manifest.json")) + sorted(
        paths.raw_dir.glob("*/cards/*.json"))
    code = project_files(REPO_ROOT, _CODE_DIRS, "*.py") + dbt_input_files()
    for f in manifests + code:
        h.update(f"{f}\n".encode())
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def unchanged_since_last_good_build(paths: WarehousePaths, live: bool = False) -> bool:
    stamp = _stamp(paths)
    return (paths.published_db.exists() and stamp.exists()
            and stamp.read_text(encoding="utf-8").strip() == inputs_fingerprint(paths, live))


def forget_last_good_build(paths: WarehousePaths) -> None:
    _stamp(paths).unlink(missing_ok=True)


def remember_good_build(paths: WarehousePaths, live: bool) -> None:
    write_text_atomic(_stamp(paths), inputs_fingerprint(paths, live) + "\n")
