"""Presidential grants through operators 2007–2012: every list and the allocations, read from
the real files (`../shared/data/real/operators_2007_2012/`), each defect with its test."""

from __future__ import annotations

import io
from collections import Counter
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from schemas.base import validate
from schemas.operators import ALLOCATIONS, WINNERS
from schemas.vocabularies.operators import OPERATORS, operator_key
from scrapers import operators
from scrapers.values import MissingColumnError

REAL = Path(__file__).parents[2] / "shared/data/real/operators_2007_2012"
OPRF_2013 = Path(__file__).parents[2] / "shared/data/real/oprf_grants_2013.csv"


def _url(name: str) -> str:
    return operators.list_file(name).url


@pytest.fixture(scope="module")
def lists() -> dict[str, list[dict]]:
    return {f.name: operators.parse_winners((REAL / f.name).read_bytes(), url=f.url)
            for f in operators.FILES}


@pytest.fixture(scope="module")
def allocations() -> list[dict]:
    body = (REAL / operators.ALLOCATIONS.name).read_bytes()
    return operators.parse_allocations(body, url=operators.ALLOCATIONS_URL)


def _by_row(records: list[dict], row: int, sheet: str | None = None) -> dict:
    (record,) = [r for r in records if r["_row"] == row and r["sheet"] == sheet]
    return record


# --- which file is which ----------------------------------------------------------------------


def test_every_real_file_has_its_operator_and_year_in_one_table():
    real = {p.name for p in REAL.iterdir() if p.suffix in (".csv", ".xlsx")}
    assert real == {f.name for f in (*operators.FILES, operators.ALLOCATIONS)}
    for f in operators.FILES:
        assert f.url.endswith("/" + f.name) and f.url.startswith(operators.BASE_URL)
        assert operators.list_file(f.url) is f
        assert operators.list_file(f"/tmp/copy/{f.name}") is f  # `socfund parse` on a path
        assert f.operator in OPERATORS
    assert [(f.operator, f.year) for f in operators.FILES if f.name.endswith(".csv")] == [
        ("nbfond", 2007), ("nbfond", 2008), ("nbfond", 2009), ("znanie", 2007),
        ("znanie", 2008), ("inop", 2007), ("inop", 2008), ("inpgo", 2009),
        ("gosclub", 2009), ("soprotivlenie", 2009)]
    with pytest.raises(ValueError, match="not a file of the operators' lists"):
        operators.parse_winners(b"1,2,3\n", url="https://example.org/other.csv")


def test_operator_names_of_every_file_map_to_one_operator():
    import csv

    with OPRF_2013.open(encoding="utf-8-sig") as handle:
        names_2013 = {row["operator"] for row in csv.DictReader(handle)}
    assert {operator_key(n) for n in names_2013} == {
        "inpgo", "isepi", "ligazn", "nbfond", "znanie", "rsm"}
    for spelling, key in [("ИПГО", "inpgo"), ("\u00a0РСМ", "rsm"), ("НБФ", "nbfond"),
                          ("ИСЭПИ", "isepi"), ('Общество "Знание России"', "znanie"),
                          ("Институт проблем гражданского общества", "inpgo")]:
        assert operator_key(spelling) == key
    assert operator_key("Неизвестный оператор") is None


# --- the lists, defect by defect --------------------------------------------------------------


def test_rows_per_list_and_the_real_files_validate(lists):
    counts = {name: len(records) for name, records in lists.items()}
    assert counts == {
        "nbfond_2007.csv": 412, "nbfond_2008.csv": 395, "nbfond_2009.csv": 394,
        "znanie_2007.csv": 270, "znanie_2008.csv": 206, "inop_2007.csv": 30,
        "inop_2008.csv": 66, "inpgo_2009.csv": 97, "gosclub_2009.csv": 114,
        "soprotivlenie_2009.csv": 80, "grants_soprotivlenie.xlsx": 309}
    everything = [r for records in lists.values() for r in records]
    result = validate(everything, WINNERS)
    assert result.parsed == len(everything)
    assert sorted((q.record["copy"], q.row) for q in result.quarantined) == [
        ("nbfond_2008.csv", 159), ("nbfond_2008.csv", 343)]
    assert set(WINNERS.columns()) == {k for k in everything[0] if not k.startswith("_")} | {
        "inn_valid"}
    assert WINNERS.columns()["amount"] == "DECIMAL(18,2)"


