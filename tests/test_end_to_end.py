"""Build the whole warehouse through a real local HTTP server, and check it: from the invented
documents of tests/fixtures (`built`, whose figures we know to the ruble), and from the real
documents of samples/ (`real_built`, the offline default)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl
import pytest

from pipelines.cli import main
from pipelines.duckdb_config import connect
from pipelines.paths import DBT_PROJECT_DIR
from pipelines.publish.release import read_latest
from pipelines.registry import declared_tables
from pipelines.store import replace_entity
from schemas.base import validate, validate_frame
from scrapers import curated, ebudget, oprf2013, sonko
from scrapers.rawstore import RawStore
from scrapers.samples import FIXTURES_DIR
from tests.conftest import SHARED
from tests.conftest import query as _query
from tests.test_ebudget import YEAR_2020, _page, _record_250939
from tests.test_exchange_rates_seed import _published


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    warehouse = tmp_path_factory.mktemp("warehouse")
    assert main(["build", "--warehouse", str(warehouse), "--samples", str(FIXTURES_DIR)]) == 0
    return warehouse


@pytest.fixture(scope="module")
def real_built(real_build) -> Path:
    """The offline default, `make run`: samples/, real documents only."""
    return real_build


def test_published_warehouse_has_every_public_table(built):
    db = built / "socfund.duckdb"
    tables = {r[0] for r in _query(db, "select table_name from information_schema.tables "
                                       "where table_schema = 'main'")}
    assert {"dim_region", "dim_programme", "dim_organisation", "fact_application",
            "fact_grant", "mart_region_year"} <= tables
    assert not (built / ".build" / "socfund.duckdb").exists()


def test_every_raw_table_is_declared_in_the_source_registry(built):
    from tests.test_registry import raw_tables_without_declaration

    assert raw_tables_without_declaration(built / "store.duckdb") == set()
    assert raw_tables_without_declaration(built / "socfund.duckdb") == set()


def test_dim_region_has_every_federal_subject(built):
    db = built / "socfund.duckdb"
    subjects = _query(db, "select count(*), count(distinct region_code) from dim_region "
                          "where kind = 'subject'")[0]
    assert subjects == (89, 89)
    new = dict(_query(db, "select name, region_code from dim_region where name in "
                          "('Донецкая Народная Республика', 'Херсонская область')"))
    assert new == {"Донецкая Народная Республика": "93", "Херсонская область": "95"}


def test_only_public_tables_in_main(built):
    db = built / "socfund.duckdb"
    schemas = {r[0] for r in _query(
        db, "select distinct table_schema from information_schema.tables")}
    assert schemas <= {"main", "raw", "quarantine", "staging", "intermediate", "reference",
                       "meta"}
    main_tables = {r[0] for r in _query(db, "select table_name from information_schema.tables "
                                            "where table_schema = 'main'")}
    public = ("dim_", "fact_", "mart_", "bridge_")
    assert all(t.startswith(public) for t in main_tables), main_tables


def test_counts_reconcile_from_source_to_mart(built):
    db = built / "socfund.duckdb"
    (grants, awarded) = _query(db, "select count(*), sum(amount_awarded) from fact_grant")[0]
    (mart_grants, mart_awarded) = _query(
        db, "select sum(grants), sum(amount_awarded) from mart_region_year")[0]
    assert grants > 0 and mart_grants == grants and mart_awarded == awarded
    (raw_oprf,) = _query(db, "select count(*) from raw.oprf2013__grants")[0]
    (fact_oprf,) = _query(db, "select count(*) from fact_grant where source = 'oprf2013'")[0]
    assert fact_oprf == raw_oprf
    (applications,) = _query(db, "select count(*) from fact_application")[0]
    (bulk,) = _query(db, "select count(distinct application_number) from raw.fpg__applications")[0]
    assert applications >= bulk


def test_quarantine_holds_the_broken_sample_rows_with_reasons(built):
    db = built / "socfund.duckdb"
    rows = _query(db, "select _row, reasons, record from quarantine.oprf2013__grants")
    assert rows, "the 2013 sample has a row whose amount does not parse"
    assert all(reasons for _, reasons, _ in rows)
    rows = _query(db, "select reasons from quarantine.fpg__applications")
    assert rows and all(r[0] for r in rows)


def test_fetch_log_records_every_document(built):
    db = built / "socfund.duckdb"
    (n, with_sha) = _query(db, "select count(*), count(sha256) from raw.fetch_log")[0]
    assert n > 0 and with_sha == n
    for (sha,) in _query(db, "select distinct _raw_sha256 from raw.fpg__cards"):
        assert RawStore(built / "raw").has("fpg", sha)


def test_every_record_has_a_region(built):
    db = built / "socfund.duckdb"
    assert _query(db, "select count(*) from fact_grant where region_code is null "
                      "and source <> 'operators'")[0][0] == 0
    assert _query(db, "select count(*) from fact_application where region_code is null")[0][0] == 0
    # An operator's list may name no place for a recipient (ИНОП 2008, Знание 2008): such a
    # grant has no region, and only such a grant (or a place the seeds cannot tell: a
    # warning of stg_operators__winners).
    unplaced = _query(db, """
        select count(*) filter (where w.region_reported is null and w.city is null
                                  and w.inn is null),
               count(*)
        from fact_grant as g
        join intermediate.int_operators__winners as w on g.native_id = w.listed_grant_key
        where g.region_code is null""")[0]
    assert unplaced[1] > 0 and unplaced[1] - unplaced[0] <= 30


def test_second_build_gives_the_same_counts(built):
    db = built / "socfund.duckdb"
    sql = ("select schema_name || '.' || table_name from duckdb_tables() "
           "where schema_name in ('raw', 'quarantine', 'main') and table_name <> 'fetch_log' "
           "order by 1")
    before = {t: _query(db, f"select count(*) from {t}")[0][0] for (t,) in _query(db, sql)}
    keys_before = _query(db, "select organisation_key from dim_organisation order by 1")
    store = built / "store.duckdb"
    (requests_before,) = _query(store, "select count(*) from raw.fetch_log")[0]
    assert main(["build", "--warehouse", str(built), "--samples", str(FIXTURES_DIR)]) == 0
    after = {t: _query(db, f"select count(*) from {t}")[0][0] for (t,) in _query(db, sql)}
    assert after == before  # loads replace, they never append
    # Organisation keys are derived from identifiers and names: the same from build to build.
    assert _query(db, "select organisation_key from dim_organisation order by 1") == keys_before
    # The log is a log: the second night's requests are added to the store's, each
    # answered 304 (conditional GET against the ETags the first night kept); the curated
    # files, read from the project, are logged as unchanged. Nothing else changed, so the
    # published warehouse was not rebuilt for them.
    new = _query(store, "select source, status, not_modified from raw.fetch_log "
                     "order by fetched_at, url offset ?", [requests_before])
    assert len(new) == requests_before
    assert all(not_modified for _, _, not_modified in new)
    assert all(status == 304 for source, status, _ in new if source != "curated")


def test_a_night_that_failed_before_its_release_writes_it_on_the_next_build(built):
    """The warehouse was swapped in but the night stopped before its release and page were
    written: the next build from the same documents must not take «nothing changed» for
    «published», and writes them."""
    exports = built / "exports"
    latest = read_latest(exports)
    assert latest is not None
    shutil.rmtree(latest)
    (exports / "latest").unlink()
    page = built / "site" / "index.html"
    page.unlink()
    assert main(["build", "--warehouse", str(built), "--samples", str(FIXTURES_DIR)]) == 0
    written = read_latest(exports)
    assert written is not None and (written / "manifest.json").is_file()
    assert (written / "socfund.duckdb").is_file() and page.is_file()


def _seed_table() -> dict[int, list[str]]:
    """Seed 003's table «ЗАКАЗ НА РЕАЛИЗАЦИЮ…», read straight from the document."""
    (seed,) = (SHARED / "seeds").glob("003_*.txt")
    rows = {}
    for line in seed.read_text(encoding="utf-8").splitlines():
        cells = line.split("\t")
        if len(cells) == 6 and cells[0] in ("1999", "2000", "2001"):
            rows[int(cells[0])] = cells[1:]
    assert sorted(rows) == [1999, 2000, 2001]
    return rows


