"""Region seeds: codes against the HFLabs reference, name keys, and resolving every 2013 row."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import pytest

from schemas.identifiers import ogrn_subject_code
from schemas.regions import NAME_KEY_SQL, name_key
from schemas.vocabularies import SEEDS_DIR
from scrapers import oprf2013
from scrapers.samples import FIXTURES_DIR, sample_path

SHARED = Path(__file__).parents[2] / "shared"
HFLABS = SHARED / "data/reference/regions_hflabs.csv"
REAL_CSV = SHARED / "data/real/oprf_grants_2013.csv"
# The subjects added in 2022 are not in the HFLabs reference: their tax codes come from
# the ФНС list named in the seed; nothing else about them is sourced, so nothing else is set.
NEW_SUBJECTS = {
    "Донецкая Народная Республика": "93",
    "Луганская Народная Республика": "94",
    "Запорожская область": "90",
    "Херсонская область": "95",
}
# Cities the seed leaves out on purpose: two cities share the name, or the town
# is neither a regional centre nor a city of 100 000, or it is a village.
LEFT_OUT = {"Заречный", "Павловск", "Киров", "Благовещенск", "Пионерский", "Назрань",
            "п. Октябрьский", "п.Октябрьский", "д. Коняево"}


def _read(path: Path) -> list[dict]:
    if not path.is_file():
        pytest.fail(f"expected {path}")
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def regions() -> list[dict]:
    return _read(SEEDS_DIR / "regions.csv")


@pytest.fixture(scope="module")
def names() -> list[dict]:
    return _read(SEEDS_DIR / "region_names.csv")


@pytest.fixture(scope="module")
def cities() -> list[dict]:
    return _read(SEEDS_DIR / "region_cities.csv")


@pytest.fixture(scope="module")
def hflabs() -> list[dict]:
    return _read(HFLABS)


def _lookup(rows: list[dict], column: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row["region_code"]:
            out[name_key(row[column])].add(row["region_code"])
    return out


@pytest.fixture(scope="module")
def by_name(regions, names) -> dict[str, set[str]]:
    out = _lookup(names, "name")
    for key, codes in _lookup(regions, "name").items():
        out[key] |= codes
    return out


@pytest.fixture(scope="module")
def by_city(cities) -> dict[str, set[str]]:
    return _lookup(cities, "city")


# --- the rule -----------------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), [
    ("г. Санкт- Петербург", "г Санкт-Петербург"),
    ("г.Москва", "г. Москва"),
    ("Челябинск ая область", "Челябинская область"),
    ("Ханты-Мансийский автономный округ — Югра", "Ханты-Мансийский автономный округ - Югра"),
    ("Кемеровская область – Кузбасс", "Кемеровская\u00a0область-Кузбасс"),
    ("Республика Саха (Якутия)", "Республика Саха /Якутия/"),
    ("Нижегородская обл.", "нижегородская обл"),
    ("Орёл", "ОРЕЛ"),
    ("ОРЁЛ", "Орел"),
])
def test_name_key_joins_spellings(a, b):
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(("a", "b"), [
    ("Республика Алтай", "Алтайский край"),
    ("Москва", "Московская область"),
    ("Ненецкий автономный округ", "Ямало-Ненецкий автономный округ"),
    ("Республика Удмуртия", "Удмуртская Республика"),
])
def test_name_key_keeps_words_apart(a, b):
    assert name_key(a) != name_key(b)


def test_name_key_of_nothing():
    assert name_key(None) is None
    assert name_key(" \u00a0- ") is None


def test_sql_rule_gives_the_same_keys(regions, names, cities):
    texts = sorted({r["name"] for r in regions} | {r["name"] for r in names}
                   | {r["city"] for r in cities} | {"ОРЁЛ", "г.\u00a0Москва", "a—b–c‐d"})
    con = duckdb.connect()
    sql = NAME_KEY_SQL.format(expr="t")
    got = dict(con.execute(f"select t, {sql} from unnest(?) as u(t)", [texts]).fetchall())
    assert got == {t: name_key(t) for t in texts}


# --- regions.csv against the reference ----------------------------------------------------


def test_every_row_names_its_source(regions, names, cities):
    for rows in (regions, names, cities):
        assert all(r["source"].strip() for r in rows)


def test_regions_columns(regions):
    assert list(regions[0]) == ["region_code", "name", "kind", "okato", "oktmo", "iso_3166_2",
                                "federal_district", "source"]


def test_89_subjects_one_territory_one_country(regions):
    kinds = Counter(r["kind"] for r in regions)
    assert kinds == {"subject": 89, "territory": 1, "country": 1}
    (baikonur,) = [r for r in regions if r["kind"] == "territory"]
    assert baikonur["region_code"] == "99" and "Байконур" in baikonur["name"]
    (kg,) = [r for r in regions if r["kind"] == "country"]
    assert kg["region_code"] == "KG"
    codes = [r["region_code"] for r in regions if r["region_code"]]
    assert len(codes) == len(set(codes)) == 91


def test_new_subjects_have_tax_codes_and_nothing_unsourced(regions, hflabs):
    new = {r["name"]: r for r in regions if r["name"] in NEW_SUBJECTS}
    assert set(new) == set(NEW_SUBJECTS)
    reference_codes = {ref["kladr_id"][:2] for ref in hflabs}
    for name, row in new.items():
        assert row["kind"] == "subject"
        assert row["region_code"] == NEW_SUBJECTS[name]
        # A code of its own: no subject of the reference has it.
        assert row["region_code"] not in reference_codes
        assert (row["okato"], row["oktmo"], row["iso_3166_2"], row["federal_district"]) \
            == ("",) * 4
        assert "ЕД-7-21/988@" in row["source"] and "not in the reference" in row["source"]


def test_codes_match_hflabs(regions, hflabs):
    seed = {r["region_code"]: r for r in regions if r["region_code"]}
    assert len(hflabs) == 86
    for ref in hflabs:
        code = ref["kladr_id"][:2]
        row = seed[code]
        assert row["okato"] == ref["okato"][:2], ref["name"]
        assert row["oktmo"] == ref["oktmo"][:2], ref["name"]
        assert row["federal_district"] == ref["federal_district"], ref["name"]
        expected_iso = ref["iso_code"] if ref["iso_code"].startswith("RU-") else ""
        assert row["iso_3166_2"] == expected_iso, ref["name"]
        if ref["name"] == "Ненецкий":
            # Its tax office 2983 belongs to Архангельская область's numbering.
            assert ref["tax_office"][:2] == "29" and code == "83"
        else:
            assert code == ref["tax_office"][:2], ref["name"]


def test_moscow_tax_code_is_not_its_okato(regions):
    moscow = next(r for r in regions if r["name"] == "г. Москва")
    assert (moscow["region_code"], moscow["okato"], moscow["oktmo"]) == ("77", "45", "45")
    altai = next(r for r in regions if r["name"] == "Алтайский край")
    assert (altai["region_code"], altai["okato"]) == ("22", "01")


def test_official_names(regions):
    by_code = {r["region_code"]: r["name"] for r in regions}
    assert by_code["52"] == "Нижегородская область"
    assert by_code["16"] == "Республика Татарстан"
    assert by_code["18"] == "Удмуртская Республика"
    assert by_code["21"] == "Чувашская Республика - Чувашия"
    assert by_code["42"] == "Кемеровская область - Кузбасс"
    assert by_code["86"] == "Ханты-Мансийский автономный округ - Югра"
    assert by_code["14"] == "Республика Саха (Якутия)"


# --- names and cities ---------------------------------------------------------------------


def test_name_keys_point_to_one_region(by_name, regions):
    collisions = {k: c for k, c in by_name.items() if len(c) != 1}
    assert collisions == {}
    # the 2022 subjects resolve by their names to their own codes
    for row in regions:
        if row["name"] in NEW_SUBJECTS:
            assert by_name[name_key(row["name"])] == {NEW_SUBJECTS[row["name"]]}


def test_name_and_city_codes_exist(regions, names, cities):
    codes = {r["region_code"] for r in regions if r["region_code"]}
    assert {r["region_code"] for r in names} <= codes
    assert {r["region_code"] for r in cities} <= codes


def test_every_region_has_its_hflabs_and_short_spellings(by_name, regions, hflabs):
    for ref in hflabs:
        assert by_name[name_key(ref["name_with_type"])] == {ref["kladr_id"][:2]}
    for spelling, code in [("Нижегородская обл.", "52"), ("город Москва", "77"), ("Москва", "77"),
                           ("г.Москва", "77"), ("Респ. Татарстан", "16"),
                           ("Республика Удмуртская", "18"), ("Чувашская Республика", "21"),
                           ("Кемеровская область", "42"),
                           ("Республика Северная Осетия — Алания", "15"),
                           ("Ханты-Мансийский автономный округ — Югра", "86"),
                           ("Киргизия", "KG")]:
        assert by_name[name_key(spelling)] == {code}, spelling


def test_city_keys_point_to_one_region(by_city):
    assert {k: c for k, c in by_city.items() if len(c) != 1} == {}
    assert not {name_key(c) for c in LEFT_OUT} & set(by_city)
    assert by_city[name_key("Орел")] == {"57"}


# --- resolving the real 2013 file: names, then cities, then the ОГРН subject code ---------


def _resolve(record: dict, by_name, by_city, subject_codes) -> tuple[str, str | None]:
    if record["region"]:
        codes = by_name.get(name_key(record["region"]), set())
        return "name", (next(iter(codes)) if len(codes) == 1 else None)
    if record["city"]:
        codes = by_city.get(name_key(record["city"]), set())
        if len(codes) == 1:
            return "city", next(iter(codes))
    code = ogrn_subject_code(record["ogrn"])
    return "ogrn", (code if code in subject_codes else None)


@pytest.fixture(scope="module")
def real() -> list[dict]:
    if not REAL_CSV.is_file():
        pytest.fail(f"the real 2013 list is expected at {REAL_CSV}")
    return oprf2013.parse_csv(REAL_CSV.read_bytes(), url=str(REAL_CSV))


@pytest.fixture(scope="module")
def subject_codes(regions) -> set[str]:
    return {r["region_code"] for r in regions if r["kind"] in ("subject", "territory")
            and r["region_code"]}


def test_every_real_row_resolves(real, by_name, by_city, subject_codes):
    resolved = [_resolve(r, by_name, by_city, subject_codes) for r in real]
    assert [r for r, (_, code) in zip(real, resolved, strict=True) if code is None] == []
    assert Counter(method for method, _ in resolved) == {"name": 540, "city": 240, "ogrn": 307}


def test_real_region_spellings_agree_with_ogrn(real, by_name):
    # Each spelling resolves to the subject most of its rows' ОГРН were registered in.
    prefixes: dict[str, Counter] = defaultdict(Counter)
    for r in real:
        if r["region"]:
            prefixes[r["region"]][ogrn_subject_code(r["ogrn"])] += 1
    assert len(prefixes) == 82
    for spelling, counts in prefixes.items():
        assert by_name[name_key(spelling)] == {counts.most_common(1)[0][0]}, spelling


def test_real_cities_agree_with_ogrn(real, by_city):
    prefixes: dict[str, Counter] = defaultdict(Counter)
    for r in real:
        if not r["region"] and r["city"] and name_key(r["city"]) in by_city:
            prefixes[r["city"]][ogrn_subject_code(r["ogrn"])] += 1
    assert sum(sum(c.values()) for c in prefixes.values()) == 240
    for city, counts in prefixes.items():
        assert by_city[name_key(city)] == {counts.most_common(1)[0][0]}, city


def test_sample_rows_resolve(by_name, by_city, subject_codes):
    sample = oprf2013.parse_csv(sample_path(oprf2013.CSV_URL, FIXTURES_DIR).read_bytes())
    resolved = {r["grant_key"]: _resolve(r, by_name, by_city, subject_codes) for r in sample}
    assert all(code for _, code in resolved.values())
    assert resolved["ИПГО:35"] == ("name", "86")
    assert resolved["Лига здоровья нации:2041"] == ("city", "16")
    assert resolved["Лига здоровья нации:2073"] == ("ogrn", "58")  # Заречный is ambiguous
    assert resolved["РСМ:501"] == ("ogrn", "73")
