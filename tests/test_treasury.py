"""Form 0503317, expense type 630: the parser on our two layouts and on small workbooks."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from schemas.base import validate
from schemas.treasury import EXECUTION
from scrapers import treasury
from scrapers.samples import FIXTURES_DIR, sample_path

URL_2015 = treasury.REPORT_URLS[(2015, "Ставропольский край")]
URL_2020 = treasury.REPORT_URLS[(2020, "Ставропольский край")]
# SOURCES.md §3b: Ставропольский край, ВР 630, the real totals our samples add up to.
STAVROPOL_630 = {2015: Decimal("2383194997"), 2020: Decimal("1840778072")}
NKO_KBK = {f"0000{s}0000000000630" for s in ("113", "412", "801")} | {
    f"000{s}0000000000630" for s in ("1003", "1006", "1101")}
MUNICIPAL = {"urban_districts", "municipal_districts", "municipal_okrugs", "settlements",
             "urban_settlements", "rural_settlements", "intracity_municipalities"}


def _parse(url: str) -> list[dict]:
    return treasury.parse_0503317(sample_path(url, FIXTURES_DIR).read_bytes(), url=url)


@pytest.fixture(scope="module")
def r2015() -> list[dict]:
    return _parse(URL_2015)


@pytest.fixture(scope="module")
def r2020() -> list[dict]:
    return _parse(URL_2020)


def _total(records: list[dict], budget: str, field: str = "executed") -> Decimal:
    return sum((r[field] for r in records if r["budget"] == budget and r[field] is not None),
               Decimal(0))


def _book(*sheets: tuple[str, list[list]]) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets:
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


TITLE = [
    ["Отчет об исполнении консолидированного бюджета субъекта Российской Федерации"],
    ["на 1 января 2020 г."],
    ["Наименование публично-правового образования: Тестовая область"],
    ["Единица измерения: руб."],
]
HEADER = ["Наименование показателя", "Код строки", "Код расхода по бюджетной классификации",
          "Утвержденные бюджетные назначения", None, "Исполнено", None]
BUDGET_ROW = [None, None, None, "консолидированный бюджет субъекта Российской Федерации",
              "бюджет субъекта Российской Федерации",
              "консолидированный бюджет субъекта Российской Федерации",
              "бюджет субъекта Российской Федерации"]
LINE = ["Субсидии некоммерческим организациям", "200", "000 1006 0000000000 630",
        110.0, 100.0, 99.5, 90.0]


def _small(*rows: list, title: list | None = None, header: list | None = None) -> bytes:
    return _book(("Расходы", [*(TITLE if title is None else title),
                              HEADER if header is None else header, *rows]))


# --- the samples ----------------------------------------------------------------------------


def test_report_urls_are_our_offline_copies():
    assert treasury.HOST.endswith(".invalid")
    for url in treasury.REPORT_URLS.values():
        assert url.startswith(f"https://{treasury.HOST}/")
        assert sample_path(url, FIXTURES_DIR).is_file()


@pytest.mark.parametrize("year", [2015, 2020])
def test_stavropol_630_totals(year, r2015, r2020):
    records = r2015 if year == 2015 else r2020
    assert _total(records, "consolidated") == STAVROPOL_630[year]
    assert {r["year"] for r in records} == {year}
    assert {r["region_name"] for r in records} == {"Ставропольский край"}


@pytest.mark.parametrize("year", [2015, 2020])
def test_budget_columns_add_up_to_the_consolidated_one(year, r2015, r2020):
    """Each figure landed under its own budget: the region's and the municipal ones sum up."""
    records = r2015 if year == 2015 else r2020
    for field in ("executed", "approved"):
        by_kbk: dict[str, dict[str, Decimal]] = defaultdict(dict)
        for r in records:
            by_kbk[r["kbk"]][r["budget"]] = r[field]
        for kbk, budgets in by_kbk.items():
            parts = budgets["subject"] + sum(v for b, v in budgets.items() if b in MUNICIPAL)
            assert parts == budgets["consolidated"], (year, field, kbk)
            assert budgets["consolidated"] > 0


