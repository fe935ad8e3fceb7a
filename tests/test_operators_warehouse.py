"""The presidential grants through operators in the warehouse: the 2007–2012 lists and the
allocations 2009–2013 (`operators`) beside the 2013 file (`oprf2013`), built from the real
documents.

One build from the shipped samples with the real 2013 file in place of the 2013 sample
(the operators' real lists are shipped already). Checked: fact_grant holds every list as
the parser and `merge_copies` give it, one programme per operator and year shared by the
allocation and the list, the marts take one of the two, the region marts never the
allocation, and the reconciliation table with its warning test.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import jinja2
import pytest

from pipelines.paths import DBT_PROJECT_DIR
from schemas.base import validate
from schemas.operators import WINNERS
from schemas.vocabularies.operators import OPERATORS, operator_key
from scrapers import operators, oprf2013
from scrapers.samples import SAMPLES_DIR, sample_relpath
from tests.conftest import REAL
from tests.conftest import query as _query

LISTS = REAL / "operators_2007_2012"
WARN_TEST = DBT_PROJECT_DIR / "tests" / "assert_listed_grants_within_allocation.sql"
SEED = DBT_PROJECT_DIR / "seeds" / "operator_spellings.csv"


@pytest.fixture(scope="module")
def db(real_build) -> Path:
    # samples/ ships the real 2013 list beside the operators' lists (a test below checks it
    # is the same file as ../shared's copy), so the offline default build is this one.
    return real_build / "socfund.duckdb"


@pytest.fixture(scope="module")
def merged() -> list[dict]:
    """The lists as the parser reads them, validated, made one by `merge_copies`."""
    records = []
    for f in operators.FILES:
        parsed = operators.parse_winners((LISTS / f.name).read_bytes(), url=f.url)
        records.extend(validate(parsed, WINNERS).valid)
    return operators.merge_copies(records)


def _programme(key: str, year: int) -> str:
    return f"operators:operator:{key}:{year}"


def test_fact_grant_holds_each_list_as_the_parser_and_merge_copies_give_it(db, merged):
    expected_rows: Counter = Counter()
    expected_rub: defaultdict = defaultdict(Decimal)
    for r in merged:
        expected_rows[_programme(r["operator_key"], r["year"])] += 1
        expected_rub[_programme(r["operator_key"], r["year"])] += r["amount"] or 0
    rows = _query(db, "select programme_id, count(*), coalesce(sum(amount_awarded), 0) "
                      "from fact_grant where source = 'operators' group by 1")
    assert {p: n for p, n, _ in rows} == dict(expected_rows)
    assert {p: rub for p, _, rub in rows} == dict(expected_rub)
    # Every year 2007–2012 is there, and thousands of rows.
    assert {int(p.rsplit(":", 1)[1]) for p in expected_rows} == set(range(2007, 2013))
    assert sum(expected_rows.values()) == 2291
    (ids,) = _query(db, "select count(distinct grant_id) from fact_grant "
                        "where source = 'operators'")[0]
    assert ids == 2291


def test_soprotivlenie_2009_is_one_list_of_its_two_copies(db, merged):
    python = Counter(len(r["found_in"]) for r in merged
                     if r["operator_key"] == "soprotivlenie" and r["year"] == 2009)
    assert python == {2: 80}
    rows = _query(db, """
        select found_in, matched_by, only_in, count(*) from intermediate.int_operators__winners
        where operator_key = 'soprotivlenie' and year = 2009 group by all""")
    assert rows == [("both", "organisation_and_project", None, 80)]
    (copies,) = _query(db, "select count(*) from staging.stg_operators__winners "
                           "where operator_key = 'soprotivlenie' and year = 2009")[0]
    assert copies == 160
    # Every other list is in one copy and passes through.
    assert _query(db, "select distinct found_in from intermediate.int_operators__winners "
                      "where not (operator_key = 'soprotivlenie' and year = 2009) "
                      "order by 1") == [("csv",), ("workbook",)]


def test_a_row_in_one_copy_only_is_kept_and_says_which():
    """The merge over a list whose copies disagree: one row in the CSV only, one in the
    workbook only, one matched by number, one by organisation and project."""
    sql = (DBT_PROJECT_DIR / "models" / "intermediate" / "int_operators__winners.sql")
    con = duckdb.connect()
    try:
        con.execute("""create table winners as
            select *, case when copy like '%.xlsx' then 'workbook' else 'csv' end as copy_kind,
                   null::varchar as city, null::varchar as region_reported
            from (values
                ('a.csv:1', 'x', 2009, 'a.csv', '7', 'Фонд «Свет»', 'Дом', 1, 100.00),
                ('a.csv:2', 'x', 2009, 'a.csv', '8', 'АНО Ветер', 'Сад', 2, 200.00),
                ('a.csv:3', 'x', 2009, 'a.csv', '9', 'Только CSV', 'Лес', 3, 300.00),
                ('b.xlsx:1', 'x', 2009, 'b.xlsx', '7', 'Фонд Свет', 'Дом!', 1, 100.00),
                ('b.xlsx:2', 'x', 2009, 'b.xlsx', null, 'АНО «Ветер»', 'Сад.', 2, 250.00),
                ('b.xlsx:3', 'x', 2009, 'b.xlsx', null, 'Только книга', 'Поле', 3, 400.00)
            ) as t(record_key, operator_key, year, copy, application_number,
                   organisation_name, title, source_row, amount)""")
        code = jinja2.Environment().from_string(sql.read_text(encoding="utf-8")).render(
            ref=lambda name: "winners",
            name_key=lambda e: (f"nullif(regexp_replace(replace(lower({e}), 'ё', 'е'), "
                                f"'[^0-9a-zа-я]+', '', 'g'), '')"))
        rows = con.execute(f"select record_key, found_in, matched_by, only_in, differences, "
                           f"listed_grant_key from ({code}) order by 1").fetchall()
    finally:
        con.close()
    assert rows == [
        ("a.csv:1", "both", "application_number", None, [], "x:2009:7"),
        ("a.csv:2", "both", "organisation_and_project", None, ["amount"], "x:2009:8"),
        ("a.csv:3", "csv", None, "csv", [], "x:2009:9"),
        ("b.xlsx:3", "workbook", None, "workbook", [], "x:2009:b.xlsx:3"),
    ]


def test_the_reconciliation_table(db):
    rows = {(k, y): rest for k, y, *rest in _query(db, """
        select operator_key, year, allocation, listed_amount, gap, share, listed_grants, status
        from mart_operator_reconciliation""")}
    assert {y for _, y in rows} == set(range(2007, 2014))
    # 2013 against the 2013 file: 2 320 mln allocated in all, 2 175 799 999 ₽ listed.
    total_2013 = [(r[0], r[1]) for (_, y), r in rows.items() if y == 2013]
    assert sum(a for a, _ in total_2013) == Decimal("2320000000.00")
    assert sum(listed for _, listed in total_2013) == Decimal("2175799999.00")
    assert len(total_2013) == 6 and all(r[5] == "ok" for (_, y), r in rows.items() if y == 2013)
    # 2007–2008: lists and no allocation; an allocation and no list: `no list at hand`.
    assert {r[5] for (_, y), r in rows.items() if y < 2009} == {"no allocation"}
    assert rows[("inop", 2009)][5] == "no list at hand" and rows[("inop", 2009)][4] == 0
    allocation, listed, gap, share, grants, status = rows[("gosclub", 2009)]
    assert (allocation, listed, gap, grants, status) == (
        Decimal("270000000.00"), Decimal("256500000.00"), Decimal("13500000.00"), 114, "ok")
    assert share == pytest.approx(0.95)
    # Every listed total is at or below its allocation: the warning test finds nothing.
    assert all(r[1] <= r[0] for r in rows.values() if r[5] == "ok")
    assert _query(db, _warn_test_sql("mart_operator_reconciliation")) == []


def _warn_test_sql(table: str) -> str:
    return jinja2.Environment().from_string(WARN_TEST.read_text(encoding="utf-8")).render(
        ref=lambda name: table, config=lambda **kw: "")


def test_the_warning_names_operator_and_year_when_a_list_exceeds_its_allocation():
    con = duckdb.connect()
    try:
        con.execute("""create table reconciliation as select * from (values
            ('nbfond', 'Национальный благотворительный фонд', 2009, 500000000.00, 500000000.01),
            ('gosclub', 'Государственный клуб', 2009, 270000000.00, 256500000.00),
            ('znanie', 'Общество «Знание» России', 2008, null, 300800000.00),
            ('inop', 'Институт общественного проектирования', 2010, 80000000.00, null)
            ) as t(operator_key, operator, year, allocation, listed_amount)""")
        rows = con.execute(_warn_test_sql("reconciliation")).fetchall()
    finally:
        con.close()
    assert rows == [("nbfond", "Национальный благотворительный фонд", 2009,
                     Decimal("500000000.00"), Decimal("500000000.01"))]
    text = WARN_TEST.read_text(encoding="utf-8")
    assert "severity='warn'" in text


def test_allocation_and_list_share_one_programme_and_the_marts_take_the_allocation(db):
    shared = _query(db, """
        select programme_id, list_sort(list(distinct basis))
        from fact_funding where source in ('operators', 'oprf2013') group by 1""")
    bases = dict(shared)
    assert bases[_programme("gosclub", 2009)] == ["allocation", "competition_result"]
    # 2013: the 2013 file's grants and the 2013 allocation are one programme too.
    for key in ("inpgo", "rsm", "isepi", "znanie", "nbfond", "ligazn"):
        assert bases[_programme(key, 2013)] == ["allocation", "competition_result"], key
    (programmes,) = _query(db, "select count(*) from dim_programme where kind = 'operator'")[0]
    assert programmes == len(bases) == 34
    budget, basis = _query(db, "select budget_total, budget_basis from mart_programme_year "
                               "where programme_id = ?", [_programme("gosclub", 2009)])[0]
    assert (budget, basis) == (Decimal("270000000.00"), ["federal_budget=allocation"])
    # 2007: no allocation, so the listed grants are the programme's money.
    budget, basis = _query(db, "select budget_total, budget_basis from mart_programme_year "
                               "where programme_id = ?", [_programme("znanie", 2007)])[0]
    assert (budget, basis) == (Decimal("253800000.00"), ["federal_budget=competition_result"])
    # The funder's years: the allocations 2009–2013, the lists 2007–2008, never both.
    funder = dict(_query(db, "select year, budget_total from mart_funder_year "
                             "where funder like 'Президент Российской Федерации (гранты%'"))
    assert funder[2013] == Decimal("2320000000.00") and funder[2009] == Decimal("1200000000.00")
    assert funder[2007] == Decimal("466353928.00")


def test_allocations_never_enter_the_region_marts(db):
    coverage = [c for (cs,) in _query(db, "select coverage from mart_budget_vs_attracted")
                for c in cs]
    assert "operators:competition_result" in coverage
    assert not [c for c in coverage if c.endswith(":allocation")]
    # The region mart's federal money of 2007–2011 (years no other source at hand covers)
    # is exactly the listed grants, by region: never the allocations of 2009–2011.
    listed = _query(db, """
        select year, sum(amount_awarded) from fact_grant
        where source = 'operators' and year <= 2011 group by 1""")
    region = dict(_query(db, """
        select year, sum(budget_federal) from mart_budget_vs_attracted
        where year between 2007 and 2011 group by 1"""))
    assert len(listed) == 5
    for year, amount in listed:
        assert region[year] == amount, year
    grants = _query(db, "select sum(amount_awarded) from fact_grant")[0][0]
    assert _query(db, "select sum(amount_awarded) from mart_region_year")[0][0] == grants
    weighted = _query(db, "select sum(amount_awarded) from mart_beneficiary_region_year")[0][0]
    assert abs(weighted - grants) < 1


def test_organisations_join_by_inn_where_a_list_gives_one_else_by_name_and_region(db):
    rows = _query(db, """
        select g.inn_valid, g.organisation_key, g.region_method
        from fact_grant as g where g.programme_id = ?""", [_programme("gosclub", 2009)])
    assert len(rows) == 114
    assert all(key.startswith("inn:") for valid, key, _ in rows if valid)
    assert all(method == "inn_prefix" for *_, method in rows)
    others = _query(db, "select distinct split_part(organisation_key, ':', 1) from fact_grant "
                        "where source = 'operators' and inn is null")
    assert set(others) <= {("name",), ("inn",), ("ogrn",)}


def test_no_persons_name_is_loaded(db):
    sheets = _query(db, "select distinct sheet from raw.operators__winners where sheet is not null")
    assert {s for (s,) in sheets} == {"2009", "2010", "2011", "2012"}


def test_the_operator_spellings_seed_is_the_vocabulary_written_out():
    with SEED.open(encoding="utf-8", newline="") as f:
        seed = list(csv.DictReader(f))
    for row in seed:
        assert operator_key(row["spelling"]) == row["operator_key"], row
        assert OPERATORS[row["operator_key"]].name == row["operator_name"], row
    spelt = {row["spelling"] for row in seed}
    for op in OPERATORS.values():
        assert {op.key, op.name, op.short, *op.aliases} <= spelt, op.key
    with (REAL / "oprf_grants_2013.csv").open(encoding="utf-8", newline="") as f:
        written = {r["operator"].strip() for r in csv.DictReader(f)}
    assert all(operator_key(w) for w in written), written


def test_every_2013_grant_has_its_operators_key(db):
    rows = _query(db, "select operator, operator_key, count(*) from staging.stg_oprf2013__grants "
                      "group by all order by 1")
    assert {(o, k) for o, k, _ in rows} == {
        ("ИПГО", "inpgo"), ("ИСЭПИ", "isepi"), ("Лига здоровья нации", "ligazn"),
        ("Национальный благотворительный фонд", "nbfond"), ("Общество Знание", "znanie"),
        ("РСМ", "rsm")}


def test_the_page_shows_the_reconciliation_table(db):
    from bs4 import BeautifulSoup

    from pipelines.site import format_rub, format_share

    page = BeautifulSoup((db.parent / "site" / "index.html").read_text(encoding="utf-8"),
                         "html.parser")
    section = page.select_one("section#operators")
    assert section.h2.get_text() == "Распределение средств операторам и списки победителей"
    rows = [[td.get_text() for td in tr.find_all("td")]
            for tr in section.select("#operators-table tbody tr")]
    assert len(rows) == 34
    assert ["Государственный клуб", "2009", format_rub(270000000), format_rub(256500000),
            format_rub(13500000), format_share(0.95), "114", "сверено"] in rows
    assert ["Институт общественного проектирования", "2007", "—", format_rub(56400000), "—",
            "—", "30", "распределения нет"] in rows
    assert format_share(0.95) == "95,0\u00a0%"


def test_the_offline_default_ships_the_real_2013_list():
    """The build above is the offline default: it holds the real 2013 list because samples/
    ships the same bytes as the published file in ../shared."""
    shipped = SAMPLES_DIR / sample_relpath(oprf2013.CSV_URL)
    assert shipped.read_bytes() == (REAL / "oprf_grants_2013.csv").read_bytes()
