"""Presidential grants 2013: the parser on our sample and on the real consolidated list."""

from __future__ import annotations

import csv
import io
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from schemas.base import validate
from schemas.oprf2013 import GRANTS
from scrapers import oprf2013
from scrapers.samples import FIXTURES_DIR, sample_path

REAL_CSV = Path(__file__).parents[2] / "shared/data/real/oprf_grants_2013.csv"
HEADER = "filename,operator,N,ogrn,summ,req_num,org_name,project_name,region,city,fedokrug\n"
OPERATORS_2013 = {
    "ИПГО": 238,
    "Национальный благотворительный фонд": 302,
    "Лига здоровья нации": 256,
    "РСМ": 116,
    "Общество Знание": 108,
    "ИСЭПИ": 67,
}


def _parse(text: str) -> list[dict]:
    return oprf2013.parse_csv(text.encode("utf-8"), url="test://oprf2013.csv")


def _by_key(records: list[dict]) -> dict[str, dict]:
    return {r["grant_key"]: r for r in records if r["grant_key"]}


# --- the sample -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> list[dict]:
    body = sample_path(oprf2013.CSV_URL, FIXTURES_DIR).read_bytes()
    return oprf2013.parse_csv(body, url=oprf2013.CSV_URL)


def test_sample_lives_where_the_url_points():
    assert oprf2013.CSV_URL.startswith(f"https://{oprf2013.HOST}/")
    assert sample_path(oprf2013.CSV_URL, FIXTURES_DIR).is_file()


def test_the_offline_default_ships_the_real_file():
    """samples/ holds the real 2013 list, byte for byte; the invented one is a fixture."""
    shipped = sample_path(oprf2013.CSV_URL).read_bytes()
    assert shipped == REAL_CSV.read_bytes()
    assert shipped != sample_path(oprf2013.CSV_URL, FIXTURES_DIR).read_bytes()


def test_sample_counts_and_quarantine(sample):
    assert len(sample) == 25
    result = validate(sample, GRANTS)
    assert len(result.valid) == 24
    assert sum(r["amount"] for r in result.valid) == Decimal("14595500")
    (bad,) = result.quarantined
    assert bad.row == 13
    assert bad.record["grant_key"] == "Национальный благотворительный фонд:152"
    assert any("amount" in r and "1O00000" in r for r in bad.reasons)


def test_sample_operators_are_trimmed_and_row_numbers_parsed(sample):
    rsm = [r for r in sample if r["source_file"].startswith("rsm_")]
    assert [r["operator"] for r in rsm] == ["РСМ"] * 3
    assert [r["row_number"] for r in rsm] == [1, 2, 3]
    assert all(r["operator"] == r["operator"].strip("\xa0 ") for r in sample)


def test_sample_e_notation_ogrn_is_exact(sample):
    by_key = _by_key(sample)
    assert by_key["ИПГО:4"]["ogrn"] == "1095200012346"
    assert by_key["ИПГО:29"]["ogrn"] == "1041800112100"  # written in full in the file
    assert all(len(r["ogrn"]) == 13 and r["ogrn"].isdigit() for r in sample)


def test_sample_multiline_fields_are_one_record(sample):
    by_key = _by_key(sample)
    assert by_key["ИПГО:35"]["organisation_name"] == (
        "Автономная некоммерческая организация\n«Северное сияние»"
    )
    assert by_key["Национальный благотворительный фонд:102"]["title"].startswith(
        'Проект "Тропа ветеранов":\nвстречи'
    )
    # record numbers count a quoted line break as part of its record
    assert by_key["ИПГО:733"]["_row"] == 8
    assert [r["_row"] for r in sample] == list(range(2, 27))


def test_sample_shifted_row_is_repaired_and_flagged(sample):
    row = _by_key(sample)["ИПГО:733"]
    assert row["application_number"] == "733"
    assert row["organisation_name"] == 'Региональная общественная организация "Светлый берег"'
    assert row["repaired"] is True
    assert "733" in row["repair_note"]
    assert sum(r["repaired"] for r in sample) == 1
    assert all(r["repair_note"] is None for r in sample if not r["repaired"])


