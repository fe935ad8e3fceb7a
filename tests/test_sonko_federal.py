"""The federal СО НКО registry (Ministry of Economic Development): our sample and built sheets."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import date, datetime

import openpyxl
import polars as pl
import pytest

from schemas.base import validate_frame
from schemas.identifiers import is_valid_inn
from schemas.sonko import FEDERAL
from scrapers import sonko
from scrapers.columns import records_of
from scrapers.samples import FIXTURES_DIR, sample_path

TEST_URL = "test://sonko_organizations.xlsx"
# The 13 headers of the live file, exactly (SOURCES.md §2b).
HEADERS = [
    "ИНН организации", "Наименование организации (полное)",
    "Наименование организации (сокращенное)", "Адрес регистрации", "ОГРН",
    "Организационно-правовая форма", "Основной ОКВЭД", "Статус СОНКО",
    "Статус некоммерческой организации (добавлено 1 января 2022 г.)",
    "Критерий включения организации в реестр (добавлено 1 января 2022 г.)",
    "Наименование органа власти, предоставившего поддержку/включившего в реестр "
    "поставщиков социальных услуг",
    "Дата принятия решения об оказании поддержки / включения в реестр поставщиков "
    "социальных услуг",
    "Дата включения в реестр",
]
# Our first copy's spellings: shorter, with `ё` and a line break at a hyphen.
FIRST_COPY_HEADERS = [
    "ИНН организации", "Наименование организации (полное)",
    "Наименование организации (сокращённое)", "Адрес регистрации", "ОГРН",
    "Организационно-\nправовая форма", "Основной ОКВЭД", "Статус СОНКО",
    "Статус некоммерческой организации", "Критерий включения в реестр",
    "Наименование органа власти", "Дата принятия решения", "Дата включения в реестр",
]
DECISION = HEADERS[11]
FIRST = 21  # the first data row of the sample, as of the live file


@pytest.fixture(scope="module")
def body() -> bytes:
    return sample_path(sonko.FEDERAL_URL, FIXTURES_DIR).read_bytes()


@pytest.fixture(scope="module")
def frame(body) -> pl.DataFrame:
    return sonko.parse_federal(body, url=sonko.FEDERAL_URL)


@pytest.fixture(scope="module")
def sample(frame) -> list[dict]:
    return records_of(frame)


def _validated(frame: pl.DataFrame) -> tuple[list[dict], list]:
    """The valid rows (as dicts) and the quarantined ones of a frame, as a load gets them."""
    result = validate_frame(frame, FEDERAL)
    assert result.parsed == len(frame)
    return result.valid.to_pylist(), result.quarantined


@pytest.fixture(scope="module")
def sheet(body):
    """The sample read by openpyxl: the independent view of what the file holds."""
    return openpyxl.load_workbook(io.BytesIO(body)).active


@pytest.fixture(scope="module")
def by_row(sample) -> dict[int, dict]:
    return {r["_row"]: r for r in sample}


def test_sample_lives_where_the_url_points():
    assert sonko.FEDERAL_URL == "https://data.economy.gov.ru/files/sonko_organizations.xlsx"
    assert sonko.FEDERAL_URL.startswith(f"https://{sonko.FEDERAL_HOST}/")
    assert sample_path(sonko.FEDERAL_URL, FIXTURES_DIR).is_file()


def test_sample_has_the_live_layout(body, sheet, sample):
    assert sheet.title == "Worksheet"
    assert sheet["A1"].value == "Реестр СОНКО по состоянию на 15.01.2024"
    assert [c.value for c in sheet[2]] == HEADERS
    # rows 3–20 hold no record, only single spaces in some cells: skipped, not quarantined
    spaces = [c.value for row in sheet.iter_rows(min_row=3, max_row=FIRST - 1) for c in row
              if c.value is not None]
    assert spaces and set(spaces) == {" "}
    assert [r["_row"] for r in sample] == list(range(FIRST, FIRST + 20))
    assert {r["snapshot_date"] for r in sample} == {date(2024, 1, 15)}
    assert {r["extra_columns"] for r in sample} == {None}


def test_sample_trailing_spaces_after_identifiers_are_dropped(sheet, by_row):
    assert sheet[f"A{FIRST}"].value == "5912345675 "
    assert sheet[f"E{FIRST}"].value.endswith(" ")
    assert by_row[FIRST]["inn"] == "5912345675"
    assert by_row[FIRST]["ogrn"] == sheet[f"E{FIRST}"].value.strip()


def test_sample_counts_and_the_one_quarantined_row(sample, frame):
    assert len(sample) == 20
    valid, quarantined = _validated(frame)
    assert len(valid) == 19
    (bad,) = quarantined
    assert bad.row == FIRST + 17
    assert bad.reasons == ["decision_date: not a date: '31.02.2023'"]
    assert bad.record["inn"] == "3581234569"


def test_sample_one_inn_several_decisions_all_kept(sample):
    counts = Counter(r["inn"] for r in sample)
    assert counts["5912345675"] == 3 and counts["5556781233"] == 3
    assert len(counts) == 9  # eight organisations, one of them with a mistyped ИНН on one row
    perm = [r for r in sample if r["inn"] == "5912345675"]
    assert [r["decision_date"] for r in perm] == [
        date(2021, 3, 15), date(2022, 3, 14), date(2022, 7, 1)]
    assert [r["authority"] for r in perm][-1] == "Фонд президентских грантов"


def test_sample_leading_zero_restored_from_a_number_cell(sheet, sample):
    assert sheet[f"A{FIRST + 5}"].value == 534567815  # the file lost the zero
    dagestan = [r for r in sample if r["ogrn"] == "1020599034565"]
    assert {r["inn"] for r in dagestan} == {"0534567815"}
    assert is_valid_inn("0534567815")


def test_sample_number_cell_without_a_lost_zero_is_unchanged(sheet, by_row):
    assert sheet[f"A{FIRST + 9}"].value == 5556781233
    assert by_row[FIRST + 9]["inn"] == "5556781233"


def test_sample_failing_inn_is_a_flag(frame):
    valid, _ = _validated(frame)
    assert [(r["_row"], r["inn"]) for r in valid if r["inn_valid"] is False] == [
        (FIRST + 12, "6967812346")]
    assert all(r["ogrn_valid"] for r in valid)


def test_sample_dates_from_date_cells_and_text(sheet, by_row):
    assert isinstance(sheet[f"L{FIRST}"].value, datetime)
    assert sheet[f"L{FIRST + 4}"].value == "19.05.2022"
    assert by_row[FIRST]["decision_date"] == date(2021, 3, 15)
    assert by_row[FIRST + 4]["decision_date"] == date(2022, 5, 19)
    assert by_row[FIRST + 4]["included_on"] == date(2022, 6, 1)


def test_sample_okved_stays_text(by_row):
    assert by_row[FIRST + 9]["okved"] == "88.10"
    assert by_row[FIRST]["okved"] == "88.99"


def test_sample_short_name_and_legal_form(by_row):
    assert by_row[FIRST]["short_name"] == "АНО «Тёплый дом»"
    assert by_row[FIRST]["legal_form"] == "Автономная некоммерческая организация"
    assert by_row[FIRST + 14]["short_name"] is None  # Kaluga gives none


def test_first_copy_headers_with_yo_and_a_line_break_still_match():
    body = _xlsx([_row()], headers=FIRST_COPY_HEADERS)
    (record,) = _parse(body)
    assert record["short_name"] == "АНО «Пример»"
    assert record["legal_form"] == "Автономная некоммерческая организация"
    assert record["authority"] == "Министерство"
    assert record["decision_date"] == date(2022, 3, 10)
    assert record["included_on"] == date(2022, 4, 1)
    assert record["snapshot_date"] is None  # this title states no date


def test_sample_statuses_and_criteria(sample):
    assert {r["sonko_status"] for r in sample} == {"Является СОНКО"}
    assert Counter(r["nko_status"] for r in sample)["Находится в стадии ликвидации"] == 1
    assert Counter(r["inclusion_criterion"] for r in sample) == {
        "Получатель поддержки": 11,
        "Получатель гранта Президента Российской Федерации": 7,
        "Исполнитель общественно полезных услуг": 2,
    }


# --- small sheets built here ------------------------------------------------------------


def _row(**kw) -> list[object]:
    values = dict(zip(HEADERS, [
        "7700000000", "Автономная некоммерческая организация «Пример»", "АНО «Пример»",
        "101000, г. Москва", "1027700000000", "Автономная некоммерческая организация", "88.99",
        "Является СОНКО", "Действующая", "Получатель поддержки", "Министерство",
        "10.03.2022", "01.04.2022",
    ], strict=True))
    values.update(kw)
    return list(values.values())


def _xlsx(rows: list[list[object]], headers=HEADERS, title_rows: int = 1) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for n in range(title_rows):
        ws.append([f"Заголовок {n + 1}"])
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _frame(body: bytes) -> pl.DataFrame:
    return sonko.parse_federal(body, url=TEST_URL)


def _parse(body: bytes) -> list[dict]:
    return records_of(_frame(body))


def test_header_row_found_below_a_longer_title():
    (record,) = _parse(_xlsx([_row()], title_rows=4))
    assert record["_row"] == 6
    assert record["inn"] == "7700000000" and record["decision_date"] == date(2022, 3, 10)


def test_columns_matched_by_text_in_any_order():
    order = list(reversed(range(len(HEADERS))))
    headers = [HEADERS[i] for i in order]
    row = _row()
    (record,) = _parse(_xlsx([[row[i] for i in order]], headers=headers))
    assert record["full_name"] == "Автономная некоммерческая организация «Пример»"
    assert record["short_name"] == "АНО «Пример»"
    assert record["included_on"] == date(2022, 4, 1)


@pytest.mark.parametrize("column", HEADERS)
def test_each_missing_column_is_named_with_the_file(column):
    headers = [h for h in HEADERS if h != column]
    with pytest.raises(sonko.MissingColumnError, match=r"test://sonko_organizations\.xlsx") as err:
        _parse(_xlsx([_row()[:len(headers)]], headers=headers))
    assert err.value.column == column


def test_no_header_row_at_all():
    with pytest.raises(sonko.MissingColumnError, match="no header row"):
        _parse(_xlsx([["a", "b"]], headers=["x", "y"]))


def test_excel_day_numbers_are_dates_and_other_numbers_are_not():
    records = _parse(_xlsx([_row(**{DECISION: 44630}), _row(**{DECISION: 12})]))
    assert records[0]["decision_date"] == date(2022, 3, 10)
    assert records[1]["decision_date"] is None
    assert any("decision_date" in e for e in records[1]["_errors"])


def test_rows_without_inn_or_name_are_quarantined_blank_rows_skipped():
    rows = [_row(**{"ИНН организации": None}), [None] * len(HEADERS),
            _row(**{"Наименование организации (полное)": None}), _row()]
    records = _parse(_xlsx(rows))
    assert [r["_row"] for r in records] == [3, 5, 6]
    valid, quarantined = _validated(_frame(_xlsx(rows)))
    assert [r["_row"] for r in valid] == [6]
    reasons = {q.row: " ".join(q.reasons) for q in quarantined}
    assert "inn" in reasons[3] and "full_name" in reasons[5]


def test_nine_digit_number_inn_of_another_region_is_not_padded():
    # Padded, `0673004802` would pass its check one time in ten; its ОГРН's region (67)
    # is not 06, so it stays as reported and is flagged.
    body = _xlsx([_row(**{"ИНН организации": 673004802, "ОГРН": "1026700000810"})])
    (record,) = _parse(body)
    assert record["inn"] == "673004802"
    (valid,), _ = _validated(_frame(body))
    assert valid["inn_valid"] is False


def test_model_columns_are_the_parser_fields_plus_flags(sample):
    parsed = {k for k in sample[0] if not k.startswith("_")}
    assert set(FEDERAL.columns()) == parsed | {"inn_valid", "ogrn_valid"}
    assert FEDERAL.columns()["decision_date"] == "DATE"
    assert FEDERAL.key == ()
    assert FEDERAL.table == "sonko__federal"


def test_a_missing_column_names_the_headers_found():
    headers = [h for h in HEADERS if h != DECISION]
    with pytest.raises(sonko.MissingColumnError) as err:
        _parse(_xlsx([_row()[:len(headers)]], headers=headers))
    message = str(err.value)
    assert err.value.column == DECISION
    assert "Дата включения в реестр" in message and "ИНН организации" in message
    assert "header row 2" in message


def test_extra_columns_are_kept_as_json_and_rows_of_spaces_skipped():
    headers = [*HEADERS, "Примечание", "Признак МСП"]
    rows = [[" "] * 3 + [None] * (len(headers) - 3), [*_row(), "см. письмо", None],
            [*_row(), None, None], [" ", None, " ", *[None] * (len(headers) - 3)]]
    body = _xlsx(rows, headers=headers)
    records = _parse(body)
    assert [r["_row"] for r in records] == [4, 5]
    assert json.loads(records[0]["extra_columns"]) == {"Примечание": "см. письмо"}
    assert records[1]["extra_columns"] is None
    (valid, _), _ = _validated(_frame(body))
    assert json.loads(valid["extra_columns"]) == {"Примечание": "см. письмо"}


def test_the_title_date_is_every_rows_snapshot_date():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Worksheet"
    ws.append(["Реестр СОНКО по состоянию на 24.02.2026"])
    ws.append(HEADERS)
    for _ in range(18):
        ws.append([" ", None, " "])
    ws.append(_row(**{"ИНН организации": "7700000000 ", "ОГРН": "1027700000000 "}))
    ws.append(_row())
    buf = io.BytesIO()
    wb.save(buf)
    records = _parse(buf.getvalue())
    assert [r["_row"] for r in records] == [21, 22]
    assert {r["snapshot_date"] for r in records} == {date(2026, 2, 24)}
    assert records[0]["inn"] == "7700000000" and records[0]["ogrn"] == "1027700000000"
