"""The quality scorecard: `quality.json` in the release, its JSON Schema, the page's
«Качество данных» section and the asset check `quality_thresholds`.

The session's build from the invented documents of tests/fixtures (every source fetched, a
few deliberately broken rows). Its scorecard is compared with counts taken from the warehouse
here, independently; then thresholds are tightened and the exports, the page and the check
are run again through Dagster, which reports the breach as a failed WARN check while the run
succeeds, and the page marks it. The build from the real samples passes the declared
thresholds too, its sources without an offline copy shown as live only.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import duckdb
import jsonschema
import pytest
from dagster import AssetCheckSeverity, AssetSelection, build_asset_check_context, materialize

from pipelines import registry, warehouse
from pipelines.definitions import make_resources
from pipelines.duckdb_config import connect
from pipelines.publish.quality import (
    QUALITY_FILE,
    SCHEMA_FILE,
    normalise_reason,
    quality_report,
    quality_schema_text,
)
from pipelines.publish.release import read_latest
from pipelines.quality import QUALITY_THRESHOLDS, quality_thresholds
from pipelines.resources import WarehouseResource
from tests.conftest import query as _query


@pytest.fixture(scope="module")
def built(fixture_build) -> Path:
    """The session's fixture build (read only: a test that changes it works on a copy)."""
    return fixture_build


@pytest.fixture(scope="module")
def release(built) -> Path:
    latest = read_latest(built / "exports")
    assert latest is not None
    return latest


@pytest.fixture(scope="module")
def scorecard(release) -> dict:
    return json.loads((release / QUALITY_FILE).read_text(encoding="utf-8"))


def _cards(report: dict) -> dict[str, dict]:
    return {c["source"]: c for c in report["sources"]}


def _report_of(db: Path) -> dict:
    con = connect()
    try:
        con.execute("ATTACH ? AS wh (READ_ONLY)", [str(db)])
        return quality_report(con, date(2026, 1, 15))
    finally:
        con.close()


def _with_thresholds(monkeypatch, **by_source: dict) -> None:
    """Replace the declared thresholds of the named sources for this test."""
    sources = tuple(
        dataclasses.replace(s, quality=dataclasses.replace(s.quality, **by_source[s.key]))
        if s.key in by_source else s for s in registry.SOURCES)
    monkeypatch.setattr(registry, "SOURCES", sources)


# --- the file and its schema ------------------------------------------------------------

def test_quality_json_is_listed_like_every_other_file_of_the_release(release):
    manifest = {e["path"]: e for e in json.loads((release / "manifest.json").read_text())}
    sums = (release / "SHA256SUMS").read_text(encoding="utf-8")
    readme = (release / "README.md").read_text(encoding="utf-8")
    for name in (QUALITY_FILE, SCHEMA_FILE):
        assert manifest[name]["format"] == "json"
        assert f"  {name}\n" in sums
        assert f"`{name}`" in readme
    assert (release / SCHEMA_FILE).read_text(encoding="utf-8") == quality_schema_text()


def test_quality_json_validates_against_its_schema(release, scorecard):
    schema = json.loads((release / SCHEMA_FILE).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema,
                                                format_checker=jsonschema.FormatChecker())
    validator.validate(scorecard)
    broken = json.loads(json.dumps(scorecard))
    broken["sources"][0]["quarantine_share"] = 1.5
    broken["sources"][1]["state"] = "fine"
    del broken["totals"]["parsed"]
    assert len(list(validator.iter_errors(broken))) == 3


# --- the counts are the warehouse's own -------------------------------------------------

