"""ФПГ open data: the catalogue page's link, and the projects XLSX read by its header text."""

from __future__ import annotations

import io
import json
import re
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from schemas.base import validate, validate_frame
from schemas.fpg import APPLICATIONS
from schemas.identifiers import is_valid_inn
from scrapers import fpg
from scrapers.columns import records_of
from scrapers.samples import FIXTURES_DIR, sample_path

CATALOGUE = sample_path(fpg.OPEN_DATA_URL, FIXTURES_DIR)
XLSX_URL = f"https://{fpg.HOST}/upload/opendata/projects.xlsx"
CARD_FILES = sorted((FIXTURES_DIR / fpg.HOST / "public" / "application").glob("item@id=*"))
HEADERS = ["Номер заявки", "Конкурс", "Организация", "ОГРН", "ИНН", "Регион",
           "Название проекта", "Грантовое направление", "Запрошенная сумма",
           "Общая сумма расходов", "Начало реализации", "Окончание реализации",
           "Статус проекта", "Дата решения о гранте", "Размер гранта"]


@pytest.fixture(scope="module")
def bulk() -> bytes:
    return sample_path(XLSX_URL, FIXTURES_DIR).read_bytes()


@pytest.fixture(scope="module")
def sheet(bulk):
    """The sample read by openpyxl: the independent view of what the file holds."""
    return openpyxl.load_workbook(io.BytesIO(bulk)).active


@pytest.fixture(scope="module")
def records(bulk) -> list[dict]:
    return records_of(fpg.parse_xlsx(bulk, url=XLSX_URL))


@pytest.fixture(scope="module")
def by_number(records) -> dict[str, dict]:
    return {r["application_number"]: r for r in records}


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _header_row(sheet) -> int:
    for row in sheet.iter_rows(min_row=1, max_row=20):
        if row[0].value and "заявки" in str(row[0].value):
            return row[0].row
    raise LookupError("no header in the sample")


# --- the catalogue page -------------------------------------------------------------------


def test_bulk_link_is_found_on_the_catalogue_page():
    body = CATALOGUE.read_bytes()
    assert body.count(b".xlsx") >= 2  # the projects file and the co-financing one
    assert fpg.find_bulk_url(body) == XLSX_URL
    assert sample_path(XLSX_URL, FIXTURES_DIR).is_file()
    mirror = "http://127.0.0.1:9000/public/open-data"
    assert fpg.find_bulk_url(body, mirror) == "http://127.0.0.1:9000/upload/opendata/projects.xlsx"


def test_the_cofinancing_dataset_is_not_taken_for_the_projects_file():
    body = CATALOGUE.read_bytes()
    without_projects = re.sub(rb'href="/upload/opendata/projects.xlsx"', b'href="#"', body)
    with pytest.raises(ValueError, match="open-data"):
        fpg.find_bulk_url(without_projects)


def test_a_catalogue_without_the_link_names_the_page():
    with pytest.raises(ValueError, match=re.escape(fpg.OPEN_DATA_URL)):
        fpg.find_bulk_url(b"<html><body><p>Nothing here</p></body></html>")


# --- header and rows ----------------------------------------------------------------------


def test_header_is_found_below_the_title_rows(sheet, records):
    header = _header_row(sheet)
    assert header > 1
    assert sheet.cell(row=1, column=1).value  # a title above the header
    assert records[0]["_row"] == header + 1
    data_rows = [r for r in sheet.iter_rows(min_row=header + 1, values_only=True) if any(r)]
    assert len(records) == len(data_rows) >= 50


def test_row_numbers_are_the_ones_excel_shows(sheet, records):
    for record in records:
        assert sheet.cell(row=record["_row"], column=1).value == record["application_number"]


def test_headers_with_line_breaks_no_break_spaces_and_odd_spacing(sheet, by_number):
    header = [c.value for c in sheet[_header_row(sheet)]]
    assert any("\n" in h for h in header)
    assert any("\u00a0" in h for h in header)
    assert any("  " in h for h in header)
    assert any("-\n" in h for h in header)  # a word hyphenated across lines
    row = by_number["19-2-013580"]
    assert row["direction"] == "охрана окружающей среды и защита животных"
    assert row["status"] == "Победитель конкурса"
    assert row["decision_date"] == date(2019, 6, 10)
    assert row["evaluation"] == "проект реализован неудовлетворительно"
    assert row["violations"].startswith("нецелевое использование")