def test_only_expense_type_630_lines_are_read(r2015, r2020):
    for records in (r2015, r2020):
        assert {r["kbk"] for r in records} == NKO_KBK
        assert {r["line_name"] for r in records} == {
            "Субсидии некоммерческим организациям (за исключением государственных "
            "(муниципальных) учреждений)"}
        assert {r["line_code"] for r in records} == {"200"}
    # `630` inside the target article (000 1003 0100063000 321) is not expense type 630
    assert not any("0100063000" in r["kbk"] for r in r2015 + r2020)


def test_title_found_by_text_in_both_layouts(r2015, r2020):
    # 2015: the title sits on the incomes sheet only, the date in words
    assert {r["report_date"] for r in r2015} == {date(2016, 1, 1)}
    assert {r["sheet"] for r in r2015} == {"Расходы"}
    # 2020: `label: value` cells, the date in digits
    assert {r["report_date"] for r in r2020} == {date(2021, 1, 1)}


def test_two_layouts_give_their_own_budget_columns(r2015, r2020):
    assert {r["budget"] for r in r2015} == {
        "consolidated_with_fund", "consolidated", "subject", "urban_districts",
        "municipal_districts", "settlements"}
    assert {r["budget"] for r in r2020} == {
        "consolidated", "subject", "urban_districts", "municipal_okrugs",
        "municipal_districts", "urban_settlements", "rural_settlements"}
    # 2020 lists `Исполнено` before `Утвержденные…`: still read from the right group
    line = next(r for r in r2020 if r["kbk"] == "00001130000000000630"
                and r["budget"] == "consolidated")
    assert line["executed"] == Decimal("301442150.00")
    assert line["approved"] == Decimal("313499836.00")
    assert all(r["approved"] > r["executed"] for r in r2015 + r2020)
    # rows are where a person finds them
    assert {r["_row"] for r in r2015 if r["kbk"] == "00001130000000000630"} == {9}
    assert {r["_row"] for r in r2020 if r["kbk"] == "00001130000000000630"} == {15}


def test_thousand_rubles_are_scaled_before_rounding(r2015, r2020):
    assert {r["unit_multiplier"] for r in r2015} == {1}
    assert {r["unit_multiplier"] for r in r2020} == {1000}
    (road,) = [r for r in r2020 if r["kbk"] == "00004120000000000630"
               and r["budget"] == "consolidated"]
    assert road["executed"] == Decimal("148905922.00")  # 148 905,922 тыс. руб.
    (kopecks,) = [r for r in r2015 if r["kbk"] == "00004120000000000630"
                  and r["budget"] == "consolidated"]
    assert kopecks["executed"] == Decimal("196004876.55")


def test_a_figure_stored_as_text_is_read(r2020):
    (line,) = [r for r in r2020 if r["kbk"] == "00010060000000000630"
               and r["budget"] == "consolidated"]
    assert line["executed"] == Decimal("318000000.00")
    assert not any(r.get("_errors") for r in r2020)


def test_samples_validate_and_model_matches_fields(r2015, r2020):
    for records in (r2015, r2020):
        result = validate(records, EXECUTION)
        assert result.quarantined == []
        assert len(result.valid) == len(records)
    assert set(EXECUTION.columns()) == {k for k in r2015[0] if not k.startswith("_")}
    assert EXECUTION.columns()["executed"] == "DECIMAL(18,2)"


# --- small workbooks ------------------------------------------------------------------------


def test_missing_code_column_names_the_file_and_the_column():
    header = [h if h != "Код расхода по бюджетной классификации" else "Код" for h in HEADER]
    body = _small(BUDGET_ROW, LINE, header=header)
    with pytest.raises(treasury.MissingColumnError,
                       match=r"test://r\.xlsx.*Код расхода по бюджетной классификации"):
        treasury.parse_0503317(body, url="test://r.xlsx")