def test_row_counts_are_the_warehouses_own(built, scorecard):
    db = built / "socfund.duckdb"
    loads = dict(_query(db, "SELECT table_name, parsed FROM meta.loads"))
    cards = _cards(scorecard)
    assert list(cards) == [s.key for s in registry.SOURCES]
    all_parsed = all_loaded = all_held = 0
    for source in registry.SOURCES:
        card = cards[source.key]
        assert [t["table"] for t in card["tables"]] == [d.table for d in source.entities]
        for t in card["tables"]:
            (loaded,) = _query(db, f'SELECT count(*) FROM raw."{t["table"]}"')[0]
            (held,) = _query(db, f'SELECT count(*) FROM quarantine."{t["table"]}"')[0]
            assert (t["parsed"], t["loaded"], t["quarantined"]) == (
                loads[t["table"]], loaded, held), t["table"]
            assert t["reconciles"] is True
        assert card["parsed"] == sum(loads[d.table] for d in source.entities)
        assert card["loaded"] == sum(t["loaded"] for t in card["tables"])
        assert card["quarantined"] == sum(t["quarantined"] for t in card["tables"])
        all_parsed += card["parsed"]
        all_loaded += card["loaded"]
        all_held += card["quarantined"]
    (raw_rows,) = _query(db, "SELECT sum(estimated_size) FROM duckdb_tables() "
                             "WHERE schema_name = 'raw' AND table_name <> 'fetch_log'")[0]
    (held_rows,) = _query(db, "SELECT sum(estimated_size) FROM duckdb_tables() "
                              "WHERE schema_name = 'quarantine'")[0]
    assert scorecard["totals"]["loaded"] == all_loaded == raw_rows
    assert scorecard["totals"]["quarantined"] == all_held == held_rows > 0
    assert scorecard["totals"]["parsed"] == all_parsed == all_loaded + all_held
    assert scorecard["totals"]["judged"] == len(registry.SOURCES)  # every fixture is fetched


def test_quarantine_reasons_are_counted_per_row_with_the_value_cut_out(built, scorecard):
    db = built / "socfund.duckdb"
    sonko = _cards(scorecard)["sonko"]
    expected: Counter = Counter()
    for table in ("sonko__registry2011", "sonko__federal"):
        for (reasons,) in _query(db, f"SELECT reasons FROM quarantine.{table}"):
            expected.update({normalise_reason(r) for r in reasons})
    assert {r["reason"]: r["rows"] for r in sonko["top_quarantine_reasons"]} == dict(expected)
    assert "decision_date: not a date: …" in expected
    assert not any("31.02.2023" in r for r in expected)


@pytest.mark.parametrize(("reason", "normalised"), [
    ("field 'amount': check greater_than(0) failed for -5",
     "field 'amount': check greater_than(0) failed for …"),
    ("record: check start_date_not_after_end_date failed for start_date=2019-02-01, "
     "end_date=2018-07-30", "record: check start_date_not_after_end_date failed for …"),
    ("amount_requested: not a number: '2 350 000,0О'", "amount_requested: not a number: …"),
    ("https://example.invalid/a/b.html: no table of winners",
     "…: no table of winners"),
    ("field 'amount': check not_nullable failed", "field 'amount': check not_nullable failed"),
])
def test_normalise_reason(reason, normalised):
    assert normalise_reason(reason) == normalised


def test_identifiers_matching_and_coverage_are_the_warehouses_own(built, scorecard):
    db = built / "socfund.duckdb"
    cards = _cards(scorecard)
    mentions = {s: (n, valid) for s, n, valid in _query(db, """
        SELECT split_part(source, '_', 1), count(*),
               count(*) FILTER (WHERE inn_valid OR ogrn_valid)
        FROM intermediate.int_organisation_mentions GROUP BY 1""")}
    assert mentions  # the fixtures name recipients
    for source, (n, valid) in mentions.items():
        ids = cards[source]["identifiers"]
        assert (ids["rows"], ids["valid_inn_or_ogrn"]) == (n, valid)
        assert ids["valid_share"] == round(valid / n, 4)
    by_method = _query(db, """
        SELECT count(DISTINCT organisation_key) FILTER (WHERE match_method IN ('inn', 'ogrn')),
               count(DISTINCT organisation_key)
        FROM mart_organisation WHERE list_contains(sources, 'fpg')""")[0]
    fpg = cards["fpg"]["organisations"]
    assert (fpg["by_inn"] + fpg["by_ogrn"], fpg["total"]) == by_method
    grants = _query(db, """
        SELECT source, count(*), count(amount_awarded), count(year), count(region_code),
               count(coalesce(inn, ogrn)) FROM fact_grant GROUP BY source""")
    for source, rows, amount, year, region, identifier in grants:
        first = cards[source]["coverage"][0]
        assert first["table"] == "fact_grant" and first["rows"] == rows
        assert first["fields"] == {"amount": round(amount / rows, 4),
                                   "year": round(year / rows, 4),
                                   "region": round(region / rows, 4),
                                   "identifier": round(identifier / rows, 4)}