def test_every_card_application_is_in_the_bulk_file(by_number):
    numbers = set()
    for path in CARD_FILES:
        numbers |= set(re.findall(r"Заявка №\u00a0(\d{2}-\d-\d{6})<",
                                  path.read_text(encoding="utf-8")))
    assert len(numbers) == len(CARD_FILES) >= 12
    assert numbers <= set(by_number)


def test_contest_names_lose_their_year_abbreviation(sheet, records):
    raw = {c.value for c in sheet["B"] if c.value and "конкурс" in str(c.value)}
    assert "Первый конкурс 2017 г." in raw
    assert {r["contest"] for r in records} == {fpg.normalise_contest(c) for c in raw}
    assert all(not r["contest"].endswith("г.") for r in records)
    assert all(r["contest_year"] == int(r["contest"][-4:]) for r in records)


def test_directions_stay_in_the_files_lower_case(sheet, records):
    header = _header_row(sheet)
    raw = [sheet.cell(row=r["_row"], column=8).value for r in records]
    assert [r["direction"] for r in records] == raw
    assert all(d == d.lower() for d in raw)
    assert sheet.cell(row=header, column=8).value.startswith("Грантовое")


def test_amounts_as_numbers_and_as_text_with_no_break_spaces(sheet, records):
    numeric = textual = 0
    for record in records:
        cell = sheet.cell(row=record["_row"], column=9).value
        if isinstance(cell, int | float):  # openpyxl reads a whole number back as int
            numeric += 1
            assert record["amount_requested"] == Decimal(str(cell)).quantize(Decimal("0.01"))
        elif "\u00a0" in cell and record["amount_requested"] is not None:
            textual += 1
            digits = cell.replace("\u00a0", "").replace(",", ".")
            assert record["amount_requested"] == Decimal(digits)
    assert numeric >= 10 and textual >= 5


def test_identifiers_stored_as_numbers_come_back_as_text(sheet, records):
    numeric = 0
    for record in records:
        cell = sheet.cell(row=record["_row"], column=5).value
        if isinstance(cell, int):
            numeric += 1
            assert record["inn"].lstrip("0") == str(cell)
        assert isinstance(record["inn"], str) and record["inn"].isdigit()
        assert len(record["ogrn"]) == 13
    assert numeric >= 10


def test_a_leading_zero_lost_to_a_number_cell_is_restored(sheet, by_number):
    row = by_number["23-1-010455"]  # a Dagestan organisation: ИНН 05…
    cell = sheet.cell(row=row["_row"], column=5).value
    assert isinstance(cell, int) and len(str(cell)) == 9
    assert row["inn"] == "0" + str(cell)
    assert is_valid_inn(row["inn"])


def _ogrn(first12: str) -> str:
    return first12 + str(int(first12) % 11 % 10)


@pytest.mark.parametrize(("ogrn", "expected"), [
    (_ogrn("102770000000"), "673004802"),  # ОГРН of Moscow (77): the ИНН lost another digit
    (None, "673004802"),  # nothing to confirm the padding with
    (_ogrn("102060000000"), "0673004802"),  # ОГРН of Ingushetia (06): a lost leading zero
])
def test_a_nine_digit_inn_is_padded_only_when_the_ogrn_confirms_it(ogrn, expected):
    assert is_valid_inn("0673004802")  # padded, it passes its check: not proof enough
    body = _xlsx([HEADERS, ["17-1-000001", "Первый конкурс 2017 г.", "А", ogrn and int(ogrn),
                            673004802, "г. Москва", "П", "н", 1, 1, None, None,
                            "проект не получил поддержку", None, None]])
    (record,) = records_of(fpg.parse_xlsx(body))
    assert record["inn"] == expected