def _thousands(text: str) -> Decimal:
    return Decimal(0) if text == "нет" else Decimal(text.replace(",", ".")) * 1000


def test_perm_1999_2001_in_fact_funding_equal_the_seed_table(built):
    db = built / "socfund.duckdb"
    got = {
        (year, kind): amount
        for year, kind, amount in _query(
            db, "select year, funding_kind, sum(amount) from fact_funding "
                "where source = 'curated' and municipality = 'Пермь' and year <= 2001 "
                "group by all")
    }
    for year, (_, budget, _, business, executors) in _seed_table().items():
        assert got[(year, "municipal_budget")] == _thousands(budget)
        assert got[(year, "business")] == _thousands(business)
        assert got[(year, "attracted_by_executors")] == _thousands(executors)


def test_perm_budget_versus_attracted_is_one_select(built):
    db = built / "socfund.duckdb"
    rows = _query(db, "select year, budget_total, attracted_total, leverage "
                      "from mart_programme_year where programme_id like 'curated:programme:%' "
                      "and year between 1999 and 2001 order by year")
    seed = _seed_table()
    for year, budget, attracted, leverage in rows:
        _, b, _, biz, ex = seed[year]
        assert budget == _thousands(b)
        assert attracted == _thousands(biz) + _thousands(ex)
        assert abs(leverage - float(attracted / budget)) < 1e-4


