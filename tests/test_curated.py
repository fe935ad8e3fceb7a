"""Curated figures: the shipped CSV files checked against the published documents themselves."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest

from schemas.base import validate
from schemas.curated import FIGURES, flags_of
from schemas.vocabularies.funding import FLAGS, FUNDING_KINDS, INDICATORS
from scrapers import curated
from scrapers.samples import sample_path

SEEDS = Path(__file__).parents[2] / "shared/seeds"
TABLE_HEADING = "ЗАКАЗ НА РЕАЛИЗАЦИЮ СОЦИАЛЬНЫХ ПРОЕКТОВ ГОРОДСКОГО КОНКУРСА"
# The seed's column heading -> what the figure is, in our vocabulary. Written here,
# apart from the CSV, so the test reads the table for itself.
TABLE_COLUMNS = {
    "Количество заказчиков бюджетной сферы": ("municipal_budget", "budget_customers"),
    "Средства бюджета, тыс. руб.": ("municipal_budget", "funds"),
    "Количество заказчиков бизнеса": ("business", "business_customers"),
    "Средства бизнеса, тыс. руб.": ("business", "funds"),
    "Средства, привлеченные исполнителями, тыс. руб.": ("attracted_by_executors", "funds"),
}
KIROV = "Конкурс проектов «Родной район – мой дом, моя забота»"
V_STATISTICS = {
    "participants": 269000, "funds": 4400000, "playgrounds": 10, "territories_improved": 17,
    "publications": 32, "media_stories": 163, "holidays": 85, "exhibitions": 14, "concerts": 29,
    "sports_competitions": 47, "seminars": 26, "lectures": 149, "improvement_events": 116,
}


def _seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def perm_seed() -> str:
    return _seed("003")


@pytest.fixture(scope="module")
def perm() -> list[dict]:
    return curated.parse_curated(sample_path(curated.PERM_URL).read_bytes(), url=curated.PERM_URL)


@pytest.fixture(scope="module")
def kyrgyzstan() -> list[dict]:
    url = curated.KYRGYZSTAN_URL
    return curated.parse_curated(sample_path(url).read_bytes(), url=url)


HEADER = ("figure_id,programme,country,year,funding_kind,indicator,value_text,unit,document,"
          "source_file,locator,flag\n")


def _parse(rows: str, header: str = HEADER) -> list[dict]:
    return curated.parse_curated((header + rows).encode("utf-8"), url="test://figures.csv")


def _row(**changes: str) -> str:
    values = {"figure_id": "t-1", "programme": "П", "country": "RU", "year": "2004",
              "funding_kind": "business", "indicator": "funds", "value_text": "17,990 тыс.руб.",
              "unit": "тыс. руб.", "document": "Д", "source_file": "f.txt", "locator": "слайд 1",
              "flag": ""}
    values.update(changes)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values[c] for c in HEADER.strip().split(","))
    return out.getvalue()


# --- the shipped files against the seeds -----------------------------------------------------


def test_files_live_where_the_urls_point():
    assert curated.HOST.endswith(".invalid")
    assert curated.CURATED_URLS == (curated.PERM_URL, curated.KYRGYZSTAN_URL)
    for url in curated.CURATED_URLS:
        assert url.startswith(f"https://{curated.HOST}/curated/")
        assert sample_path(url).is_file()


def test_perm_1999_2001_table_matches_the_seed(perm, perm_seed):
    lines = perm_seed.splitlines()
    start = lines.index(TABLE_HEADING)
    header = next(line for line in lines[start:] if line.startswith("\t")).split("\t")[1:]
    body = [line.split("\t") for line in lines[start:start + 12] if re.match(r"^\d{4}\t", line)]
    assert [row[0] for row in body] == ["1999", "2000", "2001"]
    assert set(header) == set(TABLE_COLUMNS)

    from_table = [r for r in perm if TABLE_HEADING in r["locator"]]
    assert len(from_table) == 15
    for row in body:
        year = int(row[0])
        for column, cell in zip(header, row[1:], strict=True):
            kind, indicator = TABLE_COLUMNS[column]
            (rec,) = [r for r in from_table if r["year"] == year and r["funding_kind"] == kind
                      and r["indicator"] == indicator]
            assert f"«{column}»" in rec["locator"]
            assert rec["value_text"] == cell
            expected = Decimal(0) if cell == "нет" else Decimal(cell.replace(",", "."))
            assert rec["value"] == expected
            if "тыс. руб." in column:
                assert rec["unit"] == "тыс. руб." and rec["currency"] == "RUB"
                assert rec["amount_rub"] == expected * 1000
            else:
                assert rec["unit"] == "единиц" and rec["amount_rub"] is None


def test_net_is_zero_with_the_text_kept(perm):
    none = [r for r in perm if r["value_text"] == "нет"]
    assert sorted(r["figure_id"] for r in none) == [
        "perm-oi-1999-business-customers", "perm-oi-1999-business-funds"]
    assert all(r["value"] == 0 for r in none)
    funds = next(r for r in none if r["indicator"] == "funds")
    assert funds["amount_rub"] == Decimal("0.00")


def test_every_perm_figure_is_printed_in_the_seed(perm, perm_seed):
    seed_lines = set(perm_seed.splitlines())
    for rec in perm:
        assert rec["value_text"] in perm_seed, rec["figure_id"]
        quoted = re.search(r"строка «(.+)»$", rec["locator"])
        if quoted and TABLE_HEADING not in rec["locator"]:
            # the locator quotes the printed line, which holds the printed figure
            assert quoted.group(1) in seed_lines, rec["figure_id"]
            assert rec["value_text"] in quoted.group(1)
        assert rec["document"] == "Социальное партнерство. Пермский опыт"
        assert rec["source_file"].endswith(next(SEEDS.glob("003_*.txt")).name)
        assert (rec["municipality"], rec["region_code"], rec["country"]) == ("Пермь", "59", "RU")


def test_kirov_fund_and_shares_disagree_and_are_flagged(perm):
    kirov = [r for r in perm if r["programme"] == KIROV]
    (fund,) = [r for r in kirov if r["indicator"] == "competition_fund"]
    shares = [r for r in kirov if r["indicator"] == "contribution"]
    assert fund["value_text"] == "155, 990 тыс.руб."
    assert fund["amount_rub"] == Decimal("155990.00")
    assert [s["value_text"] for s in shares] == [
        "100,0 тыс.руб.", "17,990 тыс.руб.", "20,0 тыс.руб.", "20, 0 тыс.руб."]
    assert [s["party"] for s in shares] == [
        "ЗАО «ЛУКОЙЛ – Пермь»", "ОАО «Хенкель – Пермос»", "ОАО «Сорбент»", "ОАО «Галоген»"]
    assert sum(s["amount_rub"] for s in shares) == Decimal("157990.00") != fund["amount_rub"]
    flagged = {r["figure_id"] for r in perm if "parts_do_not_add_up" in flags_of(r["flag"])}
    assert flagged == {fund["figure_id"]} | {s["figure_id"] for s in shares}


def test_kirov_counts_attracted_funds_and_year(perm):
    kirov = {r["indicator"]: r for r in perm if r["programme"] == KIROV}
    assert kirov["projects_submitted"]["value"] == 11
    assert kirov["projects_funded"]["value"] == 6
    attracted = kirov["funds"]
    assert attracted["funding_kind"] == "attracted_by_executors"
    assert attracted["value"] == Decimal("222.66") and attracted["amount_rub"] == Decimal("222660")
    assert str(attracted["as_of"]) == "2004-11-06"
    assert {r["year"] for r in perm if r["programme"] == KIROV} == {2004}


def test_comma_space_decimals_are_one_number():
    records = _parse(_row(figure_id="a", value_text="155, 990 тыс.руб.")
                     + _row(figure_id="b", value_text="20, 0")
                     + _row(figure_id="c", value_text="222, 66 тыс.руб.")
                     + _row(figure_id="d", value_text="4 400 000 рублей привлеченных средств",
                            unit="руб."))
    assert [r["value"] for r in records] == [
        Decimal("155.990"), Decimal("20.0"), Decimal("222.66"), Decimal("4400000")]
    assert [r["amount_rub"] for r in records] == [
        Decimal("155990.00"), Decimal("20000.00"), Decimal("222660.00"), Decimal("4400000.00")]
    assert all("_errors" not in r for r in records)


def test_v_competition_statistics(perm, perm_seed):
    v = [r for r in perm if r["edition"] == "V"]
    assert {r["indicator"]: r["value"] for r in v} == V_STATISTICS
    assert len(v) == len(V_STATISTICS)
    seed_lines = set(perm_seed.splitlines())
    for rec in v:
        assert rec["value_text"] in seed_lines  # each statistic is a line of its own
        assert rec["year"] is None and flags_of(rec["flag"]) == ["year_not_stated"]
        assert "(НЕКОТОРАЯ СТАТИСТИКА)" in rec["locator"]
    money = [r for r in v if r["amount_rub"] is not None]
    assert [(r["funding_kind"], r["amount_rub"]) for r in money] == [
        ("attracted_by_executors", Decimal("4400000.00"))]


def test_kyrgyzstan_counts_and_actors_no_amounts(kyrgyzstan):
    seed = _seed("001")
    (rec,) = kyrgyzstan
    assert (rec["indicator"], rec["value"], rec["unit"]) == ("municipalities", 11, "единиц")
    assert (rec["period_start"], rec["period_end"], rec["year"]) == (2013, 2014, None)
    assert (rec["country"], rec["region_code"], rec["municipality"]) == ("KG", "KG", None)
    assert rec["amount"] is None and rec["amount_rub"] is None and rec["currency"] is None
    assert "GIZ" in rec["note"] and "Институт политики развития" in rec["note"]
    assert rec["value_text"] in seed and rec["document"] in seed
    assert str(rec["document_date"]) == "2015-08-19" and "19.08.2015" in seed


def test_shipped_files_validate_with_unique_ids(perm, kyrgyzstan):
    everything = perm + kyrgyzstan
    ids = [r["figure_id"] for r in everything]
    assert len(ids) == len(set(ids)) == 37
    result = validate(everything, FIGURES)
    assert result.quarantined == []
    assert {r["funding_kind"] for r in everything} <= FUNDING_KINDS
    assert {r["indicator"] for r in everything} <= INDICATORS
    assert {f for r in everything for f in flags_of(r["flag"])} <= FLAGS


# --- the parser's rules ------------------------------------------------------------------------


def test_missing_required_column_names_column_and_file():
    header = HEADER.replace("document,", "")
    with pytest.raises(ValueError, match=r"test://figures\.csv.*'document'"):
        _parse("", header=header)
    with pytest.raises(ValueError, match="source_url' or 'source_file"):
        _parse("", header=HEADER.replace("source_file,", ""))


def test_printed_unit_must_agree_with_the_unit_column():
    (rec,) = _parse(_row(unit="руб."))
    assert any("another scale" in e for e in rec["_errors"])
    (rec,) = _parse(_row(value_text="1 000 сом", unit="руб."))
    assert any("another currency" in e for e in rec["_errors"])
    assert validate([rec], FIGURES).quarantined


def test_text_without_a_leading_number_is_quarantined():
    (rec,) = _parse(_row(value_text="около ста тыс.руб."))
    assert rec["value"] is None
    (q,) = validate([rec], FIGURES).quarantined
    assert any("no number" in r for r in q.reasons)


def test_som_is_money_but_not_rubles():
    (rec,) = _parse(_row(value_text="1 500 сом", unit="сом", funding_kind="municipal_budget",
                         country="KG"))
    assert (rec["amount"], rec["currency"], rec["amount_rub"]) == (Decimal("1500.00"), "KGS", None)
    assert validate([rec], FIGURES).quarantined == []


# --- the schema's rules ------------------------------------------------------------------------


def _reasons(records: list[dict]) -> list[str]:
    return [r for q in validate(records, FIGURES).quarantined for r in q.reasons]


def test_figure_ids_must_be_unique():
    records = _parse(_row() + _row())
    assert len(validate(records, FIGURES).quarantined) == 2


def test_provenance_is_mandatory():
    assert any("document" in r for r in _reasons(_parse(_row(document=""))))
    assert any("locator" in r for r in _reasons(_parse(_row(locator=""))))
    assert any("source_named" in r for r in _reasons(_parse(_row(source_file=""))))


def test_vocabularies_are_checked():
    assert any("funding_kind" in r for r in _reasons(_parse(_row(funding_kind="sponsors"))))
    assert any("indicator" in r for r in _reasons(_parse(_row(indicator="money"))))
    assert any("flag" in r for r in _reasons(_parse(_row(flag="looks_odd"))))
    # a count indicator in a money unit, and money from an outcome
    assert any("unit_fits_indicator" in r
               for r in _reasons(_parse(_row(indicator="participants"))))
    assert any("unit_fits_indicator" in r for r in _reasons(_parse(_row(funding_kind="outcome"))))


def test_amount_must_be_value_times_the_unit_scale():
    (rec,) = _parse(_row())
    assert validate([rec], FIGURES).quarantined == []
    tampered = dict(rec, amount_rub=Decimal("17.99"))
    assert any("amount_is_value_times_unit_scale" in r for r in _reasons([tampered]))


def test_dated_by_exactly_one_of_year_period_or_flag():
    assert any("dated_by" in r for r in _reasons(_parse(_row(year=""))))
    assert _reasons(_parse(_row(year="", flag="year_not_stated"))) == []
    assert any("dated_by" in r for r in _reasons(_parse(_row(flag="year_not_stated"))))
    header = HEADER.replace("year,", "year,period_start,period_end,")
    good = _row().replace(",2004,", ",,2013,2014,", 1)
    assert _reasons(_parse(good, header=header)) == []
    backwards = _row().replace(",2004,", ",,2014,2013,", 1)
    assert any("dated_by" in r for r in _reasons(_parse(backwards, header=header)))


def test_fund_and_parts_that_disagree_must_be_flagged():
    fund = _row(figure_id="f", indicator="competition_fund", value_text="155, 990 тыс.руб.")
    part_a = _row(figure_id="a", indicator="contribution", value_text="100,0 тыс.руб.")
    part_b = _row(figure_id="b", indicator="contribution", value_text="57,99 тыс.руб.")
    unflagged = validate(_parse(fund + part_a + part_b), FIGURES)
    assert sorted(q.record["figure_id"] for q in unflagged.quarantined) == ["a", "b", "f"]
    assert all(any("parts_that_disagree" in r for r in q.reasons) for q in unflagged.quarantined)
    flag = "parts_do_not_add_up"
    flagged = _parse(fund.replace(",\n", f",{flag}\n") + part_a.replace(",\n", f",{flag}\n")
                     + part_b.replace(",\n", f",{flag}\n"))
    assert _reasons(flagged) == []
    agreeing = _parse(fund + part_a + _row(figure_id="b", indicator="contribution",
                                           value_text="55,990 тыс.руб."))
    assert _reasons(agreeing) == []


def test_model_columns_are_the_parser_fields(perm):
    parsed = {k for k in perm[0] if not k.startswith("_")}
    assert set(FIGURES.columns()) == parsed
    assert FIGURES.key == ("figure_id",)
    assert FIGURES.columns()["amount_rub"] == "DECIMAL(18,2)"
    assert FIGURES.columns()["value"] == "DECIMAL(18,3)"


def test_short_record_and_bad_year_are_quarantined_with_their_row():
    records = _parse(_row(figure_id="a", year="04") + "b,П,RU\n")
    assert [r["_row"] for r in records] == [2, 3]
    assert any("year: not a year" in e for e in records[0]["_errors"])
    assert any("expected 12 fields" in e for e in records[1]["_errors"])
    assert len(validate(records, FIGURES).quarantined) == 2
