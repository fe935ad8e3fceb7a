"""The federal СО НКО registry (Ministry of Economic Development): our sample and built sheets."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, datetime

import openpyxl
import pytest

from schemas.base import validate
from schemas.identifiers import is_valid_inn
from schemas.sonko import FEDERAL
from scrapers import sonko
from scrapers.samples import sample_path

TEST_URL = "test://sonko_organizations.xlsx"
HEADERS = [
    "ИНН организации", "Наименование организации (полное)",
    "Наименование организации (сокращенное)", "Адрес регистрации", "ОГРН",
    "Организационно-правовая форма", "Основной ОКВЭД", "Статус СОНКО",
    "Статус некоммерческой организации", "Критерий включения в реестр",
    "Наименование органа власти", "Дата принятия решения", "Дата включения в реестр",
]


@pytest.fixture(scope="module")
def body() -> bytes:
    return sample_path(sonko.FEDERAL_URL).read_bytes()


@pytest.fixture(scope="module")
def sample(body) -> list[dict]:
    return sonko.parse_federal(body, url=sonko.FEDERAL_URL)


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
    assert sample_path(sonko.FEDERAL_URL).is_file()


def test_sample_title_row_then_header_row(sheet, sample):
    assert sheet["A1"].value.startswith("Реестр социально ориентированных")
    assert sheet["A2"].value == "ИНН организации"
    assert [r["_row"] for r in sample] == list(range(3, 23))


def test_sample_counts_and_the_one_quarantined_row(sample):
    assert len(sample) == 20
    result = validate(sample, FEDERAL)
    assert len(result.valid) == 19
    (bad,) = result.quarantined
    assert bad.row == 20
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
    assert sheet["A8"].value == 534567815  # the file lost the zero
    dagestan = [r for r in sample if r["ogrn"] == "1020599034565"]
    assert {r["inn"] for r in dagestan} == {"0534567815"}
    assert is_valid_inn("0534567815")


def test_sample_number_cell_without_a_lost_zero_is_unchanged(sheet, by_row):
    assert sheet["A12"].value == 5556781233
    assert by_row[12]["inn"] == "5556781233"


def test_sample_failing_inn_is_a_flag(sample):
    valid = validate(sample, FEDERAL).valid
    assert [(r["_row"], r["inn"]) for r in valid if r["inn_valid"] is False] == [
        (15, "6967812346")]
    assert all(r["ogrn_valid"] for r in valid)


def test_sample_dates_from_date_cells_and_text(sheet, by_row):
    assert isinstance(sheet["L3"].value, datetime)
    assert sheet["L7"].value == "19.05.2022"
    assert by_row[3]["decision_date"] == date(2021, 3, 15)
    assert by_row[7]["decision_date"] == date(2022, 5, 19)
    assert by_row[7]["included_on"] == date(2022, 6, 1)


def test_sample_okved_stays_text(by_row):
    assert by_row[12]["okved"] == "88.10"
    assert by_row[3]["okved"] == "88.99"


def test_sample_headers_with_yo_and_a_line_break_match(sheet, by_row):
    assert sheet["C2"].value == "Наименование организации (сокращённое)"
    assert sheet["F2"].value == "Организационно-\nправовая форма"
    assert by_row[3]["short_name"] == "АНО «Тёплый дом»"
    assert by_row[3]["legal_form"] == "Автономная некоммерческая организация"
    assert by_row[17]["short_name"] is None  # Kaluga gives none


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


def _parse(body: bytes) -> list[dict]:
    return sonko.parse_federal(body, url=TEST_URL)


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
    records = _parse(_xlsx([_row(**{"Дата принятия решения": 44630}),
                            _row(**{"Дата принятия решения": 12})]))
    assert records[0]["decision_date"] == date(2022, 3, 10)
    assert records[1]["decision_date"] is None
    assert any("decision_date" in e for e in records[1]["_errors"])


def test_rows_without_inn_or_name_are_quarantined_blank_rows_skipped():
    rows = [_row(**{"ИНН организации": None}), [None] * len(HEADERS),
            _row(**{"Наименование организации (полное)": None}), _row()]
    records = _parse(_xlsx(rows))
    assert [r["_row"] for r in records] == [3, 5, 6]
    result = validate(records, FEDERAL)
    assert [r["_row"] for r in result.valid] == [6]
    reasons = {q.row: " ".join(q.reasons) for q in result.quarantined}
    assert "inn" in reasons[3] and "full_name" in reasons[5]


def test_nine_digit_number_inn_of_another_region_is_not_padded():
    # Padded, `0673004802` would pass its check one time in ten; its ОГРН's region (67)
    # is not 06, so it stays as reported and is flagged.
    (record,) = _parse(_xlsx([_row(**{"ИНН организации": 673004802,
                                      "ОГРН": "1026700000810"})]))
    assert record["inn"] == "673004802"
    (valid,) = validate([record], FEDERAL).valid
    assert valid["inn_valid"] is False


def test_model_columns_are_the_parser_fields_plus_flags(sample):
    parsed = {k for k in sample[0] if not k.startswith("_")}
    assert set(FEDERAL.columns()) == parsed | {"inn_valid", "ogrn_valid"}
    assert FEDERAL.columns()["decision_date"] == "DATE"
    assert FEDERAL.key == ()
    assert FEDERAL.table == "sonko__federal"