RECONCILE = {
    "oprf2013": "select sum(amount) from raw.oprf2013__grants",
    "sonko": "select sum(amount) from raw.sonko__registry2011 where not not_carried_out",
    "treasury": "select sum(executed) from raw.treasury__0503317 where budget = 'consolidated'",
    "municipal": "select sum(amount) from raw.municipal__winners",
    "curated": "select sum(amount_rub) from raw.curated__figures "
               "where indicator in ('funds', 'competition_fund') and year is not null",
    "fpg": "select sum(amount_awarded) + sum(cofinancing) from fact_grant where source = 'fpg'",
}


def test_fact_funding_reconciles_with_the_validated_source_rows(built):
    db = built / "socfund.duckdb"
    by_source = dict(_query(db, "select source, sum(amount) from fact_funding group by 1"))
    for source, sql in RECONCILE.items():
        (expected,) = _query(db, sql)[0]
        assert by_source[source] == expected, source
    # Agreements: the yearly plans of agreements with kept non-profit recipients; each plan
    # is shared equally among recipients, so rounding may move a kopeck per recipient.
    (expected, recipients) = _query(db, """
        select sum(p.amount), (select count(*) from staging.stg_ebudget__agreements
                               where is_nonprofit)
        from raw.ebudget__periods as p
        where p.year is not null and p.agreement_id in (
            select agreement_id from staging.stg_ebudget__agreements
            where is_nonprofit and budget_level in ('federal', 'regional', 'municipal'))""")[0]
    assert abs(by_source["ebudget"] - expected) <= Decimal("0.01") * recipients


def test_no_figure_counted_twice_in_the_region_mart(built):
    db = built / "socfund.duckdb"
    # For each region, year and budget level exactly one basis is summed.
    rows = _query(db, "select region_code, year, budget_basis from mart_budget_vs_attracted")
    for _, _, basis in rows:
        kinds = [b.split("=")[0] for b in basis]
        assert len(kinds) == len(set(kinds))
    (treasury_regional,) = _query(db, "select budget_regional from mart_budget_vs_attracted "
                                      "where region_code = '26' and year = 2015")[0]
    (executed,) = _query(db, "select sum(executed) from raw.treasury__0503317 "
                             "where budget = 'subject' and year = 2015")[0]
    assert treasury_regional == executed