def test_dates_as_excel_dates_and_as_text(sheet, records):
    kinds = set()
    for record in records:
        cell = sheet.cell(row=record["_row"], column=11).value
        kinds.add(type(cell))
        expected = cell.date() if isinstance(cell, datetime) else datetime.strptime(
            cell, "%d.%m.%Y").date()
        assert record["start_date"] == expected
    assert kinds == {datetime, str}


def test_an_excel_day_number_in_a_date_column_is_a_date():
    body = _xlsx([HEADERS, ["21-1-000002", "Первый конкурс 2021 г.", "А", None, None, "Регион",
                            "П", "н", 10.0, 10.0, 44228, "31.01.2022", "Проект не получил "
                            "поддержку", None, None]])
    (record,) = records_of(fpg.parse_xlsx(body))
    assert record["start_date"] == date(2021, 2, 1)
    assert record["end_date"] == date(2022, 1, 31)


def test_an_amount_that_does_not_parse_is_recorded_with_its_field(by_number, records):
    broken = [r for r in records if r.get("_errors")]
    amounts = [r for r in broken if any(e.startswith("amount_requested:") for e in r["_errors"])]
    assert len(amounts) == 1
    assert amounts[0]["amount_requested"] is None
    assert "2 350 000,0О" in amounts[0]["_errors"][0]


def test_evaluation_and_violations_on_some_rows(records):
    evaluated = [r for r in records if r["evaluation"]]
    assert len(evaluated) >= 5
    assert any("не приступал" in r["evaluation"] for r in evaluated)
    assert sum(1 for r in records if r["violations"]) >= 2
    assert all(r["status"].lower() == "победитель конкурса" for r in evaluated)


# --- layout changes -----------------------------------------------------------------------


def test_missing_required_column_names_the_column_and_the_file():
    headers = [h for h in HEADERS if h != "Размер гранта"]
    body = _xlsx([["Сведения о проектах"], [], headers,
                  ["17-1-000001"] + [None] * (len(headers) - 1)])
    url = "https://example.test/upload/opendata/projects.xlsx"
    with pytest.raises(fpg.MissingColumnError) as caught:
        fpg.parse_xlsx(body, url=url)
    assert isinstance(caught.value, ValueError)
    assert caught.value.column == "Размер гранта"
    assert "Размер гранта" in str(caught.value) and url in str(caught.value)


def test_a_file_without_a_header_row_is_refused():
    body = _xlsx([["Отчёт"], ["1", "2", "3"]])
    with pytest.raises(fpg.MissingColumnError, match="Номер заявки"):
        fpg.parse_xlsx(body, url="projects.xlsx")
    with pytest.raises(ValueError, match="not a readable XLSX"):
        fpg.parse_xlsx(b"PK\x03\x04 broken", url="projects.xlsx")


def test_optional_outcome_columns_may_be_absent_and_headers_match_loosely():
    headers = [h.upper().replace(" ", "\u00a0 ") for h in HEADERS]
    headers[8] = "Запрошенная сумма (руб.)"
    body = _xlsx([["Выгрузка"], headers,
                  ["18-1-000003", "Первый конкурс 2018 г.", "А", None, None, "Регион", "П",
                   "н", "1\u00a0000,50", None, None, None, "Победитель конкурса", None, 1000.5]])
    (record,) = records_of(fpg.parse_xlsx(body))
    assert record["_row"] == 3
    assert record["amount_requested"] == record["amount_awarded"] == Decimal("1000.50")
    assert record["evaluation"] is None and record["violations"] is None


# --- contest names ------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "Первый конкурс 2017 г.", "Первый конкурс 2017", "первый  конкурс\u00a02017",
    "ПЕРВЫЙ КОНКУРС 2017 года", " Первый конкурс 2017г. ",
])
def test_normalise_contest(text):
    assert fpg.normalise_contest(text) == "Первый конкурс 2017"
    assert fpg.contest_year(text) == 2017


