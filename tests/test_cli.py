"""`socfund parse`: JSON lines out, quarantine on stderr, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
import subprocess
import sys

from pipelines.registry import parse_kinds
from scrapers import oprf2013
from scrapers.samples import FIXTURES_DIR, sample_path


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args],
                          capture_output=True, text=True, timeout=300)


def test_parse_list_names_every_kind():
    out = _run("parse", "--list")
    assert out.returncode == 0
    listed = {line.split("\t")[0] for line in out.stdout.splitlines()}
    assert listed == set(parse_kinds())
    assert {"fpg.list", "fpg.card", "fpg.xlsx", "oprf2013.csv", "sonko.registry2011",
            "sonko.federal", "ebudget.agreements", "treasury.0503317", "municipal.winners",
            "curated.csv", "practice.page", "programme.card"} <= listed


def test_parse_prints_valid_records_and_quarantine_with_exit_1():
    out = _run("parse", "oprf2013.csv", str(sample_path(oprf2013.CSV_URL, FIXTURES_DIR)))
    assert out.returncode == 1  # the sample has a row whose amount does not parse
    valid = [json.loads(line) for line in out.stdout.splitlines()]
    held = [json.loads(line) for line in out.stderr.splitlines() if line.startswith("{")]
    assert valid and held
    assert all(isinstance(r["amount"], int | float) for r in valid)
    assert any(r["ogrn_valid"] is False for r in valid)  # a flag, not a failure
    for q in held:
        assert set(q) == {"row", "record", "reasons"} and q["reasons"]
        assert isinstance(q["row"], int)


def test_parse_clean_file_exits_0(tmp_path):
    lines = sample_path(oprf2013.CSV_URL, FIXTURES_DIR).read_text(encoding="utf-8")
    lines = lines.splitlines(keepends=True)
    clean = tmp_path / "clean.csv"
    clean.write_text(lines[0] + lines[1], encoding="utf-8")
    out = _run("parse", "oprf2013.csv", str(clean))
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) == 1


def test_parse_unreadable_file_exits_2(tmp_path):
    out = _run("parse", "oprf2013.csv", str(tmp_path / "missing.csv"))
    assert out.returncode == 2
    assert "missing.csv" in out.stderr


def test_parse_unknown_kind_exits_2(tmp_path):
    out = _run("parse", "nope.kind", str(tmp_path))
    assert out.returncode == 2 and "unknown kind" in out.stderr


def test_parse_card_prints_iso_dates_numbers_and_flags():
    import re

    from scrapers import fpg

    page = sorted(sample_path(fpg.list_page_url(1), FIXTURES_DIR).parent.glob("item@id=*"))[0]
    out = _run("parse", "fpg.card", str(page))
    assert out.returncode == 0, out.stderr
    (record,) = [json.loads(line) for line in out.stdout.splitlines()]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", record["start_date"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", record["end_date"])
    amounts = [record[k] for k in ("amount_requested", "amount_awarded") if record[k] is not None]
    assert amounts and all(isinstance(a, int | float) for a in amounts)
    assert isinstance(record["inn_valid"], bool)


def test_parse_practice_page_prints_one_indicator_per_line_with_numeric_values():
    from scrapers import practice, programme_card

    for kind, url in (("practice.page", practice.PRACTICE_URLS[0]),
                      ("programme.card", programme_card.PROGRAMME_URLS[0])):
        out = _run("parse", kind, str(sample_path(url, FIXTURES_DIR)))
        assert out.returncode == 0, out.stderr
        records = [json.loads(line) for line in out.stdout.splitlines()]
        assert records
        for record in records:
            assert isinstance(record["value"], int | float)
            assert record["indicator"] and record["sentence"]