def test_nbfond_region_headings_and_repeated_headers(lists):
    records = lists["nbfond_2007.csv"]
    assert not any(r["organisation_name"] == "Организация" for r in records)
    first = records[0]
    assert (first["_row"], first["region"]) == (3, "Республика Адыгея")
    assert _by_row(records, 6)["region"] == "Республика Алтай"
    assert Counter(r["region"] for r in records)["Москва"] == 71
    assert all(r["region"] for r in lists["nbfond_2008.csv"])


def test_application_number_taken_out_of_the_project_text(lists):
    first = lists["nbfond_2007.csv"][0]
    assert first["application_number"] == "17"
    assert first["title"].endswith("“Хоспис”") and "заявки" not in first["title"]
    assert first["grant_key"] == "nbfond:2007:17"
    assert not any("№ заявки" in (r["title"] or "") for r in lists["nbfond_2008.csv"])
    # One 2007 project gives no number; two numbers are given twice, to two organisations.
    assert sum(r["application_number"] is None for r in lists["nbfond_2007.csv"]) == 1
    repeated = Counter(r["application_number"] for r in lists["nbfond_2007.csv"])
    assert sorted(n for n, c in repeated.items() if c > 1 and n) == ["338", "707"]


def test_html_entities_are_decoded(lists):
    first = lists["nbfond_2007.csv"][0]
    assert first["organisation_name"].startswith("Майкопская городская общественная "
                                                 "организация “Центр психологической")
    for name in ("nbfond_2007.csv", "nbfond_2008.csv", "nbfond_2009.csv"):
        for record in lists[name]:
            assert "&#" not in (record["organisation_name"] + (record["title"] or ""))


def test_word_picture_markup_and_box_drawing_are_cut_out_of_names(lists):
    # znanie_2008 rows 160, 161, 175, … carry Word's `[if gte vml 1]><v:shape …` before the
    # name, with a file path naming the compiler's own computer account: never loaded.
    row_160 = _by_row(lists["znanie_2008.csv"], 160)
    assert row_160["organisation_name"].startswith("Курганское региональное отделение")
    for name, records in lists.items():
        for record in records:
            text = " ".join(str(record.get(k) or "") for k in
                            ("organisation_name", "title", "place", "region", "city",
                             "territory"))
            for mark in ("vml", "endif", "v:shape", "DOCUME", "file:///", "═"):
                assert mark not in text, (name, record["_row"], mark)


def test_nbfond_amounts_written_every_way(lists):
    rows_2007, rows_2008 = lists["nbfond_2007.csv"], lists["nbfond_2008.csv"]
    assert (_by_row(rows_2007, 3)["amount_text"], _by_row(rows_2007, 3)["amount"]) == (
        "942.916", Decimal("942916.00"))
    assert _by_row(rows_2007, 6)["amount"] == Decimal("900000.00")  # `900 тыс.`
    assert _by_row(rows_2007, 386)["amount"] == Decimal("303535.00")  # `303,535`
    assert _by_row(rows_2007, 208)["amount"] == Decimal("482000.00")  # `482 тыс`
    expected_2008 = {25: ("1 млн. 300 тыс.", "1300000"), 29: ("2 млн. 263,800", "2263800"),
                     88: ("2,5 млн.", "2500000"), 142: ("1\u00a0 079.500", "1079500"),
                     172: ("600\u00a0 тыс.", "600000"), 304: ("4,010,905", "4010905"),
                     336: ("1 млн. 290 тыс. 560", "1290560"),
                     419: ("1млн. 20 тыс. 320", "1020320")}
    for row, (text, amount) in expected_2008.items():
        record = _by_row(rows_2008, row)
        assert (record["amount_text"], record["amount"]) == (text, Decimal(amount)), row
    # 2007 prints 284 amounts for 412 grants: the others are loaded without one.
    assert sum(r["amount"] is not None for r in rows_2007) == 284
    assert all(r["amount_text"] is None for r in rows_2007 if r["amount"] is None)


def test_a_fraction_without_a_scale_is_quarantined_with_the_reason(lists):
    record = _by_row(lists["nbfond_2008.csv"], 159)
    assert record["amount"] is None and record["amount_text"] == "373,5"
    (quarantined,) = validate([record], WINNERS).quarantined
    assert any("a fraction of a ruble" in r for r in quarantined.reasons)