def test_contest_helpers_on_odd_input():
    assert fpg.normalise_contest(None) is None
    assert fpg.normalise_contest("\u00a0") is None
    assert fpg.normalise_contest("Второй конкурс 2019 г.") != fpg.normalise_contest(
        "Первый конкурс 2019 г.")
    assert fpg.contest_year("Специальный конкурс 2020") == 2020
    assert fpg.contest_year("Конкурс без года") is None


# --- one conversion per distinct cell ---------------------------------------------------------
# The file is read column by column and each distinct cell converted once (scrapers.workbooks,
# fpg._xlsx_records); these check that the result is still each row's own.


def test_the_same_inn_cell_is_restored_per_row_by_that_rows_ogrn():
    moscow, ingushetia = _ogrn("102770000000"), _ogrn("102060000000")
    row = ["Первый конкурс 2017 г.", "А", None, 673004802, "Регион", "П", "н", 1, 1, None,
           None, "проект не получил поддержку", None, None]
    body = _xlsx([HEADERS,
                  ["17-1-000001", *row[:2], int(moscow), *row[3:]],
                  ["17-1-000002", *row[:2], int(ingushetia), *row[3:]],
                  ["17-1-000003", *row[:2], int(moscow), *row[3:]]])
    inns = [r["inn"] for r in records_of(fpg.parse_xlsx(body))]
    assert inns == ["673004802", "0673004802", "673004802"]


def test_a_bad_cell_shared_by_rows_quarantines_every_one_of_them_and_keeps_field_order():
    def row(number, amount, decision):
        return [number, "Первый конкурс 2017 г.", "А", None, None, "Регион", "П", "н", amount,
                100, None, None, "Победитель конкурса", decision, 50]

    body = _xlsx([HEADERS, row("17-1-000001", "сто", "вчера"), row("17-1-000002", 10, None),
                  row("17-1-000003", "сто", None), row("17-1-000004", "сто", "вчера")])
    records = records_of(fpg.parse_xlsx(body))
    assert [r["amount_requested"] for r in records] == [None, Decimal("10.00"), None, None]
    assert [r.get("_errors") for r in records] == [
        ["amount_requested: not a number: 'сто'", "decision_date: not a date: 'вчера'"],
        None,
        ["amount_requested: not a number: 'сто'"],
        ["amount_requested: not a number: 'сто'", "decision_date: not a date: 'вчера'"],
    ]
    assert [r["_row"] for r in records] == [2, 3, 4, 5]


def test_rows_empty_in_every_column_are_skipped_but_a_row_with_any_cell_is_kept():
    extra = [*HEADERS, "Примечание"]
    blank = [None] * len(extra)
    note_only = [*[None] * len(HEADERS), "см. письмо"]
    body = _xlsx([extra, ["17-1-000001", "Первый конкурс 2017 г.", *[None] * 13, None],
                  blank, note_only, ["17-1-000002", *[None] * 15]])
    records = records_of(fpg.parse_xlsx(body))
    # The note row is not an application, but it is not empty: the schema refuses it
    # (no number) rather than the parser dropping it unseen.
    assert [(r["_row"], r["application_number"]) for r in records] == [
        (2, "17-1-000001"), (4, None), (5, "17-1-000002")]


# --- the live file's layout (SOURCES.md §1b) ------------------------------------------------

# The 17 headers of the fund's data passport, with the line breaks of the real header row.
PASSPORT_HEADERS = [
    "Номер заявки", "Конкурс", "Организация", "ОГРН", "ИНН", "Регион", "Название проекта",
    "Грантовое направление", "Запрошенная сумма гранта, руб.",
    "Общая сумма расходов \nна реализацию проекта, руб.", "Начало реализации проекта",
    "Окончание реализации проекта", "Статус проекта",
    "Дата принятия решения \nо предоставлении гранта", "Размер гранта, руб.",
    "Оценка результатов проекта", "Информация \nо допущенных нарушениях",
]