def test_fetch_and_reconciliation(built, scorecard):
    db = built / "socfund.duckdb"
    (built_at,) = _query(db, "SELECT max(built_at) FROM meta.build")[0]
    assert scorecard["measured_at"] == built_at.isoformat()
    for source, succeeded in _query(db, "SELECT source, succeeded_at FROM meta.source_status "
                                        "WHERE stage = 'fetch'"):
        fetch = _cards(scorecard)[source]["fetch"]
        assert fetch["age_days"] == round((built_at - succeeded).total_seconds() / 86400, 2)
    rec = scorecard["operator_reconciliation"]
    statuses = dict(_query(db, "SELECT status, count(*) FROM mart_operator_reconciliation "
                               "GROUP BY 1"))
    assert rec["by_status"] == statuses and rec["operator_years"] == sum(statuses.values())
    over = _query(db, "SELECT count(*) FROM mart_operator_reconciliation "
                      "WHERE status = 'ok' AND listed_amount > allocation")[0][0]
    assert len(rec["over_allocation"]) == over


def test_the_declared_thresholds_pass_the_fixture_build(scorecard):
    assert scorecard["totals"]["breaches"] == 0, [c["breaches"] for c in scorecard["sources"]]
    for card in scorecard["sources"]:
        declared = registry.source(card["source"]).quality
        assert card["thresholds"] == dataclasses.asdict(declared)


def test_the_real_samples_build_passes_and_shows_live_only_sources_as_such(real_build):
    release = read_latest(real_build / "exports")
    report = json.loads((release / QUALITY_FILE).read_text(encoding="utf-8"))
    assert report["totals"]["breaches"] == 0, [c["breaches"] for c in report["sources"]]
    states = {c["source"]: c["state"] for c in report["sources"]}
    live_only = {s for s, state in states.items() if state == "live only"}
    assert live_only  # samples/ holds no copy of some sources' documents (ФПГ, for one)
    assert all(not c["breaches"] and c["fetch"]["last_success"] is None
               for c in report["sources"] if c["source"] in live_only)
    assert report["totals"]["live_only"] == len(live_only)
    assert {states[s] for s in states.keys() - live_only} == {"ok"}
    context = build_asset_check_context(
        resources={"warehouse": WarehouseResource(warehouse_dir=str(real_build))})
    assert quality_thresholds(context).passed


# --- live only and stale sources ----------------------------------------------------------

@pytest.fixture
def altered(built, tmp_path) -> Path:
    """A copy of the warehouse whose `meta.source_status` a test rewrites."""
    copy = tmp_path / "socfund.duckdb"
    shutil.copyfile(built / "socfund.duckdb", copy)
    return copy


def test_a_live_only_source_is_shown_as_such_not_as_a_failure(altered, monkeypatch):
    con = duckdb.connect(str(altered))
    con.execute("UPDATE meta.source_status SET status = 'live only', succeeded_at = NULL "
                "WHERE source = 'ebudget'")
    con.close()
    _with_thresholds(monkeypatch, ebudget={"max_fetch_age_days": 0.0,
                                           "max_quarantine_share": 0.0})
    report = _report_of(altered)
    card = _cards(report)["ebudget"]
    assert card["state"] == "live only" and card["fetch"]["last_success"] is None
    assert card["breaches"] == []
    assert report["totals"]["live_only"] == 1


