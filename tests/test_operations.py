"""Nightly operations: nothing changed costs nothing, one changed card re-parses one
contest, a failing source keeps its last good rows and fails the run by name, and a
build killed at any fixed point leaves the published warehouse readable and whole,
and the next build completes it without duplicates."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckSeverity

from pipelines.cli import _failure_message
from pipelines.definitions import build_job, defs, make_resources
from pipelines.duckdb_config import quote_ident as ident
from pipelines.faults import POINTS
from pipelines.paths import REPO_ROOT, WarehousePaths
from pipelines.resources import SourcesResource
from pipelines.unchanged import unchanged_since_last_good_build
from scrapers import fpg, treasury
from scrapers.samples import FIXTURES_DIR, sample_relpath
from tests.test_inputs import loads_using

CARD_ID = "0a565296-4e53-477d-b118-b89e25e1af62"
CARD_URL = f"{fpg.BASE_URL}/public/application/item?id={CARD_ID}"
OLD_TITLE = "Семейная гостиная: поддержка молодых семей"
NEW_TITLE = "Семейная гостиная (в новой редакции): поддержка молодых семей"


def _run(warehouse: Path, samples: Path | None = FIXTURES_DIR, mode: str = ""):
    resources = make_resources(mode=mode, warehouse_dir=str(warehouse),
                               samples_dir=str(samples) if samples else "")
    return defs.resolve_job_def(build_job.name).execute_in_process(
        resources=resources, raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})


def _materialized(result) -> dict[str, dict]:
    out = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            mat = event.event_specific_data.materialization
            out["/".join(mat.asset_key.path)] = {k: v.value for k, v in mat.metadata.items()}
    return out


def _skipped(result) -> set[str]:
    return {e.step_key for e in result.all_events if e.event_type_value == "STEP_SKIPPED"}


def _counts(db: Path) -> dict[str, int]:
    """Rows per table (the fetch log grows every night and is left out)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() "
            "WHERE schema_name IN ('main', 'raw', 'quarantine') AND table_name <> 'fetch_log' "
            "ORDER BY 1, 2").fetchall()
        return {f"{s}.{t}": con.execute(f"SELECT count(*) FROM {ident(s)}.{ident(t)}").fetchone()[0]
                for s, t in tables}
    finally:
        con.close()


def _changed_card_samples(root: Path) -> Path:
    samples = root / "samples"
    shutil.copytree(FIXTURES_DIR, samples)
    card = samples / sample_relpath(CARD_URL)
    body = card.read_bytes()
    assert OLD_TITLE.encode() in body
    card.write_bytes(body.replace(OLD_TITLE.encode(), NEW_TITLE.encode()))
    return samples


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    """One offline build, copied by each test that changes something."""
    warehouse = tmp_path_factory.mktemp("baseline") / "warehouse"
    result = _run(warehouse)
    assert result.success
    return warehouse


def _copy(baseline: Path, tmp_path: Path) -> Path:
    warehouse = tmp_path / "warehouse"
    shutil.copytree(baseline, warehouse)
    return warehouse


def test_nothing_changed_reparses_nothing_and_builds_nothing(baseline, tmp_path):
    warehouse = _copy(baseline, tmp_path)
    published = warehouse / "socfund.duckdb"
    before = published.read_bytes()
    result = _run(warehouse)
    assert result.success
    mats = _materialized(result)
    loads = {k: v for k, v in mats.items() if k.startswith("raw/") and k != "raw/fetch_log"}
    assert len(loads) >= 13
    for key, meta in loads.items():
        assert meta["reparsed"] == 0 and meta["unchanged"] is True, key
        assert meta["loaded"] > 0, key
    assert mats["parsed/fpg_cards"]["reparsed"] == 0
    assert mats["parsed/fpg_cards"]["contests"] >= 10
    # dbt, the swap, the exports and the page did not run; the file is untouched.
    assert not any(k.startswith("main/") or k.startswith("warehouse/published") for k in mats)
    assert {"warehouse__published", "warehouse__exports", "warehouse__site"} <= _skipped(result)
    assert published.read_bytes() == before