def test_nbfond_2009_numbered_rows_and_runs_of_spaces(lists):
    first = lists["nbfond_2009.csv"][0]
    assert (first["row_number"], first["application_number"]) == (1, "1")
    assert first["amount_text"] == "350   000,00" and first["amount"] == Decimal("350000.00")
    assert first["region"] == "Красноярский край"
    assert first["title"].startswith("“Социальный банк”: создание антикризисного")
    assert _by_row(lists["nbfond_2009.csv"], 5)["application_number"] == "8"


def test_znanie_tabs_inside_cells_and_2008s_extra_column(lists):
    first = lists["znanie_2007.csv"][0]
    assert first["organisation_name"] == ("Автономная некоммерческая организация содействия "
                                          "молодой семье \"Венец\"")
    assert first["application_number"] == "3" and first["row_number"] is None
    assert (first["amount_text"], first["amount"]) == ("400 \t\t\t000,00", Decimal("400000.00"))
    assert first["region"] == "Приморский край"
    assert _by_row(lists["znanie_2007.csv"], 2)["amount"] == Decimal("1500000.00")
    second = lists["znanie_2008.csv"][0]
    assert second["territory"].startswith("Москва, Санкт-Петербург, Волгоград")
    assert "Германия" in second["territory"] and second["region"] is None
    assert second["amount"] == Decimal("3000000.00")


def test_inop_organisation_with_region_and_city_after_a_comma(lists):
    split = {r["row_number"]: r for r in lists["inop_2007.csv"] if r["city"]}
    assert sorted(split) == [22, 24, 29, 30]
    assert (split[22]["region"], split[22]["city"]) == ("Республика Карелия", "г.Петрозаводск")
    assert split[22]["organisation_name"].endswith("гражданского образования и прав человека\"")
    assert (split[24]["region"], split[24]["city"]) == (None, "г.Москва")
    # A comma inside the name alone does not split it.
    assert _by_row(lists["inop_2008.csv"], 1)["city"] is None
    assert _by_row(lists["inop_2007.csv"], 7)["amount"] == Decimal("17380000.00")
    assert _by_row(lists["inop_2008.csv"], 2)["amount_text"] == "650 000"


def test_inpgo_city_region_and_district_in_one_cell(lists):
    records = lists["inpgo_2009.csv"]
    second = _by_row(records, 2)
    assert (second["city"], second["region"], second["federal_district"]) == (
        "г.Курск", "Курская область", "ЦФО")
    assert second["territory"].startswith("г. Курск, Курская область, г. Орел")
    assert (records[0]["city"], records[0]["region"], records[0]["federal_district"]) == (
        "г. Москва", None, "ЦФО")
    assert all(r["federal_district"] for r in records)
    shapes = {r["place"]: (r["city"], r["region"]) for r in records}
    assert shapes["с. Верхняя Иволга Республика Бурятия СФО"] == (
        "с. Верхняя Иволга", "Республика Бурятия")
    assert shapes["Приморский край, Тернейсткий район, п. Пластун ДФО"] == (
        "Тернейсткий район, п. Пластун", "Приморский край")


def test_gosclub_inn_application_numbers_and_box_drawing_amounts(lists):
    records = lists["gosclub_2009.csv"]
    first = records[0]
    assert (first["application_number"], first["inn"]) == ("02-03", "7710264307")
    assert (first["amount_text"], first["amount"]) == ("2   000 000,0═", Decimal("2000000.00"))
    assert all(r["amount"] is not None for r in records)
    assert "0606001468" in {r["inn"] for r in records}  # written `0606001468.`
    flagged = [r for r in validate(records, WINNERS).valid if r["inn_valid"] is False]
    assert [r["_row"] for r in flagged] == [60]  # loaded and flagged, like a bad ОГРН


def test_workbook_sheets_with_their_own_headers_and_column_order(lists):
    records = lists["grants_soprotivlenie.xlsx"]
    assert Counter(r["year"] for r in records) == {2009: 80, 2010: 74, 2011: 81, 2012: 74}
    first_2012 = _by_row(records, 2, "2012")  # 2012: the amount before the city
    assert (first_2012["amount"], first_2012["city"]) == (Decimal("3000000.00"), "г. Москва")
    assert first_2012["amount_text"] == "3 000 000,00"
    first_2011 = _by_row(records, 2, "2011")
    assert first_2011["organisation_name"].startswith("Общероссийская Ассоциация")  # no NBSP
    assert (first_2011["row_number"], first_2011["application_number"]) == (1, "5")
    last_2011 = _by_row(records, 89, "2011")  # a number cell among text amounts
    assert (last_2011["amount"], last_2011["amount_text"]) == (Decimal("3000000.00"), "3000000")
    mutual_2010 = _by_row(records, 5, "2010")
    assert mutual_2010["organisation_name"].startswith("Мурманское региональное")
    assert mutual_2010["amount"] == Decimal("157100.00")
    assert {r["copy"] for r in records} == {"grants_soprotivlenie.xlsx"}


