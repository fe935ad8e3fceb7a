"""The one change detector: a load's digest changes exactly when something its rows are a
function of changes — its documents, its parser and schema, every project module they
import (found by reading the import statements) and every data file those modules read.

An edit is simulated by making `file_digest` answer differently for one real file of
the project; the walk over the imports is the real one. Where a real edit is needed (a
data file, the walk's corner cases), a package is written to a temporary folder.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from pipelines import inputs
from pipelines.inputs import LoadInputs, input_digest, load_inputs, module_files
from pipelines.paths import DBT_PROJECT_DIR, REPO_ROOT, WarehousePaths
from pipelines.registry import SOURCES
from pipelines.unchanged import (
    forget_last_good_build,
    remember_good_build,
    unchanged_since_last_good_build,
)

# The loads whose parsers import scrapers/workbooks.py themselves, and loads whose parser
# and schema import neither it nor the indicators' vocabulary: whatever else the project
# grows, the first must change with workbooks.py and the second must not.
WORKBOOK_READERS = {"fpg__applications", "sonko__federal", "sonko__registry2011",
                    "treasury__0503317"}
UNRELATED = {"oprf2013__grants", "ebudget__agreements", "ebudget__periods",
             "curated__figures", "municipal__winners"}
# The seed of the controlled indicators is read through schemas.vocabularies.indicators,
# which scrapers.practice and schemas.practice import.
INDICATOR_READERS = {"practice__indicators", "programme__indicators"}


def loads_using(path: Path) -> set[str]:
    """The declared loads whose inputs, as the detector finds them, include this file."""
    name = inputs.project_name(path)
    return {decl.table for source in SOURCES for decl in source.entities
            if name in load_inputs(decl, source.parser_version).files}


def _digests(docs: tuple = ()) -> dict[str, str]:
    return {decl.table: input_digest(load_inputs(decl, source.parser_version), docs)
            for source in SOURCES for decl in source.entities}


def _edit(monkeypatch: pytest.MonkeyPatch, *paths: Path) -> None:
    """From now on these files read as edited: their digest is no longer their bytes'."""
    real = inputs.file_digest
    edited = {p.resolve() for p in paths}

    def digest(path: Path) -> str:
        return "edited:" + real(path) if path.resolve() in edited else real(path)

    monkeypatch.setattr(inputs, "file_digest", digest)


def _reparsed_after_editing(monkeypatch: pytest.MonkeyPatch, *paths: Path) -> set[str]:
    before = _digests()
    _edit(monkeypatch, *paths)
    after = _digests()
    assert before.keys() == after.keys()
    return {table for table in before if before[table] != after[table]}


def test_editing_workbooks_changes_the_loads_whose_parsers_import_it_and_no_other(monkeypatch):
    workbooks = REPO_ROOT / "scrapers" / "workbooks.py"
    reparsed = _reparsed_after_editing(monkeypatch, workbooks)
    assert WORKBOOK_READERS <= reparsed
    assert not reparsed & UNRELATED
    assert reparsed == loads_using(workbooks)


def test_editing_a_seed_a_parser_reads_changes_that_parsers_loads_only(monkeypatch):
    seed = DBT_PROJECT_DIR / "seeds" / "indicators.csv"
    reparsed = _reparsed_after_editing(monkeypatch, seed)
    assert INDICATOR_READERS <= reparsed
    assert not reparsed & (UNRELATED | WORKBOOK_READERS)
    assert reparsed == loads_using(seed)


def test_a_seed_only_dbt_reads_and_a_module_no_parser_imports_change_no_load(monkeypatch):
    assert _reparsed_after_editing(monkeypatch, DBT_PROJECT_DIR / "seeds" / "regions.csv",
                                   REPO_ROOT / "scrapers" / "http.py",
                                   REPO_ROOT / "pipelines" / "exports.py") == set()


def test_editing_the_validation_module_changes_every_load(monkeypatch):
    every = set(_digests())
    assert _reparsed_after_editing(monkeypatch, REPO_ROOT / "schemas" / "base.py") == every


def test_a_schema_module_changes_its_loads_only(monkeypatch):
    assert _reparsed_after_editing(monkeypatch, REPO_ROOT / "schemas" / "oprf2013.py") \
        == {"oprf2013__grants"}


class _Doc:
    def __init__(self, url: str, sha256: str) -> None:
        self.url, self.sha256 = url, sha256


