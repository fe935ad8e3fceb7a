"""The benchmark's own code, at a tiny scale: a deterministic corpus the real parsers read,
with about 5 % of its records quarantined, and a well-formed results file."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import polars as pl
import pytest

from bench import fpg_corpus, generate
from bench import run as bench_run
from pipelines.fpg import contest_slug
from schemas import ebudget as ebudget_schema
from schemas import fpg as fpg_schema
from schemas import sonko as sonko_schema
from schemas.base import validate_parsed
from scrapers import ebudget, fpg, sonko
from scrapers.columns import records_of
from scrapers.rawstore import RawStore

SCALE = 0.001
SEED = 7


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    warehouse = tmp_path_factory.mktemp("bench") / "warehouse"
    generate.generate(warehouse, seed=SEED, scale=SCALE, workers=2, base=False)
    return warehouse


def _manifests(warehouse: Path) -> dict[str, bytes]:
    raw = warehouse / "raw"
    return {p.relative_to(raw).as_posix(): p.read_bytes() for p in sorted(raw.rglob("*.json"))
            if p.name != generate.STAMP_NAME}


def test_same_seed_and_scale_give_the_same_corpus(corpus, tmp_path):
    again = tmp_path / "again"
    stamp = generate.generate(again, seed=SEED, scale=SCALE, workers=1, base=False)
    assert stamp["corpus_sha256"] == generate.read_stamp(corpus)["corpus_sha256"]
    assert _manifests(again) == _manifests(corpus)
    assert generate.corpus_exists(again, SEED, SCALE)
    assert not generate.corpus_exists(again, SEED + 1, SCALE)


def test_manifests_have_the_pipeline_layout(corpus):
    raw = corpus / "raw"
    kinds = {d["kind"] for d in json.loads((raw / "fpg" / "manifest.json").read_text())
             ["documents"]}
    assert kinds == {"list", "open_data", "xlsx"}
    cards = sorted((raw / "fpg" / "cards").glob("*.json"))
    assert cards
    for path in cards:
        manifest = json.loads(path.read_text())
        assert set(manifest) == {"source", "contest", "documents", "failures"}
        assert path.stem == contest_slug(manifest["contest"])
        assert all(set(d) == {"kind", "url", "sha256", "fetched_at", "not_modified"}
                   and d["kind"] == "card" for d in manifest["documents"])
    for source, kind in (("sonko", "federal"), ("ebudget", "page")):
        manifest = json.loads((raw / source / "manifest.json").read_text())
        assert {d["kind"] for d in manifest["documents"]} == {kind}


def _docs(raw: Path, path: str, kind: str) -> list[dict]:
    manifest = json.loads((raw / path).read_text(encoding="utf-8"))
    return [d for d in manifest["documents"] if d["kind"] == kind]


def test_corpus_parses_with_the_real_parsers_and_about_5_percent_is_quarantined(corpus):
    raw = corpus / "raw"
    store = RawStore(raw)
    parsed = quarantined = 0

    def check(records: list[dict] | pl.DataFrame, entity) -> None:
        nonlocal parsed, quarantined
        result = validate_parsed(records, entity)
        assert result.parsed == len(records)
        parsed += result.parsed
        quarantined += len(result.quarantined)

    bulk = _docs(raw, "fpg/manifest.json", "xlsx")[0]
    applications = records_of(fpg.parse_xlsx(store.get("fpg", bulk["sha256"]), url=bulk["url"]))
    assert len(applications) == fpg_corpus.counts(SCALE)[0]
    check(applications, fpg_schema.APPLICATIONS)

    cards = [r for path in sorted((raw / "fpg" / "cards").glob("*.json"))
             for d in _docs(raw, path.relative_to(raw).as_posix(), "card")
             for r in fpg.parse_card(store.get("fpg", d["sha256"]), url=d["url"])]
    assert len(cards) == fpg_corpus.counts(SCALE)[1]
    numbers = set(pl.DataFrame(applications)["application_number"])
    assert sum(c["application_number"] in numbers for c in cards) >= 0.9 * len(cards)
    check(cards, fpg_schema.CARDS)

    listed = [item for d in _docs(raw, "fpg/manifest.json", "list")
              for item in fpg.parse_list(store.get("fpg", d["sha256"]), url=d["url"])]
    assert {i["card_id"] for i in listed} == {c["card_id"] for c in cards}

    federal = _docs(raw, "sonko/manifest.json", "federal")[0]
    check(sonko.parse_federal(store.get("sonko", federal["sha256"])), sonko_schema.FEDERAL)
    for page in _docs(raw, "ebudget/manifest.json", "page"):
        check(ebudget.parse_agreements(store.get("ebudget", page["sha256"])),
              ebudget_schema.AGREEMENTS)

    assert 0.02 <= quarantined / parsed <= 0.09, (quarantined, parsed)


def test_not_enough_disk_is_refused_with_a_reason(tmp_path):
    with pytest.raises(generate.NotEnoughDisk, match="GB free"):
        generate.check_disk(tmp_path / "not" / "yet", 1 << 60)


def test_run_writes_a_well_formed_results_file(corpus, tmp_path):
    results_path = tmp_path / "results.json"
    # The rebuilds need minutes even at this scale; the stages that need the published
    # warehouse say they were skipped.
    code = bench_run.main(["--warehouse", str(corpus), "--stages", "cards,xlsx,aggregate",
                           "--results", str(results_path), "--scratch", str(tmp_path / "s")])
    assert code == 0
    results = json.loads(results_path.read_text(encoding="utf-8"))
    assert {"date", "machine", "versions", "duckdb", "corpus", "stages"} <= set(results)
    assert results["machine"]["cores"] >= 1 and results["machine"]["ram_gb"] > 0
    assert results["versions"]["duckdb"] and results["versions"]["dagster"]
    assert results["corpus"]["scale"] == SCALE
    by_name = {s["name"]: s for s in results["stages"]}
    assert [s["name"] for s in results["stages"]] == ["cards", "xlsx", "aggregate"]
    for name in ("cards", "xlsx"):
        stage = by_name[name]
        assert stage["status"] == "ok", stage
        assert stage["items"] > 0 and stage["wall_s"] > 0 and stage["peak_rss_mb"] > 0
        # The processor time of the stage's process: no less than its user and system parts.
        baseline = stage["baseline"]
        for run in (*stage.get("runs", [stage]), *baseline.get("runs", [baseline])):
            assert run["user_s"] > 0 and run["system_s"] >= 0
            assert run["cpu_s"] == pytest.approx(run["user_s"] + run["system_s"], abs=0.011)
        assert stage["baseline"]["items"] == stage["items"]
        assert stage["ratio"] > 0 and isinstance(stage["passed"], bool)
    assert by_name["aggregate"]["status"] == "skipped"
    # A compared stage runs three times, in turn with its baseline; its ratio is of the medians.
    xlsx = by_name["xlsx"]
    assert len(xlsx["runs"]) == len(xlsx["baseline"]["runs"]) == 3
    assert xlsx["wall_s"] == round(statistics.median(r["wall_s"] for r in xlsx["runs"]), 2)
    assert xlsx["baseline"]["wall_s"] == \
        round(statistics.median(r["wall_s"] for r in xlsx["baseline"]["runs"]), 2)
    assert xlsx["ratio"] == round(xlsx["wall_s"] / xlsx["baseline"]["wall_s"], 3)
    # The reference (imports and fastexcel's bare read) runs in turn with them, over the same
    # rows; its ratio is to the same baseline.
    reference = xlsx["reference"]
    assert reference["name"] == "xlsx-reference" and len(reference["runs"]) == 3
    assert reference["items"] == xlsx["items"]
    assert set(reference["details"]["seconds_by_step"]) == {"imports", "read", "fastexcel"}
    assert reference["ratio"] == round(reference["wall_s"] / xlsx["baseline"]["wall_s"], 3)
    assert "cards" in by_name and "reference" not in by_name["cards"]
    row = bench_run.markdown_table(results).split("ФПГ bulk XLSX")[1].split("\n")[0]
    assert "median" in row and f"= {reference['ratio']:.2f}×" in row


def test_the_ebudget_stage_parses_as_the_load_step_and_loads_every_page(corpus, tmp_path):
    """(Pages shared between processes give what one process gives: tests/test_parsing.py.)"""
    from bench import stages
    from pipelines import parsing

    result = stages.stage_ebudget(corpus, tmp_path, 2)
    pages = _docs(corpus / "raw", "ebudget/manifest.json", "page")
    assert result["items"] == len(pages)
    assert result["processes"] == parsing.parse_workers()
    store = RawStore(corpus / "raw")
    parsed = {"ebudget__agreements": 0, "ebudget__periods": 0}
    for page in pages:
        body = store.get("ebudget", page["sha256"])
        parsed["ebudget__agreements"] += ebudget.parse_agreements(body).height
        parsed["ebudget__periods"] += ebudget.parse_agreement_periods(body).height
    for table, rows in result["rows"].items():
        assert rows["parsed"] == parsed[table] == rows["loaded"] + rows["quarantined"]


def test_the_references_read_what_their_baselines_read(corpus, tmp_path):
    """Each reference reads the same input as its baseline (the same rows, the same pages and
    agreements), after the imports every validating and loading path makes."""
    from bench import stages

    for name in ("xlsx", "federal", "ebudget"):
        reference = stages.STAGES[f"{name}-reference"](corpus, tmp_path, 1)
        baseline = stages.STAGES[f"{name}-baseline"](corpus, tmp_path, 1)
        assert reference["items"] == baseline["items"] > 0, name
        assert "imports" in reference["seconds_by_step"], name
        if name == "ebudget":
            assert reference["agreements"] == baseline["agreements"] > 0