def test_workbook_rows_that_continue_the_row_above_are_joined(lists):
    records = lists["grants_soprotivlenie.xlsx"]
    joined = {(r["sheet"], r["_row"]): r["continued_rows"] for r in records
              if r["continued_rows"]}
    assert joined == {("2009", 17): "18", ("2009", 55): "56", ("2011", 34): "35",
                      ("2011", 51): "52,53", ("2011", 56): "57", ("2011", 77): "79",
                      ("2011", 80): "81"}
    name = _by_row(records, 55, "2009")["organisation_name"]
    assert name.endswith("Организация «Региональный центр по соблюдению прав потребителей»")
    assert _by_row(records, 51, "2011")["organisation_name"].endswith(
        "НЕКОММЕРЧЕСКОЕ ПАРТНЕРСТВО «СЛАВЯНСКИЙ ПРАВОВОЙ ЦЕНТР»")


def test_summary_sheet_checks_the_lists_and_references_are_never_read(lists):
    body = (REAL / "grants_soprotivlenie.xlsx").read_bytes()
    stated = operators.stated_winners(body)
    assert stated == {2009: 80, 2010: 74, 2011: 81, 2012: 74}
    counted = Counter(r["year"] for r in lists["grants_soprotivlenie.xlsx"])
    assert dict(counted) == stated
    assert {r["sheet"] for r in lists["grants_soprotivlenie.xlsx"]} == {
        "2009", "2010", "2011", "2012"}


def test_rubles_per_operator_and_year(lists):
    total: Counter = Counter()
    for records in lists.values():
        for r in records:
            total[(r["operator_key"], r["year"], r["copy"])] += r["amount"] or 0
    assert total[("nbfond", 2009, "nbfond_2009.csv")] == Decimal("472000000.00")
    assert total[("gosclub", 2009, "gosclub_2009.csv")] == Decimal("256500000.00")
    assert total[("soprotivlenie", 2009, "soprotivlenie_2009.csv")] == \
        total[("soprotivlenie", 2009, "grants_soprotivlenie.xlsx")] == Decimal("159672000.00")


def test_no_person_is_named(lists):
    fields = set().union(*(r.keys() for records in lists.values() for r in records))
    assert not {"head", "director", "person", "contact"} & fields
    text = " ".join(str(v) for records in lists.values() for r in records for v in r.values())
    assert "справка" not in text.lower()


# --- the two copies of «Сопротивление» 2009 ----------------------------------------------------


def _row(**values) -> dict:
    base = {"operator_key": "soprotivlenie", "year": 2009, "application_number": None,
            "organisation_name": "Фонд «А»", "title": "Проект", "amount": Decimal(1),
            "city": None, "region": None}
    return base | values


def test_merge_copies_by_application_number_else_organisation_and_project():
    records = [
        _row(copy="a.csv", application_number="7", organisation_name="Фонд «А»"),
        _row(copy="a.csv", application_number="8", organisation_name="Фонд  Б",
             title="Дети"),
        _row(copy="a.csv", application_number="9", organisation_name="Только в CSV"),
        _row(copy="b.xlsx", application_number="7", organisation_name="Фонд А (иначе)",
             amount=Decimal(2)),
        _row(copy="b.xlsx", organisation_name="фонд «б»", title="ДЕТИ."),
        _row(copy="b.xlsx", organisation_name="Только в книге"),
        _row(copy="x.csv", operator_key="gosclub", application_number="1",
             organisation_name="Другой оператор"),
    ]
    merged = operators.merge_copies(records)
    assert len(merged) == 5
    by_name = {r["organisation_name"]: r for r in merged}
    assert by_name["Фонд «А»"]["matched_by"] == "application_number"
    assert by_name["Фонд «А»"]["found_in"] == ("a.csv", "b.xlsx")
    assert by_name["Фонд «А»"]["differences"] == ("amount", "organisation_name")
    assert by_name["Фонд  Б"]["matched_by"] == "organisation_and_project"
    assert by_name["Только в CSV"]["only_in"] == "a.csv"
    assert by_name["Только в книге"]["only_in"] == "b.xlsx"
    single = [r for r in merged if r["operator_key"] == "gosclub"]
    assert single[0]["only_in"] is None and single[0]["found_in"] == ("x.csv",)