def test_missing_executed_group_names_it():
    header = [h if h != "Исполнено" else "Кассовое исполнение" for h in HEADER]
    with pytest.raises(ValueError, match=r"test://r\.xlsx.*'Исполнено'.*row 5"):
        treasury.parse_0503317(_small(BUDGET_ROW, LINE, header=header), url="test://r.xlsx")


def test_unknown_budget_column_stops_the_load():
    budgets = [*BUDGET_ROW[:4], "бюджеты сельсоветов", *BUDGET_ROW[5:]]
    with pytest.raises(ValueError, match=r"test://r\.xlsx.*бюджеты сельсоветов"):
        treasury.parse_0503317(_small(budgets, LINE), url="test://r.xlsx")


@pytest.mark.parametrize(("drop", "message"), [
    (2, "no region"), (1, "no report date"), (3, "no unit"),
])
def test_title_without_region_date_or_unit_is_an_error(drop, message):
    title = [row for i, row in enumerate(TITLE) if i != drop]
    with pytest.raises(ValueError, match=rf"test://r\.xlsx: {message}"):
        treasury.parse_0503317(_small(BUDGET_ROW, LINE, title=title), url="test://r.xlsx")


def test_monthly_report_belongs_to_its_own_year_and_eliminations_are_skipped():
    title = [TITLE[0], ["на 1 июля 2020 г."], *TITLE[2:]]
    budgets = [*BUDGET_ROW[:4], "суммы, подлежащие исключению", *BUDGET_ROW[5:]]
    records = treasury.parse_0503317(_small(budgets, LINE, title=title), url="test://r.xlsx")
    assert {r["year"] for r in records} == {2020}
    assert {r["report_date"] for r in records} == {date(2020, 7, 1)}
    by_budget = {r["budget"]: r for r in records}
    assert by_budget["consolidated"]["approved"] == Decimal("110.00")
    assert by_budget["consolidated"]["executed"] == Decimal("99.50")
    # the subject's approved figure sat in the eliminations column: not read
    assert by_budget["subject"]["approved"] is None
    assert by_budget["subject"]["executed"] == Decimal("90.00")


def test_one_column_per_group_takes_the_budget_from_the_title():
    title = [*TITLE, ["Наименование бюджета: Бюджет субъекта Российской Федерации"]]
    header = [*HEADER[:4], "Исполнено"]
    line = [*LINE[:3], "1 000,5", "-"]
    (record,) = treasury.parse_0503317(_small(line, title=title, header=header),
                                       url="test://r.xlsx")
    assert record["budget"] == "subject"
    assert record["region_name"] == "Тестовая область"
    assert record["approved"] == Decimal("1000.50")
    assert record["executed"] is None  # `-` is the form's empty cell


def test_expense_type_from_its_own_column():
    header = ["Наименование показателя", "Код расхода по бюджетной классификации",
              "Код вида расходов", "Утвержденные бюджетные назначения", "Исполнено"]
    title = [*TITLE, ["Наименование бюджета: Консолидированный бюджет Тестовой области"]]
    rows = [["НКО", "000 1006 0000000000", "630", 5.0, 4.0],
            ["Прочие", "000 1006 0000000000", 810, 7.0, 6.0]]
    (record,) = treasury.parse_0503317(_small(*rows, title=title, header=header),
                                       url="test://r.xlsx")
    assert record["kbk"] == "00010060000000000"
    assert record["budget"] == "consolidated"
    assert record["executed"] == Decimal("4.00")


def test_negative_and_unparsable_figures_are_quarantined():
    line = [*LINE[:3], -110.0, "сто", 99.5, 90.0]
    records = treasury.parse_0503317(_small(BUDGET_ROW, line), url="test://r.xlsx")
    result = validate(records, EXECUTION)
    reasons = {q.record["budget"]: " ".join(q.reasons) for q in result.quarantined}
    assert "approved" in reasons["consolidated"]
    assert "approved" in reasons["subject"] and "сто" in reasons["subject"]
    assert result.valid == []


def test_not_a_workbook_names_the_url():
    with pytest.raises(ValueError, match=r"test://r\.xlsx: not a readable"):
        treasury.parse_0503317(b"<html>404</html>", url="test://r.xlsx")