def test_documents_parser_version_and_parse_function_are_inputs():
    base = LoadInputs("t", "s", "kind", "parser_version=1", ("schemas/base.py",))
    docs = [_Doc("https://example.org/a", "0" * 64)]
    digest = input_digest(base, docs)
    assert input_digest(base, docs) == digest
    assert input_digest(base, [_Doc("https://example.org/a", "1" * 64)]) != digest
    assert input_digest(base, [_Doc("https://example.org/b", "0" * 64)]) != digest
    assert input_digest(base, []) != digest
    assert input_digest(LoadInputs("t", "s", "kind", "parser_version=2", base.files),
                        docs) != digest
    loads = {decl.table: load_inputs(decl, source.parser_version)
             for source in SOURCES for decl in source.entities}
    # Two loads of one module and one schema differ by their parse function.
    assert loads["programme__cards"].code != loads["programme__indicators"].code
    assert LoadInputs.from_json(json.loads(json.dumps(loads["fpg__cards"].to_json()))) \
        == loads["fpg__cards"]


# --- the walk over imports, and DATA_FILES, on a package of its own ------------------------

PROBE = "socfund_probe_pkg"

PROBE_FILES = {
    "__init__.py": "",
    "parser.py": (
        "from __future__ import annotations\n"
        "import json\n"
        "from . import helpers\n"
        "from .sub import leaf\n"
        f"from {PROBE}.sub.deep import VALUE\n"
        f"from {PROBE} import vocab as words\n"
        f"from {PROBE}.helpers import X\n"
        "\n"
        "def parse(body, url=''):\n"
        f"    from {PROBE} import late\n"
        "    return [dict(value=VALUE + X, words=words.WORDS, late=late.LATE)]\n"
    ),
    "helpers.py": "X = 1\n",
    "sub/__init__.py": "",
    "sub/leaf.py": "",
    "sub/deep.py": "from ..helpers import X\nVALUE = X\n",
    "vocab.py": (
        "from pathlib import Path\n"
        "WORDS_CSV = Path(__file__).parent / 'data' / 'words.csv'\n"
        "DATA_FILES = (WORDS_CSV,)\n"
        "WORDS = WORDS_CSV.read_text(encoding='utf-8').split()\n"
    ),
    "late.py": "LATE = 1\n",
    "unused.py": "import json\n",
    "data/words.csv": "word\nклуб\n",
}


@pytest.fixture
def probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = tmp_path / "project"
    for name, text in PROBE_FILES.items():
        target = root / PROBE / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    monkeypatch.syspath_prepend(str(root))
    yield root
    for name in [m for m in sys.modules if m == PROBE or m.startswith(PROBE + ".")]:
        del sys.modules[name]


def test_the_walk_follows_every_import_form_and_collects_data_files(probe):
    package = probe / PROBE
    assert module_files([f"{PROBE}.parser"], root=probe) == [
        package / "__init__.py", package / "helpers.py", package / "late.py",
        package / "parser.py", package / "sub" / "__init__.py", package / "sub" / "deep.py",
        package / "sub" / "leaf.py", package / "vocab.py",
        (package / "data" / "words.csv").resolve(),
    ]


def test_a_real_edit_of_a_data_file_changes_the_digest(probe):
    files = tuple(inputs.project_name(f) for f in module_files([f"{PROBE}.parser"], root=probe))
    load = LoadInputs("probe__rows", "probe", "page", "parser_version=1", files)
    before = input_digest(load, [])
    (probe / PROBE / "data" / "words.csv").write_text("word\nклуб\nкружок\n", encoding="utf-8")
    assert input_digest(load, []) != before
    (probe / PROBE / "unused.py").write_text("import os\n", encoding="utf-8")
    after = input_digest(load, [])
    (probe / PROBE / "sub" / "leaf.py").write_text("LEAF = 2\n", encoding="utf-8")
    assert input_digest(load, []) != after


def test_a_data_file_that_is_not_there_is_an_error(probe):
    (probe / PROBE / "data" / "words.csv").rename(probe / PROBE / "data" / "other.csv")
    (probe / PROBE / "vocab.py").write_text(
        "from pathlib import Path\nDATA_FILES = (Path(__file__).parent / 'data' / 'words.csv',)\n",
        encoding="utf-8")
    with pytest.raises(FileNotFoundError, match=rf"{PROBE}\.vocab: DATA_FILES names .*words"):
        module_files([f"{PROBE}.vocab"], root=probe)