def _passport_xlsx(rows: list[list[object]], headers=PASSPORT_HEADERS) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Проекты"
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _passport_row(number: str, status: str, **kw) -> list[object]:
    # The real record 18-1-009230 (SOURCES.md §1b), not a winner.
    values = {
        "number": number, "contest": "Первый конкурс 2018 г.",
        "organisation": "АНО «Изобретатели будущего»", "ogrn": 1141200000171,
        "inn": 1208013762, "region": "Республика Марий Эл",
        "title": "Изобретатели будущего", "direction": "поддержка проектов в области науки, "
        "образования, просвещения", "requested": 2891105.83, "total": 3078542.17,
        "start": datetime(2018, 7, 1), "end": datetime(2019, 6, 30), "status": status,
        "decision": None, "awarded": None, "evaluation": None, "violations": None,
    }
    values.update(kw)
    return list(values.values())


def test_the_passport_headers_in_row_1_of_sheet_projects_are_read():
    body = _passport_xlsx([
        _passport_row("18-1-009230", "Проект не получил поддержку"),
        _passport_row("18-1-009231", "Победитель конкурса", decision=datetime(2018, 6, 20),
                      awarded=2891105.83, evaluation="проект реализован успешно",
                      violations="нецелевое использование средств гранта"),
    ])
    first, second = records_of(fpg.parse_xlsx(body, url="test://projects.xlsx"))
    assert first["_row"] == 2
    assert first["application_number"] == "18-1-009230"
    assert first["contest"] == "Первый конкурс 2018" and first["contest_year"] == 2018
    assert first["inn"] == "1208013762" and first["ogrn"] == "1141200000171"
    assert first["amount_requested"] == Decimal("2891105.83")
    assert first["total_cost"] == Decimal("3078542.17")
    assert first["start_date"] == date(2018, 7, 1) and first["end_date"] == date(2019, 6, 30)
    assert first["decision_date"] is None and first["amount_awarded"] is None
    assert second["decision_date"] == date(2018, 6, 20)
    assert second["amount_awarded"] == Decimal("2891105.83")
    assert second["evaluation"] == "проект реализован успешно"
    assert second["violations"] == "нецелевое использование средств гранта"
    assert first["extra_columns"] is None


def test_withdrawn_by_the_applicant_is_a_normal_outcome():
    body = _passport_xlsx([_passport_row("18-1-009232", "Отозван заявителем")])
    result = validate_frame(fpg.parse_xlsx(body), APPLICATIONS)
    assert result.quarantined == []
    assert result.valid.column("status").to_pylist() == ["Отозван заявителем"]


@pytest.mark.parametrize("missing", [h for h in PASSPORT_HEADERS
                                     if h not in PASSPORT_HEADERS[-2:]])
def test_each_required_passport_column_missing_stops_the_load_naming_it(missing):
    headers = [h for h in PASSPORT_HEADERS if h != missing]
    row = [v for h, v in zip(PASSPORT_HEADERS, _passport_row("18-1-009230", "Победитель "
                                                              "конкурса"), strict=True)
           if h != missing]
    with pytest.raises(fpg.MissingColumnError) as caught:
        fpg.parse_xlsx(_passport_xlsx([row], headers=headers), url="test://projects.xlsx")
    message = str(caught.value)
    # The column is named as the passport heads it, without its unit.
    assert " ".join(missing.replace(", руб.", "").split()) == caught.value.column
    assert "test://projects.xlsx" in message and "sheet 'Проекты', header row 1" in message
    assert "Номер заявки" in message or missing == "Номер заявки"


def test_columns_the_passport_does_not_name_are_kept_per_row():
    headers = [*PASSPORT_HEADERS, "Примечание", "Код ОКТМО"]
    body = _passport_xlsx([
        [*_passport_row("18-1-009230", "Проект не получил поддержку"), "см. письмо", 88701000],
        [*_passport_row("18-1-009231", "Проект не получил поддержку"), None, " "],
    ], headers=headers)
    first, second = records_of(fpg.parse_xlsx(body))
    assert json.loads(first["extra_columns"]) == {"Примечание": "см. письмо",
                                                  "Код ОКТМО": 88701000}
    assert second["extra_columns"] is None
    (valid, _) = validate([first, second], APPLICATIONS).valid
    assert json.loads(valid["extra_columns"])["Примечание"] == "см. письмо"