def test_real_files_through_the_whole_pipeline(real_built):
    """The real 2013 file and the real Smolensk 2012 registry, from the offline default."""
    db = real_built / "socfund.duckdb"
    n, total, no_region, invalid = _query(
        db,
        "select count(*), sum(amount_awarded), count(*) filter (where region_code is null), "
        "count(*) filter (where not ogrn_valid) from fact_grant where source = 'oprf2013'",
    )[0]
    assert (n, total, no_region, invalid) == (1087, Decimal("2175799999.00"), 0, 6)
    methods = dict(_query(db, "select region_method, count(*) from fact_grant "
                              "where source = 'oprf2013' group by 1"))
    assert methods["source_region"] == 1087 - 547
    assert methods["city"] + methods["ogrn_prefix"] == 547

    # Smolensk 2012: 26 decisions, 10 961 700 ₽ (2 764 700 regional + 8 197 000 federal);
    # record 18 spans two physical rows and is one decision.
    rows = _query(db, "select budget_level, count(*), sum(amount_awarded) from fact_grant "
                      "where source = 'sonko' and year = 2012 group by 1 order by 1")
    assert rows == [("federal", 14, Decimal("8197000.00")), ("regional", 12, Decimal("2764700.00"))]
    (keys,) = _query(db, "select count(distinct grant_id) from fact_grant where source = 'sonko' "
                         "and grant_id like 'sonko:67:2012:%'")[0]
    assert keys == 26


def test_the_default_warehouse_holds_the_real_grants_of_every_year(real_built):
    """2007–2013 presidential grants (operators' lists, the 2013 list) and the Smolensk
    registries 2012–2015: every year, thousands of rows, the real totals."""
    db = real_built / "socfund.duckdb"
    years = dict(_query(db, "select year, count(*) from fact_grant "
                            "where source in ('operators', 'oprf2013') group by 1"))
    assert set(years) == set(range(2007, 2014)) and sum(years.values()) > 3000
    assert years[2013] == 1087
    smolensk = dict(_query(db, "select year, sum(amount_awarded) from fact_grant "
                               "where source = 'sonko' group by 1"))
    assert smolensk == {2012: Decimal("10961700.00"), 2013: Decimal("2916700.00"),
                        2014: Decimal("4701000.00"), 2015: Decimal("4701000.00")}
    sources = {r[0] for r in _query(db, "select distinct source from fact_grant")}
    assert sources == {"operators", "oprf2013", "sonko"}


def test_sources_without_a_real_document_are_live_only_not_failed(real_built):
    store = real_built / "store.duckdb"
    fetch = dict(_query(store, "select source, status from meta.source_status "
                               "where stage = 'fetch'"))
    for source in ("fpg", "ebudget", "treasury", "municipal", "practice"):
        assert fetch[source] == "live only", source
    for source in ("oprf2013", "operators", "sonko", "curated", "programme"):
        assert fetch[source] == "ok", source
    assert _query(store, "select count(*) from meta.source_status where status = 'failed'") \
        == [(0,)]
    # The sonko fetch reads the portal page and the registries it links; the federal file,
    # of which samples/ has no copy, is not requested.
    urls = {r[0] for r in _query(store, "select url from raw.fetch_log where source = 'sonko'")}
    assert sonko.FEDERAL_URL not in urls and sonko.REGISTRY_PORTAL_URL in urls
    assert sum(u.endswith(".xls") for u in urls) == 4
    assert _query(store, "select status from meta.source_status "
                         "where source = 'sonko' and stage = 'sonko__federal'") == [("live only",)]
    # Their tables exist, empty, so the models downstream ran.
    db = real_built / "socfund.duckdb"
    for table in ("fpg__applications", "ebudget__agreements", "treasury__0503317",
                  "municipal__winners", "practice__indicators", "sonko__federal"):
        assert _query(db, f"select count(*) from raw.{table}") == [(0,)], table


def test_no_row_of_the_default_warehouse_comes_from_an_invented_host(real_built):
    """Every raw row's document is real: no `.invalid` host but our curated figures and our
    rendering of the programme card (seed 000), both quoted from real documents."""
    from urllib.parse import urlsplit

    db = real_built / "socfund.duckdb"
    tables = [r[0] for r in _query(db, "select table_name from information_schema.tables "
                                       "where table_schema = 'raw' and table_name <> 'fetch_log'")]
    hosts: set[str] = set()
    for table in tables:
        hosts |= {urlsplit(u).hostname for (u,) in _query(
            db, f"select distinct _source_url from raw.{table}")}
    invented = {h for h in hosts if h.endswith(".invalid")}
    assert invented == {curated.HOST, "programmes.socfund.invalid"}
    assert "sonko-registries.socfund.invalid" not in hosts and ebudget.HOST not in hosts
    assert hosts >= {oprf2013.HOST, sonko.REGISTRY_PORTAL_HOST, "raw.githubusercontent.com"}