def test_merge_copies_on_the_real_soprotivlenie_2009(lists):
    both = [r for name in ("soprotivlenie_2009.csv", "grants_soprotivlenie.xlsx")
            for r in lists[name] if r["year"] == 2009]
    assert Counter(r["copy"] for r in both) == {"soprotivlenie_2009.csv": 80,
                                                "grants_soprotivlenie.xlsx": 80}
    merged = operators.merge_copies(both)
    assert len(merged) == 80
    assert Counter((r["matched_by"], r["only_in"]) for r in merged) == {
        ("organisation_and_project", None): 80}
    assert all(r["copy"] == "soprotivlenie_2009.csv" for r in merged)  # the numbered copy
    assert not any(r["differences"] for r in merged)


# --- allocations -------------------------------------------------------------------------------


def test_allocations_per_operator_and_year(allocations):
    result = validate(allocations, ALLOCATIONS)
    assert result.quarantined == [] and len(result.valid) == 28
    by_key = {r["allocation_key"]: r for r in allocations}
    assert by_key["nbfond:2009"]["amount"] == Decimal("500000000.00")
    assert by_key["ligazn:2013"]["amount"] == Decimal("570000000.00")
    assert "ligazn:2009" not in by_key  # `-`: not an operator that year
    assert by_key["znanie:2013"]["operator_as_written"] == 'Общество "Знание России"'
    assert by_key["isepi:2013"]["operator"].startswith("Фонд «Институт социально-")
    sums: Counter = Counter()
    for r in allocations:
        sums[r["year"]] += r["amount"]
        assert r["programme_budget"] is not None and r["decree_url"].startswith("http")
    budgets = {r["year"]: r["programme_budget"] for r in allocations}
    assert budgets == {2009: Decimal("1200000000.00"), 2010: Decimal("1000000000.00"),
                       2011: Decimal("1000000000.00"), 2012: Decimal("1000000000.00"),
                       2013: Decimal("2320000000.00")}
    assert dict(sums) == budgets  # the operators' allocations add up to each year's budget
    assert by_key["inop:2009"]["decree_url"] == "http://www.kremlin.ru/acts/3475"
    assert set(ALLOCATIONS.columns()) == {k for k in allocations[0] if not k.startswith("_")}


def test_allocations_workbook_is_not_a_list_and_lists_are_not_allocations():
    body = (REAL / operators.ALLOCATIONS.name).read_bytes()
    with pytest.raises(ValueError, match="holds no winners"):
        operators.parse_winners(body, url=operators.ALLOCATIONS_URL)
    with pytest.raises(ValueError, match="not the allocations workbook"):
        operators.parse_allocations(b"", url=_url("nbfond_2007.csv"))


def test_a_short_csv_record_is_quarantined_with_its_width():
    short = "1,1,Организация,Проект,350\n".encode()  # five fields of six
    (record,) = operators.parse_winners(short, url=_url("nbfond_2009.csv"))
    assert "record: expected 6 fields, got 5" in record["_errors"]
    assert validate([record], WINNERS).quarantined


def _workbook(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "2012"
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_sheet_columns_are_found_by_their_words_and_a_missing_one_stops_the_load():
    reordered = _workbook([["Сумма гранта, руб.", "Город", "Название проекта", "№",
                            "Наименование\nНКО"],
                           ["1 000,00", "г. Тула", "Проект", 1, "Фонд"]])
    (record,) = operators.parse_winners(reordered, url=_url("grants_soprotivlenie.xlsx"))
    assert (record["amount"], record["city"], record["row_number"], record["organisation_name"]
            ) == (Decimal("1000.00"), "г. Тула", 1, "Фонд")
    missing = _workbook([["№", "Наименование НКО", "Название проекта", "Город"],
                         [1, "Фонд", "Проект", "г. Тула"]])
    with pytest.raises(MissingColumnError, match=r"'Сумма гранта'.*sheet '2012'.*Город"):
        operators.parse_winners(missing, url=_url("grants_soprotivlenie.xlsx"))