def test_a_stale_source_breaches_its_fetch_age(altered):
    con = duckdb.connect(str(altered))
    (built_at,) = con.execute("SELECT max(built_at) FROM meta.build").fetchone()
    con.execute("UPDATE meta.source_status SET status = 'failed', error = 'HTTP 503', "
                "succeeded_at = ? WHERE source = 'sonko' AND stage = 'fetch'",
                [built_at - timedelta(days=12)])
    con.close()
    card = _cards(_report_of(altered))["sonko"]
    assert card["state"] == "stale" and card["fetch"]["error"] == "HTTP 503"
    assert [(b["threshold"], b["limit"], b["value"]) for b in card["breaches"]] == [
        ("max_fetch_age_days", 8.0, 12.0)]


# --- the check in Dagster and the page -----------------------------------------------------

def test_the_check_passes_on_the_fixture_release(built):
    context = build_asset_check_context(
        resources={"warehouse": WarehouseResource(warehouse_dir=str(built))})
    result = quality_thresholds(context)
    assert result.passed, result.description
    assert result.metadata["breaches"].value == 0


def test_the_page_has_the_quality_section_without_breaches(built):
    page = (built / "site" / "index.html").read_text(encoding="utf-8")
    section = page[page.index('<section id="quality">'):]
    section = section[:section.index("</section>")]
    assert "<h2>Качество данных</h2>" in section
    assert "Нарушений порогов нет." in section
    assert 'class="breach"' not in section
    assert 'href="../exports/' in section and "quality.json" in section
    for source in registry.SOURCES:
        assert f'<table class="quality" data-source="{source.key}">' in section


def test_a_breach_fails_the_check_as_a_warning_in_dagster_and_is_marked_on_the_page(
        built, tmp_path, monkeypatch):
    root = tmp_path / "warehouse"
    root.mkdir()
    shutil.copyfile(built / "socfund.duckdb", root / "socfund.duckdb")
    # sonko holds 2 of 30 parsed rows in quarantine; oprf2013 a valid identifier on 23 of 24.
    _with_thresholds(monkeypatch, sonko={"max_quarantine_share": 0.01},
                     oprf2013={"min_valid_identifier_share": 0.99})
    result = materialize(
        [warehouse.exports, warehouse.site, quality_thresholds],
        resources=make_resources(warehouse_dir=str(root)),
        selection=AssetSelection.assets(warehouse.exports, warehouse.site)
        | AssetSelection.checks(quality_thresholds),
        raise_on_error=False)
    assert result.success  # a warning, not a stopped night
    [evaluation] = [e for e in result.get_asset_check_evaluations()
                    if e.check_name == QUALITY_THRESHOLDS]
    assert not evaluation.passed
    assert evaluation.severity == AssetCheckSeverity.WARN
    assert evaluation.metadata["breached"].value == (
        "oprf2013.min_valid_identifier_share, sonko.max_quarantine_share")
    assert "sonko: 6.7 % of parsed rows quarantined, more than 1.0 %" in evaluation.description

    report = json.loads((read_latest(root / "exports") / QUALITY_FILE).read_text())
    assert report["totals"]["breaches"] == 2
    page = (root / "site" / "index.html").read_text(encoding="utf-8")
    sonko = page[page.index('<table class="quality" data-source="sonko">'):]
    sonko = sonko[:sonko.index("</table>")]
    assert '<tr class="breach" data-breach="max_quarantine_share">' in sonko
    assert '<mark class="breach">⚠ нарушен порог</mark>' in sonko
    assert 'id="quality-sonko" data-breaches="1"' in page
    assert "⚠ Нарушений порогов: 2" in page