def test_one_changed_card_reparses_its_contest_only(baseline, tmp_path):
    warehouse = _copy(baseline, tmp_path)
    samples = _changed_card_samples(tmp_path)
    result = _run(warehouse, samples)
    assert result.success
    mats = _materialized(result)
    assert mats["parsed/fpg_cards"]["contests_reparsed"] == 1
    assert mats["parsed/fpg_cards"]["reparsed"] == 1
    assert mats["raw/fpg__cards"]["unchanged"] is False
    assert mats["raw/fpg__applications"]["reparsed"] == 0
    con = duckdb.connect(str(warehouse / "socfund.duckdb"), read_only=True)
    try:
        titles = con.execute("SELECT title FROM raw.fpg__cards WHERE card_id = ?",
                             [CARD_ID]).fetchall()
    finally:
        con.close()
    assert len(titles) == 1 and titles[0][0].startswith(NEW_TITLE)
    assert _counts(warehouse / "socfund.duckdb") == _counts(baseline / "socfund.duckdb")


def test_rebuild_from_raw_store_fetches_nothing(baseline, tmp_path):
    warehouse = _copy(baseline, tmp_path)
    log = warehouse / "raw" / "fetch_log.jsonl"
    before = log.read_bytes()
    result = _run(warehouse, mode="raw")
    assert result.success
    mats = _materialized(result)
    assert all(v["fetched"] == 0 for k, v in mats.items() if k.startswith("fetch/"))
    assert log.read_bytes() == before


def test_failed_source_keeps_last_good_rows_and_fails_the_run_by_name(baseline, tmp_path,
                                                                       monkeypatch):
    warehouse = _copy(baseline, tmp_path)
    samples = tmp_path / "samples"
    shutil.copytree(FIXTURES_DIR, samples)
    # The treasury site is down: every report answers 404 (the samples server has no file).
    # Requested as on a live night: offline, a document with no copy is not requested.
    for url in treasury.REPORT_URLS.values():
        (samples / sample_relpath(url)).unlink()
    monkeypatch.setattr(SourcesResource, "has_copy", lambda self, url: True)
    # The ФПГ bulk file changed its layout: the application-number column is gone.
    xlsx = samples / sample_relpath(fpg.BASE_URL + "/upload/opendata/projects.xlsx")
    _drop_xlsx_header(xlsx, "Номер заявки")
    before = _counts(baseline / "socfund.duckdb")

    result = _run(warehouse, samples)
    assert not result.success
    failures = {e.step_key: e.step_failure_data for e in result.all_events if e.is_step_failure}
    # The check `stale_sources` (ERROR, blocking) fails the step, naming each source.
    assert set(failures) == {"warehouse__sources_health"}
    assert failures["warehouse__sources_health"].error.cls_name == (
        "DagsterAssetCheckFailedError")
    verdicts = {(e.asset_key.to_user_string(), e.check_name): e
                for e in result.get_asset_check_evaluations()}
    verdict = verdicts[("warehouse/sources_health", "stale_sources")]
    assert not verdict.passed and verdict.severity == AssetCheckSeverity.ERROR
    message = verdict.description
    assert message.startswith("stale sources (last good data kept): ")
    assert "treasury fetch" in message and "fpg fpg__applications" in message
    assert "404" in message and "Номер заявки" in message
    # `socfund build` prints the check's verdict as the step's failure.
    events = list(result.all_events)
    (failure,) = [e for e in events if e.is_step_failure]
    assert _failure_message(failure, events) == message

    mats = _materialized(result)
    assert mats["fetch/treasury"]["status"] == "failed"
    assert mats["raw/fpg__applications"]["status"] == "failed"
    # Every other source built and was published; the failed ones kept their rows.
    after = _counts(warehouse / "socfund.duckdb")
    assert after["raw.treasury__0503317"] == before["raw.treasury__0503317"] > 0
    assert after["raw.fpg__applications"] == before["raw.fpg__applications"] > 0
    assert after == before
    con = duckdb.connect(str(warehouse / "socfund.duckdb"), read_only=True)
    try:
        stale = con.execute("SELECT source, stage FROM meta.source_status "
                            "WHERE status = 'failed' ORDER BY 1, 2").fetchall()
    finally:
        con.close()
    assert stale == [("fpg", "fpg__applications"), ("treasury", "fetch")]

    # The next night the sites are back: the sources recover and nothing is stale.
    result = _run(warehouse)
    assert result.success
    con = duckdb.connect(str(warehouse / "socfund.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM meta.source_status "
                           "WHERE status = 'failed'").fetchone()[0] == 0
    finally:
        con.close()


def _drop_xlsx_header(path: Path, header: str) -> None:
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))
    sheet = book.active
    hits = [c for row in sheet.iter_rows() for c in row
            if c.value and " ".join(str(c.value).split()).lower() == header.lower()]
    assert hits, f"no {header!r} header in {path}"
    hits[0].value = "Шифр"
    book.save(path)