def test_the_default_page_shows_the_real_warehouse(real_built):
    """The page's headline figures are those of the real warehouse it was built from."""
    from pipelines.site import format_int, format_rub_short

    db = real_built / "socfund.duckdb"
    grants, awarded = _query(db, "select count(*), sum(amount_awarded) from fact_grant "
                                 "where carried_out is distinct from false "
                                 "and currency = 'RUB'")[0]
    assert grants > 3000
    page = (real_built / "site" / "index.html").read_text(encoding="utf-8")
    assert format_int(grants) in page and format_rub_short(awarded) in page
    assert "88,3" not in page  # the invented fixture build's headline


def test_every_sql_example_in_the_readme_runs(built):
    """The README's queries are a contract with its readers: each returns rows."""
    import re

    from tests.conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(.*?)```", readme, flags=re.S)
    assert blocks
    for sql in blocks:
        assert _query(built / "socfund.duckdb", sql), sql


def test_no_contact_people_are_loaded(built):
    """Only what sources publish about organisations: no names or phones of contact people."""
    columns = _query(built / "socfund.duckdb",
                     "select table_schema, table_name, column_name "
                     "from information_schema.columns")
    suspicious = [c for c in columns
                  if any(w in c[2].lower() for w in ("phone", "contact", "person", "fio", "email",
                                                     "head_name", "director"))]
    assert suspicious == []


def test_real_amounts_equal_nominal_in_the_base_year_and_are_null_beyond_the_series(built):
    db = built / "socfund.duckdb"
    rows = _query(db, "select year, amount, amount_real, real_missing, real_base_year "
                      "from fact_funding")
    assert rows
    assert {base for *_, base in rows} == {2024}  # the latest year the series has measured
    for year, amount, real, missing, base in rows:
        if year == base:
            assert real == amount
        if year > 2024:  # the measured series (World Bank, then IMF WEO) ends in 2024
            assert real is None and missing
    recent = [r for r in rows if 2022 <= r[0] <= 2024]
    assert recent, "the samples have money of 2022–2024"
    assert all(real is not None and not missing for _, _, real, missing, _ in recent)


def test_beneficiary_and_recipient_views_add_up_to_the_same_total(built):
    db = built / "socfund.duckdb"
    (recipient,) = _query(db, "select sum(amount_awarded) from mart_region_year")[0]
    (beneficiary,) = _query(db, "select sum(amount_awarded) from mart_beneficiary_region_year")[0]
    assert abs(recipient - beneficiary) < Decimal("1.00")
    (multi,) = _query(db, "select count(*) from (select grant_id from bridge_grant_region "
                          "group by 1 having count(*) > 1)")[0]
    assert multi >= 1  # the sample card with twelve regions is spread, not counted twelve times


def test_organisation_names_are_normalised_and_legal_forms_split(built):
    db = built / "socfund.duckdb"
    rows = _query(db, "select name, name_core, legal_form, sources from dim_organisation")
    assert rows
    for _, core, _, _ in rows:
        assert not any(q in core for q in '«»"“”„'), core
        assert core == core.lower() and "  " not in core and "\u00a0" not in core
    forms = {name: (form, sources) for name, _, form, sources in rows}
    # Every name that starts with the full words of a legal form gets that form. The
    # operators' lists 2007–2012 write some names the seed's patterns do not reach (five
    # adjectives before the form, the form after a dash at the end): not checked here.
    for name, (form, sources) in forms.items():
        low = name.lower()
        if low.startswith("автономная некоммерческая организация"):
            assert form == "АНО", name
        if ("общественная организация" in low.split("«")[0].split('"')[0]
                and sources != ["operators"]):
            assert form == "общественная организация", name
    assert {"АНО", "общественная организация"} <= {form for form, _ in forms.values()}


# --- each year's money once, and som in rubles: fact_funding over a store we write -----------


def test_every_sample_agreement_year_is_its_periods_year_total_once(built):
    """Per agreement and year, each recipient's share is the year's periods added once."""
    db = built / "socfund.duckdb"
    rows = _query(db, """
        with years as (
            select agreement_id, year, sum(amount) as total,
                   count(*) filter (where month is null) as year_rows,
                   count(*) filter (where month is not null) as month_rows
            from staging.stg_ebudget__periods where year is not null group by all),
        kept as (
            select agreement_id, agreement_recipient_id,
                   count(*) over (partition by agreement_id) as recipients
            from staging.stg_ebudget__agreements
            where is_nonprofit and budget_level in ('federal', 'regional', 'municipal'))
        select y.agreement_id, y.year, y.total, y.year_rows, y.month_rows, k.recipients,
               f.amount
        from years as y
        join kept as k using (agreement_id)
        left join fact_funding as f
            on f.funding_id = 'ebudget:' || k.agreement_recipient_id || ':' || y.year""")
    assert rows
    for agreement, year, total, year_rows, month_rows, recipients, amount in rows:
        assert (year_rows, month_rows > 0) in ((1, False), (0, True)), (agreement, year)
        assert amount == round(total / recipients, 2), (agreement, year)


def _store_holding(path: Path, records: dict[str, list[dict] | pl.DataFrame]) -> None:
    """A store with every declared raw table, empty but for `records` (table -> rows, as
    records or as the columns a parser gives)."""
    con = connect(path)
    try:
        for table, decl in declared_tables().items():
            lineage = {"_raw_sha256": "0" * 64, "_fetched_at": "2026-01-01T00:00:00+00:00",
                       "_source_url": f"https://test.invalid/{table}"}
            given = records.get(table, [])
            if isinstance(given, list):
                validated = validate([{**lineage, **r} for r in given], decl.entity)
            else:
                validated = validate_frame(given.with_columns(
                    pl.lit(v, pl.String).alias(k) for k, v in lineage.items()), decl.entity)
            assert validated.quarantined == [], (table, validated.quarantined)
            replace_entity(con, decl.entity, validated,
                           {"_source": decl.entity.source, "_parser_version": "test"})
    finally:
        con.close()


def _dbt_build(tmp: Path, select: str) -> Path:
    """Seeds and models of `select` (no tests) over the store in `tmp`, into a new file."""
    db = tmp / "socfund.duckdb"
    dbt_vars = {"build_db": str(db), "store_db": str(tmp / "store.duckdb")}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "build", "--select", select,
         "--exclude-resource-type", "test", "unit_test",
         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"),
         "--vars", json.dumps(dbt_vars)],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return db


# Curated figures of Kyrgyz som: a year with both dollar rates, a year the World Bank gives
# no ruble rate for (1995), and the base year.
SOM_FIGURES = (
    "figure_id,programme,country,region_code,year,funding_kind,indicator,value_text,unit,"
    "document,source_file,locator\n"
    "kg-2013,Соцзаказ,KG,KG,2013,municipal_budget,funds,\"1 234 567,89 сом\",сом,Д,f.txt,а\n"
    "kg-1995,Соцзаказ,KG,KG,1995,municipal_budget,funds,2 000 сом,сом,Д,f.txt,б\n"
    "kg-2024,Соцзаказ,KG,KG,2024,municipal_budget,funds,3 000 сом,сом,Д,f.txt,в\n"
)


@pytest.fixture(scope="module")
def funding_over_a_store_we_write(tmp_path_factory) -> Path:
    """fact_funding and the region mart built from agreement 250939 (its 2020 money given
    as a month, as a year and in plansNormalized) and three som figures — nothing else."""
    tmp = tmp_path_factory.mktemp("funding")
    body = _page(_record_250939())
    url = "https://test.invalid/ebudget?page=1"
    _store_holding(tmp / "store.duckdb", {
        "ebudget__agreements": ebudget.parse_agreements(body, url=url),
        "ebudget__periods": ebudget.parse_agreement_periods(body, url=url),
        "curated__figures": curated.parse_curated(SOM_FIGURES.encode("utf-8"),
                                                  url="https://test.invalid/som.csv"),
    })
    return _dbt_build(tmp, "+fact_funding +mart_budget_vs_attracted")


def test_an_agreement_year_given_as_month_and_year_is_counted_once(funding_over_a_store_we_write):
    db = funding_over_a_store_we_write
    by_year = dict(_query(db, "select year, amount from fact_funding where source = 'ebudget'"))
    assert by_year == {2020: YEAR_2020, 2021: 0, 2022: 0, 2023: 0}  # not 3 121 791 244,68
    periods = _query(db, "select period_code, origin from staging.stg_ebudget__periods "
                         "where year = 2020")
    assert periods == [("20201200", "facts_month")]
    (budget,) = _query(db, "select budget_federal from mart_budget_vs_attracted "
                           "where region_code = '71' and year = 2020")[0]
    assert budget == YEAR_2020


def test_som_is_converted_at_the_years_cross_rate_and_deflated_as_rubles(
        funding_over_a_store_we_write):
    db = funding_over_a_store_we_write
    rows = {r[0]: r[1:] for r in _query(db, """
        select f.year, f.amount, f.currency, f.amount_rub, f.rub_rate, f.rub_rate_source,
               f.amount_real, f.real_missing, p.to_base_year
        from fact_funding as f
        left join intermediate.int_price_index as p on p.country_code = 'RU' and p.year = f.year
        where f.source = 'curated'""")}
    assert set(rows) == {2013, 1995, 2024}
    rates = _published()

    amount, currency, rub, rate, rate_source, real, missing, to_base = rows[2013]
    assert (amount, currency) == (Decimal("1234567.89"), "KGS")  # the original is kept
    rub_per_som = Decimal(rates[("RUB", 2013)]) / Decimal(rates[("KGS", 2013)])
    assert rub == (amount * rub_per_som).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert abs(Decimal(str(rate)) - rub_per_som) < Decimal("1e-12")
    assert "PA.NUS.FCRF" in rate_source and rates[("KGS", 2013)] in rate_source
    # Deflated by the Russian series: rubles, once converted, whatever the territory.
    assert not missing and real == round(rub * Decimal(str(to_base)), 2)

    amount, currency, rub, rate, rate_source, real, missing, _ = rows[1995]
    assert (amount, currency) == (Decimal("2000.00"), "KGS")
    assert ("RUB", 1995) not in rates and ("KGS", 1995) in rates
    assert (rub, rate, rate_source, real, missing) == (None, None, None, None, True)

    amount, _, rub, _, _, real, missing, _ = rows[2024]
    rub_per_som = Decimal(rates[("RUB", 2024)]) / Decimal(rates[("KGS", 2024)])
    assert rub == (amount * rub_per_som).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert real == rub and not missing  # the base year: real rubles are that year's rubles

    # The region mart adds rubles: 2013's som in rubles; 1995, with no rate, is not added.
    marts = dict(_query(db, "select year, budget_municipal from mart_budget_vs_attracted "
                            "where region_code = 'KG'"))
    assert marts == {2013: rows[2013][2], 2024: rows[2024][2]}


def test_the_operators_lists_and_allocations_reach_the_default_warehouse(built):
    """The real operators' lists 2007–2012 and allocations 2009–2013 are shipped: a default
    build holds every list year and reconciles each allocation with its list."""
    db = built / "socfund.duckdb"
    years = dict(_query(db, "select year, count(*) from fact_grant where source = 'operators' "
                            "group by 1"))
    assert set(years) == set(range(2007, 2013)) and sum(years.values()) == 2291
    statuses = dict(_query(db, "select status, count(*) from mart_operator_reconciliation "
                               "where year < 2013 group by 1"))
    assert statuses == {"no allocation": 6, "ok": 7, "no list at hand": 15}
    (allocated,) = _query(db, "select sum(allocation) from mart_operator_reconciliation")[0]
    assert allocated == Decimal("6520000000.00")