def test_sample_region_city_district_as_reported(sample):
    by_key = _by_key(sample)
    assert by_key["ИПГО:23"]["region"] == "Челябинск ая область"
    assert by_key["ИПГО:17"]["region"] == "г. Санкт- Петербург"
    assert by_key["ИПГО:17"]["federal_district"] == "СЗФО"
    assert by_key["ИПГО:23"]["federal_district"] is None
    neither = by_key["РСМ:501"]
    assert neither["region"] is None and neither["city"] is None
    assert by_key["Лига здоровья нации:2041"]["region"] is None
    assert by_key["Лига здоровья нации:2041"]["city"] == "Казань"


def test_sample_failing_ogrn_is_loaded_and_flagged(sample):
    result = validate(sample, GRANTS)
    flagged = [r for r in result.valid if r["ogrn_valid"] is False]
    assert [r["grant_key"] for r in flagged] == ["Национальный благотворительный фонд:140"]
    assert all(r["ogrn_valid"] is True for r in result.valid if r not in flagged)


# --- quirks on small inputs ---------------------------------------------------------------


def test_region_spaces_are_collapsed_and_nothing_else():
    line = 'f,ИПГО,1,1027700000012,100,5,Орг,Проект,"Челябинск ая  \xa0область",Челябинск,\n'
    text = HEADER + line
    (rec,) = _parse(text)
    assert rec["region"] == "Челябинск ая область"


def test_name_with_number_is_not_repaired_when_org_name_is_given():
    text = HEADER + 'f,ИПГО,1,1027700000012,100,"Фонд 510 ""Берег""",Фонд Берег,Проект,,,\n'
    (rec,) = _parse(text)
    assert rec["repaired"] is False
    assert rec["application_number"] is None
    assert any("application_number" in e for e in rec["_errors"])
    assert validate([rec], GRANTS).quarantined


def test_name_with_two_numbers_is_not_repaired():
    text = HEADER + 'f,ИПГО,1,1027700000012,100,"Фонд 510 школа 7",,Проект,,,\n'
    (rec,) = _parse(text)
    assert rec["repaired"] is False
    assert rec["grant_key"] is None
    assert len(validate([rec], GRANTS).quarantined) == 1


def test_duplicate_grant_keys_quarantine_every_copy():
    text = (
        HEADER
        + "f,ИПГО,1,1027700000012,100,5,Орг А,Проект А,,,\n"
        + "f,ИПГО,2,1027700000012,200,5,Орг Б,Проект Б,,,\n"
        + "f,ИПГО,3,1027700000012,300,6,Орг В,Проект В,,,\n"
    )
    result = validate(_parse(text), GRANTS)
    assert [r["grant_key"] for r in result.valid] == ["ИПГО:6"]
    assert sorted(q.row for q in result.quarantined) == [2, 3]
    assert all(any("grant_key" in r for r in q.reasons) for q in result.quarantined)


def test_non_positive_amount_is_quarantined():
    text = HEADER + "f,ИПГО,1,1027700000012,0,5,Орг,Проект,,,\n"
    (q,) = validate(_parse(text), GRANTS).quarantined
    assert any("amount" in r for r in q.reasons)


def test_header_is_matched_by_name():
    reordered = "operator,filename,N,ogrn,summ,req_num,org_name,project_name,region,city,fedokrug\n"
    (rec,) = _parse(reordered + "ИПГО,f,1,1027700000012,100,5,Орг,Проект,,,\n")
    assert rec["operator"] == "ИПГО" and rec["source_file"] == "f"
    with pytest.raises(ValueError, match=r"test://oprf2013\.csv.*summ"):
        _parse(HEADER.replace("summ", "sum") + "f,ИПГО,1,1,1,1,a,b,,,\n")