# --- killed builds ------------------------------------------------------------------------------

def _socfund(*args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    exe = Path(sys.executable).parent / "socfund"
    kw.setdefault("stdout", subprocess.PIPE)
    return subprocess.Popen([str(exe), *args], env={**os.environ, **(env or {})},
                            stderr=subprocess.STDOUT, start_new_session=True, **kw)


def _read_while_paused(published: Path) -> int:
    """A reader opening the published file mid-build: not blocked, sees a whole warehouse."""
    started = time.monotonic()
    con = duckdb.connect(str(published), read_only=True)
    try:
        n = con.execute("SELECT count(*) FROM main.fact_grant").fetchone()[0]
    finally:
        con.close()
    assert time.monotonic() - started < 5
    return n


@pytest.mark.parametrize("point", POINTS)
def test_killed_build_leaves_warehouse_whole_and_next_build_completes(baseline, tmp_path,
                                                                      point):
    warehouse = _copy(baseline, tmp_path)
    samples = _changed_card_samples(tmp_path)
    published = warehouse / "socfund.duckdb"
    before_bytes = published.read_bytes()
    before = _counts(published)
    marker = tmp_path / "paused"
    # Its output to a file: nobody reads while it runs, and a full pipe (dbt prints more
    # than a pipe's 64 KB) would stop the build before the later points.
    log = tmp_path / "paused-build.log"
    with log.open("wb") as out:
        proc = _socfund("build", "--warehouse", str(warehouse), "--samples", str(samples),
                        "--log-level", "WARNING", stdout=out,
                        env={"SOCFUND_PAUSE_AT": point, "SOCFUND_PAUSE_MARKER": str(marker)})
    try:
        deadline = time.monotonic() + 600
        while not marker.exists():
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, f"the build never reached {point}"
            time.sleep(0.2)
        assert _read_while_paused(published) == before["main.fact_grant"]
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    # Killed: the published warehouse is yesterday's, byte for byte, and readable.
    assert published.read_bytes() == before_bytes
    assert _counts(published) == before

    done = _socfund("build", "--warehouse", str(warehouse), "--samples", str(samples),
                    "--log-level", "WARNING")
    out, _ = done.communicate(timeout=900)
    assert done.returncode == 0, out.decode(errors="replace")[-3000:]
    assert _counts(published) == before  # the same rows: none lost, none doubled
    con = duckdb.connect(str(published), read_only=True)
    try:
        assert con.execute("SELECT title FROM raw.fpg__cards WHERE card_id = ?",
                           [CARD_ID]).fetchone()[0].startswith(NEW_TITLE)
        for table, key in (("fact_grant", "grant_id"), ("dim_organisation", "organisation_key"),
                           ("fact_application", "application_id")):
            dupes = con.execute(f"SELECT count(*) - count(DISTINCT {key}) FROM main.{table}"
                                ).fetchone()[0]
            assert dupes == 0, table
    finally:
        con.close()


def test_contests_parsed_in_parallel_by_the_multiprocess_executor(baseline, tmp_path):
    from pipelines.cli import main

    warehouse = _copy(baseline, tmp_path)
    parsed = warehouse / "parsed" / "fpg__cards"
    contests = sorted(p.name for p in parsed.glob("*.parquet"))
    assert len(contests) >= 20  # valid and quarantined rows of every contest
    shutil.rmtree(parsed)
    assert main(["build", "--warehouse", str(warehouse), "--from-raw", "--workers", "2",
                 "--log-level", "WARNING"]) == 0
    # Every contest was parsed again, each in its own step process, to the same rows.
    assert sorted(p.name for p in parsed.glob("*.parquet")) == contests
    assert _counts(warehouse / "socfund.duckdb") == _counts(baseline / "socfund.duckdb")


def test_unchanged_rebuild_from_raw_stops_before_dagster(baseline, tmp_path, capsys):
    from pipelines.cli import main

    warehouse = _copy(baseline, tmp_path)
    args = ["build", "--warehouse", str(warehouse), "--from-raw", "--log-level", "WARNING"]
    assert main(args) == 0  # no record of a good build yet: through Dagster
    published = warehouse / "socfund.duckdb"
    before = published.read_bytes()
    capsys.readouterr()
    started = time.monotonic()
    assert main(args) == 0
    assert "Nothing changed since the last good build" in capsys.readouterr().out
    assert time.monotonic() - started < 5
    assert published.read_bytes() == before
    # The same documents listed anew (one manifest rewritten): nothing a load reads changed.
    manifest = warehouse / "raw" / "oprf2013" / "manifest.json"
    manifest.write_text(manifest.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert main(args) == 0
    assert "Nothing changed since the last good build" in capsys.readouterr().out
    # A document kept anew is a change: the build goes through Dagster again.
    listed = json.loads(manifest.read_text(encoding="utf-8"))
    listed["documents"][0]["sha256"] = "0" * 64
    manifest.write_text(json.dumps(listed), encoding="utf-8")
    assert not unchanged_since_last_good_build(WarehousePaths(warehouse))


def _load_records(warehouse: Path) -> dict[str, tuple]:
    """`meta.loads`: each raw table's input digest and load time."""
    con = duckdb.connect(str(warehouse / "store.duckdb"), read_only=True)
    try:
        return {t: (d, at) for t, d, at in con.execute(
            "SELECT table_name, input_digest, loaded_at FROM meta.loads "
            "WHERE table_name <> 'fetch_log'").fetchall()}
    finally:
        con.close()


def test_from_raw_after_a_module_change_reparses_exactly_the_loads_using_it(baseline, tmp_path,
                                                                           monkeypatch, capsys):
    """`scrapers/workbooks.py` changed (as the change detector reads it), `socfund build
    --from-raw` re-parses the loads whose parsers import it, and no other."""
    from pipelines import inputs
    from pipelines.cli import main

    warehouse = _copy(baseline, tmp_path)
    args = ["build", "--warehouse", str(warehouse), "--from-raw", "--log-level", "WARNING"]
    assert main(args) == 0  # records the last good build; nothing to re-parse
    before = _load_records(warehouse)
    assert before == _load_records(baseline)
    workbooks = (REPO_ROOT / "scrapers" / "workbooks.py").resolve()
    expected = loads_using(workbooks)
    assert {"fpg__applications", "sonko__federal"} <= expected
    real = inputs.file_digest

    def edited(path: Path) -> str:
        return "edited:" + real(path) if path.resolve() == workbooks else real(path)

    monkeypatch.setattr(inputs, "file_digest", edited)
    capsys.readouterr()
    assert main(args) == 0
    assert "Nothing changed" not in capsys.readouterr().out
    after = _load_records(warehouse)
    assert after.keys() == before.keys()
    reparsed = {t for t in before if after[t] != before[t]}
    assert reparsed == expected
    assert all(after[t][1] > before[t][1] for t in reparsed)
    # The edit changed no behaviour, so the rows are the same.
    assert _counts(warehouse / "socfund.duckdb") == _counts(baseline / "socfund.duckdb")
    assert main(args) == 0
    assert "Nothing changed since the last good build" in capsys.readouterr().out