# --- the fast path before Dagster ----------------------------------------------------------

def _manifest(path: Path, docs: list[dict], indent: int | None = 1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"source": "x", "documents": docs, "failures": []},
                               indent=indent), encoding="utf-8")


def test_fast_path_sees_documents_code_seeds_declarations_and_dbt(tmp_path, monkeypatch):
    paths = WarehousePaths(tmp_path / "warehouse").ensure()
    paths.published_db.write_bytes(b"published")
    grants = [{"kind": "csv", "url": "https://example.org/2013.csv", "sha256": "a" * 64,
               "fetched_at": "2024-01-01T00:00:00+00:00", "not_modified": False}]
    card = [{"kind": "card", "url": "https://example.org/card", "sha256": "b" * 64,
             "fetched_at": "2024-01-01T00:00:00+00:00", "not_modified": False}]
    _manifest(paths.raw_dir / "oprf2013" / "manifest.json", grants)
    _manifest(paths.raw_dir / "fpg" / "cards" / "c2017_1.json", card)
    assert not unchanged_since_last_good_build(paths)  # no good build recorded yet
    remember_good_build(paths, live=False)
    assert unchanged_since_last_good_build(paths)
    assert not unchanged_since_last_good_build(paths, live=True)

    # The same documents listed anew, with other fetch times: nothing a load reads changed.
    _manifest(paths.raw_dir / "oprf2013" / "manifest.json",
              [{**grants[0], "fetched_at": "2024-02-01T00:00:00+00:00"}], indent=None)
    assert unchanged_since_last_good_build(paths)
    # A card of one contest kept anew is a change.
    _manifest(paths.raw_dir / "fpg" / "cards" / "c2017_1.json", [{**card[0], "sha256": "c" * 64}])
    assert not unchanged_since_last_good_build(paths)
    _manifest(paths.raw_dir / "fpg" / "cards" / "c2017_1.json", card)
    assert unchanged_since_last_good_build(paths)

    for edited in (REPO_ROOT / "scrapers" / "workbooks.py",
                   DBT_PROJECT_DIR / "seeds" / "indicators.csv",
                   REPO_ROOT / "pipelines" / "registry.py",
                   DBT_PROJECT_DIR / "dbt_project.yml"):
        with monkeypatch.context() as m:
            _edit(m, edited)
            assert not unchanged_since_last_good_build(paths), edited
    assert unchanged_since_last_good_build(paths)

    (paths.root / ".last-good-build").write_text("{not json", encoding="utf-8")
    assert not unchanged_since_last_good_build(paths)
    remember_good_build(paths, live=False)
    forget_last_good_build(paths)
    assert not unchanged_since_last_good_build(paths)


# --- the dbt skip ---------------------------------------------------------------------------

def test_build_fingerprint_is_the_loads_digests_statuses_and_the_dbt_project(tmp_path,
                                                                               monkeypatch):
    from pipelines.store import record_status, replace_entity, store_writer
    from pipelines.warehouse import build_fingerprint
    from schemas.base import Validated
    from schemas.oprf2013 import GRANTS

    paths = WarehousePaths(tmp_path / "warehouse").ensure()

    def load(digest: str) -> None:
        with store_writer(paths) as con:
            replace_entity(con, GRANTS, Validated(), {"_source": "oprf2013",
                                                      "_parser_version": "1"},
                           input_digest=digest)

    load("digest-1")
    first = build_fingerprint(paths, live=False)
    assert build_fingerprint(paths, live=False) == first
    assert build_fingerprint(paths, live=True) != first
    load("digest-2")
    second = build_fingerprint(paths, live=False)
    assert second != first
    with store_writer(paths) as con:
        record_status(con, "oprf2013", "fetch", error="site down")
    third = build_fingerprint(paths, live=False)
    assert third != second
    with monkeypatch.context() as m:
        _edit(m, DBT_PROJECT_DIR / "seeds" / "regions.csv")
        assert build_fingerprint(paths, live=False) != third
    # The parsers' code is not dbt's: it reaches the build through the loads' digests.
    with monkeypatch.context() as m:
        _edit(m, REPO_ROOT / "scrapers" / "workbooks.py")
        assert build_fingerprint(paths, live=False) == third