def test_short_record_is_quarantined_with_its_number():
    (rec,) = _parse(HEADER + "f,ИПГО,1,1027700000012,100\n")
    assert rec["_row"] == 2
    assert any("expected 11 fields" in e for e in rec["_errors"])
    assert validate([rec], GRANTS).quarantined


def test_model_columns_are_the_parser_fields_plus_the_flag(sample):
    parsed = {k for k in sample[0] if not k.startswith("_")}
    assert set(GRANTS.columns()) == parsed | {"ogrn_valid"}
    assert GRANTS.columns()["amount"] == "DECIMAL(18,2)"
    assert GRANTS.key == ("grant_key",)


# --- the real file ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_body() -> bytes:
    if not REAL_CSV.is_file():
        pytest.fail(f"the real 2013 list is expected at {REAL_CSV}")
    return REAL_CSV.read_bytes()


@pytest.fixture(scope="module")
def real(real_body) -> list[dict]:
    return oprf2013.parse_csv(real_body, url=str(REAL_CSV))


@pytest.fixture(scope="module")
def real_raw(real_body) -> list[dict]:
    return list(csv.DictReader(io.StringIO(real_body.decode("utf-8"), newline="")))


def test_real_all_rows_parse_and_validate(real):
    assert len(real) == 1087
    result = validate(real, GRANTS)
    assert result.quarantined == []
    assert len(result.valid) == 1087
    assert sum(r["amount"] for r in result.valid) == Decimal("2175799999")
    assert len({r["grant_key"] for r in real}) == 1087


def test_real_e_notation_ogrn_exact(real, real_raw):
    assert len(real) == len(real_raw)
    e_notation = [(raw["ogrn"], rec["ogrn"]) for raw, rec in zip(real_raw, real, strict=True)
                  if "E" in raw["ogrn"]]
    assert len(e_notation) == 878
    for raw, parsed in e_notation:
        assert len(parsed) == 13 and parsed.isdigit()
        assert Decimal(parsed) == Decimal(raw)


def test_real_six_ogrn_fail_and_are_flagged(real):
    valid = validate(real, GRANTS).valid
    flagged = sorted(r["ogrn"] for r in valid if r["ogrn_valid"] is False)
    assert len(flagged) == 6
    assert flagged == sorted([
        "1027739575968", "1062700000046", "1025901221435",
        "1037858013013", "1067799016321", "1097799008853",
    ])
    assert all(r["ogrn_valid"] is True for r in valid if r["ogrn"] not in flagged)


def test_real_operators_trimmed_with_known_counts(real, real_raw):
    assert Counter(r["operator"] for r in real) == OPERATORS_2013
    assert sum(raw["operator"].startswith("\xa0") for raw in real_raw) == 116


def test_real_row_102_repair(real):
    (row,) = [r for r in real if r["repaired"]]
    assert row["operator"] == "ИПГО" and row["row_number"] == 102
    assert row["application_number"] == "510"
    assert row["grant_key"] == "ИПГО:510"
    assert row["organisation_name"] == (
        'Межрегиональная общественная организация "Общественный центр "Судебно-правовая реформа"'
    )
    assert "510" in row["repair_note"]


def test_real_multiline_fields_kept(real):
    assert sum("\n" in (r["organisation_name"] or "") for r in real) == 219
    assert sum("\n" in (r["title"] or "") for r in real) == 114
    assert real[-1]["_row"] == 1088
    first = next(r for r in real if "\n" in (r["organisation_name"] or ""))
    assert first["organisation_name"] == (
        "Общественная организация\n«Федеральная национально- культурная автономия татар»"
    )


def test_real_region_and_district_as_reported(real):
    regions = Counter(r["region"] for r in real)
    assert regions[None] == 547
    assert regions["Челябинск ая область"] == 3
    assert regions["г. Санкт- Петербург"] == 16
    assert Counter(r["federal_district"] for r in real)[None] == 849
    assert "СКФО" in {r["federal_district"] for r in real}
    assert all(r["row_number"] is not None for r in real)
