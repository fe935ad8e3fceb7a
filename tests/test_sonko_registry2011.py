"""СО НКО registries, 2011 template: our sample, small built sheets, the real Smolensk files."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from schemas.base import validate
from schemas.sonko import REGISTRY2011
from scrapers import sonko
from scrapers.samples import FIXTURES_DIR, sample_path

REAL = Path(__file__).resolve().parents[2] / "shared/data/real"
SAMPLE_URL = sonko.REGISTRY2011_URLS[0]
GUIPOS = "Главное управление информационной политики и общественных связей Смоленской области"
DEPARTMENT = "Департамент Смоленской области по внутренней политике"
TEST_URL = "test://registry2011.xlsx"


# --- the sample -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_body() -> bytes:
    return sample_path(SAMPLE_URL, FIXTURES_DIR).read_bytes()


@pytest.fixture(scope="module")
def sample(sample_body) -> list[dict]:
    return sonko.parse_registry2011(sample_body, url=SAMPLE_URL)


@pytest.fixture(scope="module")
def by_number(sample) -> dict[str, dict]:
    return {r["record_number"]: r for r in sample}


def test_sample_lives_where_the_first_url_points():
    assert SAMPLE_URL.startswith(f"https://{sonko.REGISTRY2011_HOST}/")
    # Our own host, in a domain that can never resolve: no live fetch by mistake.
    assert sonko.REGISTRY2011_HOST.endswith(".invalid")
    path = sample_path(SAMPLE_URL, FIXTURES_DIR)
    assert path.is_file() and path.is_relative_to(FIXTURES_DIR)
    doc = " ".join(sonko.__doc__.split())
    assert "invented 2016 registry" in doc and "REGISTRY_PORTAL_URL" in doc


def test_sample_is_the_template_laid_out_as_in_the_real_files(sample_body):
    ws = openpyxl.load_workbook(io.BytesIO(sample_body)).active
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A1:K6", "A7:A20", "C7:G13", "H7:J13", "F14:F20"} <= merged
    assert [ws.cell(row=21, column=c).value for c in range(1, 12)] == [
        str(n) for n in range(1, 12)]
    assert "налогопла-тельщика" in ws["F14"].value


def test_sample_counts_total_and_the_one_quarantined_record(sample):
    assert [r["record_number"] for r in sample] == [str(n) for n in range(1, 11)]
    result = validate(sample, REGISTRY2011)
    assert len(result.valid) == 9
    assert sum(r["amount"] for r in result.valid) == Decimal("2620000")
    (bad,) = result.quarantined
    assert bad.row == 28 and bad.record["record_number"] == "6"
    assert any("amount" in reason and "150 000 / 75 000" in reason for reason in bad.reasons)


def test_sample_repeated_record_number_cell_gives_the_first_copy(by_number):
    first = by_number["1"]
    assert first["record_number"] == "1"
    assert first["included_on"] == date(2016, 5, 20)
    assert "_errors" not in first


def test_sample_record_on_two_physical_rows_is_one_record(sample, by_number):
    second = by_number["2"]
    assert second["address"] == (
        "214014, Смоленская область, г. Смоленск, ул. Садовая, д.7, оф. 12; "
        "214000, Смоленская область, г.Смоленск, ул.Садовая, д.7, оф.12"
    )
    assert second["_row"] == 23
    assert by_number["3"]["_row"] == 25  # row 24 belongs to record 2
    assert len(sample) == 10


def test_sample_amounts_as_text_with_nbsp_float_and_int(by_number):
    assert by_number["1"]["amount"] == Decimal("1200000.00")  # '1\xa0200 000'
    assert by_number["4"]["amount"] == Decimal("250000.00")  # '250 000'
    assert by_number["3"]["amount"] == Decimal("300000.00")  # 300000.0
    assert by_number["2"]["amount"] == Decimal("450000.00")  # 450000


def test_sample_identifiers_from_floats_and_trailing_spaces(by_number):
    assert by_number["1"]["ogrn"] == "1026799901314"
    assert by_number["1"]["inn"] == "6730991316"
    assert by_number["7"]["inn"] == "6730997170"
    assert by_number["1"]["address"] == "214000, Смоленская область, г. Смоленск, ул. Лесная, д. 3"


def test_sample_failing_identifiers_are_flags(sample):
    valid = validate(sample, REGISTRY2011).valid
    assert [(r["record_number"], r["inn"]) for r in valid if not r["inn_valid"]] == [
        ("3", "673199344")]
    assert [(r["record_number"], r["ogrn"]) for r in valid if not r["ogrn_valid"]] == [
        ("8", "1076799908185")]


def test_sample_unsigned_agreement_is_kept_and_marked(sample, by_number):
    unsigned = by_number["5"]
    assert unsigned["not_carried_out"] is True
    assert unsigned["violations"] == "Организация не заключила договор о предоставлении субсидии"
    assert unsigned["amount"] == Decimal("80000.00")
    assert [r["record_number"] for r in sample if r["not_carried_out"]] == ["5"]
    assert "5" in {r["record_number"] for r in validate(sample, REGISTRY2011).valid}


def test_sample_decision_cell_with_two_protocols(by_number):
    record = by_number["4"]
    assert record["decision_date"] == date(2016, 4, 21)
    assert record["decision_text"] == (
        "21.04.2016, протокол № 1 заседания конкурсной комиссии;\n"
        "16.06.2016, протокол № 2 заседания конкурсной комиссии"
    )


def test_sample_empty_term_stays_valid(sample, by_number):
    assert by_number["7"]["support_term"] is None and by_number["7"]["term_year"] is None
    assert "7" in {r["record_number"] for r in validate(sample, REGISTRY2011).valid}
    assert Counter(r["term_year"] for r in sample) == {2016: 9, None: 1}


def test_sample_authority_year_and_budget_levels(sample):
    assert {r["authority"] for r in sample} == {DEPARTMENT}
    assert {r["registry_year"] for r in sample} == {2016}
    assert Counter(r["budget_level"] for r in sample) == {"regional": 7, "federal": 3}


# --- small sheets built here ------------------------------------------------------------

HEADERS = [
    "Номер \nреестровой \nзаписи\nи дата\nвключения \nсведений в \nреестр\n",
    "Дата\nпринятия решения \nоб оказании \nподдержки",
    "наименование   \nпостоянно  \nдействующего органа",
    "почтовый \nадрес    \n(местонахождение)",
    "основной \nгосударственный \nрегистрационный  \nномер (ОГРН) \n",
    "идентифика- ционный \nномер \nналогопла-тельщика\n",
    "виды \nдеятельности",
    "форма \nподдержки\n",
    "размер \nподдержки\n(руб.)   \n",
    "срок \nоказания\nподдержки   \n",
    "Информация\n(если имеется) о нарушениях",
]
TITLE = "Реестр СО НКО – получателей поддержки\nв 2017 году\n\nКомитет по делам молодёжи\n"


def _row(number="1.", name="АНО «Пример»", amount="100 000", **kw) -> list[object]:
    values = {
        "number": number, "decision": "10.03.2017, протокол № 1", "name": name,
        "address": "101000, г. Москва, ул. Примерная, д. 1", "ogrn": "1027700000000",
        "inn": "7700000000", "activities": "Помощь", "form": "Субсидия из областного бюджета",
        "amount": amount, "term": "2017 год", "violations": None,
    }
    values.update(kw)
    return list(values.values())


def _sheet(rows: list[list[object]], *, title: str | None = TITLE, headers=HEADERS,
           title_rows: int = 1, numbers: bool = True, merges: tuple[str, ...] = ()) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    if title is not None:
        ws.cell(row=1, column=1, value=title)
    for _ in range(title_rows):
        ws.append([])
    ws.append(headers)
    if numbers:
        ws.append([n for n in range(1, len(headers) + 1)])  # numbers, not text, here
    for row in rows:
        ws.append(row)
    for cells in merges:
        ws.merge_cells(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _parse(body: bytes) -> list[dict]:
    return sonko.parse_registry2011(body, url=TEST_URL)


def test_header_block_is_found_wherever_the_title_pushes_it():
    (record,) = _parse(_sheet([_row()], title_rows=9))
    assert record["_row"] == 13  # title, 9 rows, header on 11, numbers on 12
    assert record["amount"] == Decimal("100000.00")
    assert record["authority"] == "Комитет по делам молодёжи"
    assert record["registry_year"] == 2017


def test_columns_are_matched_by_header_text_not_position():
    headers = HEADERS.copy()
    headers[4], headers[5] = headers[5], headers[4]
    row = _row()
    row[4], row[5] = row[5], row[4]
    (record,) = _parse(_sheet([row], headers=headers))
    assert record["inn"] == "7700000000" and record["ogrn"] == "1027700000000"


def test_soft_hyphen_and_spacing_in_headers_still_match():
    headers = HEADERS.copy()
    headers[6] = "виды \nдеятель\u00adности"
    headers[8] = "Размер  подд-\nержки"
    (record,) = _parse(_sheet([_row(activities="Помощь")], headers=headers))
    assert record["activities"] == "Помощь" and record["amount"] == Decimal("100000.00")


def test_thousands_of_rubles_header_scales_amounts():
    headers = HEADERS.copy()
    headers[8] = "размер \nподдержки\n(тыс. руб.)"
    (record,) = _parse(_sheet([_row(amount="1 234,5")], headers=headers))
    assert record["amount"] == Decimal("1234500.00")


def test_missing_required_column_names_it_and_the_file():
    headers = HEADERS.copy()
    headers[8] = "Сумма"
    with pytest.raises(sonko.MissingColumnError, match=r"test://registry2011\.xlsx.*размер"):
        _parse(_sheet([_row()], headers=headers))


def test_optional_columns_may_be_absent():
    headers = HEADERS[:-1]
    (record,) = _parse(_sheet([_row()[:-1]], headers=headers))
    assert record["violations"] is None and record["not_carried_out"] is False


def test_no_header_block_or_no_number_row_fails_loudly():
    with pytest.raises(sonko.MissingColumnError, match="Номер реестровой записи"):
        _parse(_sheet([_row()], headers=["a", "b", "c", "d", "e"]))
    with pytest.raises(ValueError, match="column numbers"):
        _parse(_sheet([_row()], numbers=False))
    with pytest.raises(ValueError, match="not a readable"):
        _parse(b"not a spreadsheet")


def test_continuation_row_without_merges_joins_its_address():
    second = [None, None, None, "Второй адрес", None, None, None, None, None, None, None]
    records = _parse(_sheet([_row(), second, _row(number="2.")]))
    assert [r["record_number"] for r in records] == ["1", "2"]
    assert records[0]["address"].endswith("; Второй адрес")
    assert records[1]["_row"] == 7


def test_unmerged_orphan_row_in_a_merging_file_is_not_glued_to_a_record():
    # Record 2 spans rows 6-7 by merged cells; row 8 has no number, no name, no merge.
    second = [None, None, None, "Второй адрес", None, None, None, None, None, None, None]
    stray = [None, None, None, "Примечание: адрес уточняется", None, None, None, None, None,
             None, None]
    merges = tuple(f"{c}6:{c}7" for c in "ABCEFGHIJK")
    records = _parse(_sheet([_row(), _row("2."), second, stray], merges=merges))
    assert [r["_row"] for r in records] == [5, 6, 8]
    assert records[1]["address"].endswith("; Второй адрес")
    assert "Примечание" not in records[1]["address"]
    result = validate(records, REGISTRY2011)
    assert [q.row for q in result.quarantined] == [8]


def test_continuation_row_with_a_second_amount_is_quarantined():
    second = [None, None, None, "Второй адрес", None, None, None, None, "50 000", None, None]
    (record,) = _parse(_sheet([_row(), second]))
    assert any("amount" in e and "row 6" in e for e in record["_errors"])
    assert validate([record], REGISTRY2011).quarantined


def test_record_number_cell_whose_copies_disagree_is_quarantined():
    (record,) = _parse(_sheet([_row(number="1.\n19.05.20172.\n19.05.2017")]))
    assert record["record_number"] == "1"
    assert validate([record], REGISTRY2011).quarantined


def test_duplicate_record_numbers_quarantine_every_copy():
    result = validate(_parse(_sheet([_row("1."), _row("1.", name="Б"), _row("2.")])),
                      REGISTRY2011)
    assert [r["record_number"] for r in result.valid] == ["2"]
    assert sorted(q.row for q in result.quarantined) == [5, 6]  # title, blank, header, numbers
    assert all(any("record_number=1" in r for r in q.reasons) for q in result.quarantined)


def test_unusable_records_fail_and_the_reason_says_why():
    rows = [_row("1.", amount=None), _row("2.", name=None), _row("3.", amount="-5")]
    result = validate(_parse(_sheet(rows)), REGISTRY2011)
    assert result.valid == []
    reasons = {q.record["record_number"]: " ".join(q.reasons) for q in result.quarantined}
    assert "amount" in reasons["1"] and "organisation_name" in reasons["2"]
    assert "amount_not_negative" in reasons["3"]


def test_year_comes_from_terms_when_the_title_has_none():
    records = _parse(_sheet([_row()], title="Реестр получателей поддержки\n\nКомитет X"))
    assert records[0]["registry_year"] == 2017
    records = _parse(_sheet([_row(term="2017 год"), _row("2.", term="2018 год")], title=None))
    assert {r["registry_year"] for r in records} == {None}
    assert {r["authority"] for r in records} == {None}
    assert len(validate(records, REGISTRY2011).quarantined) == 2


def test_decision_date_cell_and_the_record_number_as_a_number():
    (record,) = _parse(_sheet([_row(number=7.0, decision=datetime(2017, 3, 10))]))
    assert record["record_number"] == "7"
    assert record["decision_date"] == date(2017, 3, 10)
    assert record["decision_text"] == "10.03.2017"


@pytest.mark.parametrize(("form", "level"), [
    ("Субсидия из областного бюджета", "regional"),
    ("Субсидия из федерального бюджета", "federal"),
    ("Субсидия из бюджета муниципального образования", "municipal"),
    ("Субсидия из местного бюджета", "municipal"),
    ("Субсидия из бюджета Республики Татарстан", "regional"),
    ("Субсидия из областного и федерального бюджетов", None),
    ("Имущественная поддержка", None),
    (None, None),
])
def test_budget_level_from_the_form_of_support(form, level):
    assert sonko.budget_level(form) == level


@pytest.mark.parametrize(("note", "unpaid"), [
    ("Организация не заключила договор о предоставлении субсидии", True),
    ("Соглашение о предоставлении субсидии не подписано", True),
    ("Организация отказалась от получения субсидии", True),
    ("Нарушений не выявлено", False),
])
def test_unsigned_agreement_phrasings(note, unpaid):
    (record,) = _parse(_sheet([_row(violations=note)]))
    assert record["not_carried_out"] is unpaid


def test_term_year_is_the_one_year_a_term_names():
    assert sonko.term_year("2015 год") == 2015
    assert sonko.term_year("с 01.06.2014 по 31.12.2014") == 2014
    assert sonko.term_year("2014-2015 годы") is None
    assert sonko.term_year(None) is None


def test_model_columns_are_the_parser_fields_plus_flags(sample):
    parsed = {k for k in sample[0] if not k.startswith("_")}
    assert set(REGISTRY2011.columns()) == parsed | {"inn_valid", "ogrn_valid"}
    assert REGISTRY2011.columns()["amount"] == "DECIMAL(18,2)"
    assert REGISTRY2011.columns()["included_on"] == "DATE"
    assert REGISTRY2011.key == ("registry_year", "record_number")
    assert REGISTRY2011.table == "sonko__registry2011"


# --- the real Smolensk files --------------------------------------------------------------

YEARS = (2012, 2013, 2014, 2015)
COUNTS = {2012: 26, 2013: 23, 2014: 35, 2015: 33}
TOTALS = {2012: Decimal("10961700"), 2013: Decimal("2916700"),
          2014: Decimal("4701000"), 2015: Decimal("4701000")}


@pytest.fixture(scope="module")
def real() -> dict[int, list[dict]]:
    out = {}
    for year in YEARS:
        path = REAL / f"sonko_registry_smolensk_{year}.xls"
        if not path.is_file():
            pytest.fail(f"the real Smolensk registry is expected at {path}")
        out[year] = sonko.parse_registry2011(path.read_bytes(), url=str(path))
    return out


@pytest.mark.parametrize("year", YEARS)
def test_real_counts_totals_and_every_record_valid(real, year):
    records = real[year]
    assert len(records) == COUNTS[year]
    result = validate(records, REGISTRY2011)
    assert result.quarantined == []
    assert sum(r["amount"] for r in result.valid) == TOTALS[year]
    assert [r["record_number"] for r in records] == [str(n) for n in range(1, COUNTS[year] + 1)]
    assert {r["registry_year"] for r in records} == {year}


def test_real_2012_regional_and_federal_split(real):
    by_level: Counter = Counter()
    for record in real[2012]:
        by_level[record["budget_level"]] += record["amount"]
    assert by_level == {"regional": Decimal("2764700"), "federal": Decimal("8197000")}
    assert Counter(r["budget_level"] for r in real[2012]) == {"federal": 14, "regional": 12}
    assert all(r["budget_level"] == "regional" for y in (2013, 2014, 2015) for r in real[y])


def test_real_2012_record_18_is_one_record_with_both_addresses(real):
    rows = {r["record_number"]: r for r in real[2012]}
    record = rows["18"]
    assert record["address"] == (
        "214014, Смоленская область, г. Смоленск, ул. Исаковского, д.5, оф. 205; "
        "214000, Смоленская область, г.Смоленск, ул.Исаковского, д.5, оф.205"
    )
    assert record["_row"] == 39
    assert rows["19"]["_row"] == 41
    assert record["amount"] == Decimal("850000")
    assert sum(";" in (r["address"] or "") for r in real[2012]) == 1


def test_real_authority_changes_between_years(real):
    authorities = {year: {r["authority"] for r in real[year]} for year in YEARS}
    assert authorities == {2012: {GUIPOS}, 2013: {GUIPOS}, 2014: {DEPARTMENT},
                           2015: {DEPARTMENT}}


def test_real_invalid_identifiers_are_flagged_as_reported(real):
    flagged_inn = {year: sorted(r["inn"] for r in validate(real[year], REGISTRY2011).valid
                                if r["inn_valid"] is False) for year in YEARS}
    assert flagged_inn == {
        2012: sorted(["673004802", "25760723", "67300072640", "67300121151"]),
        2013: sorted(["673004802", "25760723", "67300072640", "67300121151"]),
        2014: sorted(["673004802", "67300072640"]),
        2015: sorted(["673004802", "67300072640"]),
    }
    for year in YEARS:
        valid = validate(real[year], REGISTRY2011).valid
        assert [r["ogrn"] for r in valid if r["ogrn_valid"] is False] == ["1076700006484"]
        assert all(r["ogrn_valid"] for r in valid if r["ogrn"] != "1076700006484")


def test_real_identifiers_stored_as_numbers_are_exact(real):
    first = real[2012][0]
    assert first["ogrn"] == "1026700000810"  # the cell holds 1026700000810.0
    assert first["inn"] == "673004802"
    assert {r["inn"] for r in real[2012] if r["record_number"] == "22"} == {"6731076743"}


def test_real_same_inn_with_two_valid_ogrn_in_different_years(real):
    ogrn = {year: {r["ogrn"] for r in real[year] if r["inn"] == "6730060290"} for year in YEARS}
    assert ogrn == {2012: {"1026700000030"}, 2013: {"1026700000030"},
                    2014: {"1056795008710"}, 2015: {"1056795008710"}}


def test_real_2015_repeated_record_number_cells(real):
    assert {r["included_on"] for r in real[2015]} == {date(2015, 5, 19)}
    assert all("_errors" not in r for r in real[2015])
    # Before 2015 the cell holds only the number, with no inclusion date.
    assert {r["included_on"] for y in (2012, 2013, 2014) for r in real[y]} == {None}


def test_real_decision_dates_and_texts(real):
    assert {r["decision_date"] for r in real[2012]} == {date(2012, 2, 17)}
    assert real[2012][0]["decision_text"] == "17.02.2012- протокол заседания конкурсной комиссии №1"
    assert Counter(r["decision_date"] for r in real[2014]) == {
        date(2014, 5, 14): 26, date(2014, 6, 10): 9}
    assert {r["decision_date"] for r in real[2015]} == {date(2015, 4, 20)}


def test_real_2012_empty_terms(real):
    empty = [r["record_number"] for r in real[2012] if r["support_term"] is None]
    assert empty == ["11", "12", "13"]
    assert all(r["term_year"] == 2012 for r in real[2012] if r["support_term"])
    assert {r["support_term"] for y in (2013, 2014, 2015) for r in real[y]} == {
        "2013 год", "2014 год", "2015 год"}


def test_real_2014_unsigned_agreement(real):
    (unsigned,) = [r for y in YEARS for r in real[y] if r["not_carried_out"]]
    assert unsigned["registry_year"] == 2014 and unsigned["record_number"] == "27"
    assert unsigned["amount"] == Decimal("30000")
    assert unsigned["violations"] == "Организация не заключила договор о предоставлении субсидии"
    paid = sum(r["amount"] for r in real[2014] if not r["not_carried_out"])
    assert paid == Decimal("4671000")
