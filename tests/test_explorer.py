"""The page's explorer: DuckDB-WASM vendored into the site from npm, the release's tables in a
database file the pinned engine reads, and the explorer itself driven in Debian's headless
Chromium (Playwright, never a browser of its own) over `socfund serve`: filters, totals,
sorting, the CSV and SQL downloads, a link that reproduces a selection, the SQL tab, and
not one request to anything but the serving host."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen

import duckdb
import pytest
from bs4 import BeautifulSoup
from playwright.sync_api import Page

from pipelines import explorer
from pipelines.organisations import page_name
from pipelines.publish.tables import FORMULA_TRIGGERS, UTF8_BOM
from pipelines.site import build_site
from tests.conftest import serving

BUILT_AT = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)
READY = "#explorer-app[data-ready=true]"


# --- fixtures --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def warehouse(fixture_build) -> Path:
    return fixture_build


@pytest.fixture(scope="module")
def release(warehouse) -> Path:
    return warehouse / "exports" / (warehouse / "exports" / "latest").read_text().strip()


@pytest.fixture(scope="module")
def parquet(release) -> Iterator[duckdb.DuckDBPyConnection]:
    """The release's Parquet files as views, in the warehouse's own DuckDB: the reference
    every figure of the explorer is checked against."""
    con = duckdb.connect()
    for path in sorted((release / "parquet").glob("*.parquet")):
        con.execute(f'CREATE VIEW "{path.stem}" AS SELECT * FROM read_parquet(\'{path}\')')
    yield con
    con.close()


@pytest.fixture(scope="module")
def base(warehouse) -> Iterator[str]:
    with serving(warehouse) as url:
        yield url


@pytest.fixture(scope="module")
def browser_page(base, chromium) -> Iterator[tuple[Page, list[str]]]:
    """One Chromium page, and every URL it (or any of its workers) requested."""
    requests: list[str] = []
    context = chromium.new_context(viewport={"width": 1280, "height": 900},
                                   accept_downloads=True)
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page, requests
    context.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def _figures(page: Page) -> tuple[int, Decimal, Decimal]:
    return (int(page.get_attribute("#explorer-count", "data-value")),
            Decimal(page.get_attribute("#explorer-nominal", "data-value")),
            Decimal(page.get_attribute("#explorer-real", "data-value")))


def _table(page: Page, body: str) -> list[list[str]]:
    return page.eval_on_selector_all(
        f"{body} tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))")


def _csv(data: bytes) -> list[list[str]]:
    assert data.startswith(UTF8_BOM)
    text = data[len(UTF8_BOM):].decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text, newline="")))


# --- the build -------------------------------------------------------------------------

def test_one_vendor_folder_holds_the_pinned_files_with_their_hashes(warehouse):
    vendor = warehouse / "site" / "vendor"
    version = explorer.pinned_version()
    lock = json.loads((explorer.WEB_DIR / "package-lock.json").read_text())
    assert lock["packages"][f"node_modules/{explorer.PACKAGE}"]["version"] == version
    assert [p.name for p in vendor.iterdir()] == [f"duckdb-wasm-{version}"]
    folder = vendor / f"duckdb-wasm-{version}"
    listing = json.loads((folder / "vendor.json").read_text())
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [e["path"] for e in listing] + ["vendor.json"])
    assert {e["path"] for e in listing} >= {"duckdb-eh.wasm", "duckdb-browser-eh.worker.js",
                                            "duckdb-browser.js", "apache-arrow.js"}
    for entry in listing:
        data = (folder / entry["path"]).read_bytes()
        assert len(data) == entry["bytes"]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        source = explorer.NODE_MODULES / entry["package"] / entry["from"]
        assert source.read_bytes() == data
    # The releases hold no copy of the engine.
    assert not list((warehouse / "exports").rglob("*.wasm"))


def test_browser_database_holds_the_release_parquet_as_it_is(warehouse, parquet):
    databases = list((warehouse / "site" / "explorer").glob("*.duckdb"))
    assert len(databases) == 1
    con = parquet
    con.execute("ATTACH ? AS b (READ_ONLY)", [str(databases[0])])
    try:
        tags = dict(_rows(con, "SELECT database_name, tags FROM duckdb_databases()"))
        assert tags["b"]["storage_version"] == "v1.4.0+"
        tables = [t for (t,) in _rows(con, "SELECT table_name FROM duckdb_tables() "
                                           "WHERE database_name = 'b' ORDER BY 1")]
        assert tables == [t for (t,) in _rows(con, "SELECT view_name FROM duckdb_views() "
                                                   "WHERE NOT internal ORDER BY 1")]
        for table in tables:
            assert (_rows(con, f'DESCRIBE b."{table}"')
                    == _rows(parquet, f'DESCRIBE "{table}"')), table
            assert (_rows(con, f'SELECT * FROM b."{table}" EXCEPT ALL SELECT * FROM "{table}"')
                    == []), table
            assert (_rows(con, f'SELECT count(*) FROM b."{table}"')
                    == _rows(parquet, f'SELECT count(*) FROM "{table}"')), table
    finally:
        con.execute("DETACH b")


def test_content_security_policy_adds_only_what_webassembly_and_its_worker_need(warehouse):
    page = BeautifulSoup((warehouse / "site" / "index.html").read_text(), "html.parser")
    csp = page.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["worker-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    script_src = directives["script-src"].split()
    assert "'wasm-unsafe-eval'" in script_src
    assert all(s.startswith("'sha256-") for s in script_src if s != "'wasm-unsafe-eval'")
    scripts = page.find_all("script", src=False, type=False)
    assert len(script_src) == len(scripts) + 1
    assert "unsafe-inline" not in csp and "'unsafe-eval'" not in csp
    assert not any(word in csp for word in ("http", "*", "blob:"))
    assert [d for d, value in directives.items() if "data:" in value] == ["img-src"]
    assert set(directives) == {"default-src", "script-src", "style-src", "img-src",
                               "connect-src", "worker-src", "base-uri", "form-action"}


def test_page_without_npm_says_the_explorer_is_unavailable(warehouse, tmp_path):
    site = tmp_path / "site"
    index = build_site(warehouse / "socfund.duckdb", warehouse / "exports", site,
                       built_at=BUILT_AT, node_modules=tmp_path / "no-node-modules")
    page = BeautifulSoup(index.read_text(), "html.parser")
    section = page.find("section", id="explorer")
    assert "Обозреватель в этой сборке недоступен" in section.get_text()
    assert "make web" in section.get_text()
    assert page.find(id="explorer-config") is None and page.find(id="explorer-app") is None
    csp = page.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"]
    assert "wasm" not in csp and "worker-src" not in csp
    assert len(page.find_all("script", src=False, type=False)) == 1
    # The rest of the page stands without it.
    assert page.select("svg.chart-svg") and page.find(id="downloads-table")
    assert not (site / "vendor").exists() and not (site / "explorer-worker.js").exists()


def test_served_types_let_the_browser_run_the_engine(warehouse, base):
    folder = f"site/vendor/duckdb-wasm-{explorer.pinned_version()}/"
    for name, expected in (("duckdb-eh.wasm", "application/wasm"),
                           ("duckdb-browser-eh.worker.js", "text/javascript"),
                           ("duckdb-browser.js", "text/javascript")):
        with urlopen(base + folder + name) as response:
            assert response.headers["Content-Type"].split(";")[0] == expected, name
    with urlopen(base + "site/explorer-worker.js") as response:
        assert response.headers["Content-Type"].split(";")[0] == "text/javascript"


def test_explorer_csv_rules_are_the_release_rules():
    script = (Path(explorer.__file__).parent / "static" / explorer.SCRIPT_FILE).read_text()
    triggers = re.search(r"FORMULA_TRIGGERS = \[(.*?)\];", script).group(1)
    assert json.loads(f"[{triggers}]") == list(FORMULA_TRIGGERS)


# --- in the browser --------------------------------------------------------------------

GRANTS = """
    SELECT count(*), sum(g.amount_awarded),
           coalesce(sum((SELECT sum(f.amount_real) FROM fact_funding AS f
                         WHERE f.grant_id = g.grant_id AND f.funding_group = 'budget')), 0)
    FROM fact_grant AS g
    WHERE g.source = ? AND g.year BETWEEN ? AND ? AND g.amount_awarded >= ?"""


def _apply(page: Page, **fields: str) -> None:
    for name, value in fields.items():
        locator = page.locator(f"#explorer-form [name={name}]")
        if locator.evaluate("e => e.tagName") == "SELECT":
            locator.select_option(value)
        else:
            locator.fill(value)
    page.click("#explorer-form button[type=submit]")
    page.wait_for_selector(READY)


def test_explorer_in_chromium(browser_page, base, warehouse, parquet):
    page, requests = browser_page
    page.goto(base + "site/index.html")
    page.wait_for_selector(READY)
    everything = _rows(parquet, "SELECT count(*), sum(amount_awarded) FROM fact_grant")[0]
    assert _figures(page)[:2] == everything

    # Filters: source, years, amount; the figures are the same query's in DuckDB.
    _apply(page, source="operators", **{"from": "2008", "to": "2010", "min": "500000"})
    expected = _rows(parquet, GRANTS, ["operators", 2008, 2010, 500000])[0]
    assert 50 < expected[0] < everything[0]
    assert _figures(page) == expected
    shown = _table(page, "#explorer-body")
    assert len(shown) == 50  # one page
    assert page.inner_text("#explorer-page") == f"Страница 1 из {-(-expected[0] // 50)}"

    # The selection as CSV: every row of it, under the release's rules.
    with page.expect_download() as download:
        page.click("#explorer-csv")
    rows = _csv(Path(download.value.path()).read_bytes())
    header, body = rows[0], rows[1:]
    assert len(body) == expected[0]
    at = {name: i for i, name in enumerate(header)}
    assert sum(Decimal(r[at["amount_awarded"]]) for r in body) == expected[1]
    ids = _rows(parquet, """SELECT grant_id FROM fact_grant
        WHERE source = 'operators' AND year BETWEEN 2008 AND 2010 AND amount_awarded >= 500000
        ORDER BY amount_awarded DESC, grant_id""")
    assert [r[at["grant_id"]] for r in body] == [i for (i,) in ids]
    assert all(r[at["inn"]] == "" or r[at["inn"]].isdigit() for r in body)

    # …and as the SQL that produced it, which gives those rows in DuckDB.
    with page.expect_download() as download:
        page.click("#explorer-sql-download")
    sql = Path(download.value.path()).read_text(encoding="utf-8")
    result = parquet.execute(sql)
    assert [d[0] for d in result.description] == header
    assert [["" if v is None else v for v in row] for row in result.fetchall()] == body

    # The filters are in the URL: a new page at that URL shows the same selection.
    url = page.url
    assert parse_qs(urlsplit(url).query)["source"] == ["operators"]
    page.goto(base + "site/index.html")
    page.wait_for_selector(READY)
    page.goto(url)
    page.wait_for_selector(READY)
    assert _figures(page) == expected
    assert _table(page, "#explorer-body") == shown
    assert page.input_value("#explorer-form [name=min]") == "500000"

    # Sorting by year, earliest first, then paging on.
    page.click("#explorer-head button[data-column=year]")
    page.wait_for_selector(READY)
    page.click("#explorer-head button[data-column=year]")
    page.wait_for_selector(READY)
    years = [int(r[0]) for r in _table(page, "#explorer-body")]
    assert years == sorted(years) and years[0] == 2008
    page.click("#explorer-next")
    page.wait_for_selector(READY)
    assert "page=2" in page.url and page.inner_text("#explorer-page").startswith("Страница 2")

    # An organisation by a word of its name; its row links to its page by the permanent URL.
    key, name = _rows(parquet, """SELECT organisation_key, recipient_name FROM fact_grant
        WHERE NOT regexp_matches(organisation_key, '^[a-z0-9:]*$') ORDER BY grant_id
        LIMIT 1""")[0]
    page.click("#explorer-form button[type=reset]")
    page.wait_for_selector(READY)
    _apply(page, org=name.lower())
    links = page.eval_on_selector_all(
        "#explorer-body a", "links => links.map(a => a.getAttribute('href'))")
    assert f"organisations/{page_name(key)}" in links
    assert (warehouse / "site" / "organisations" / page_name(key)).is_file()

    # Funding figures: nominal and real rubles of fact_funding.
    page.click("#explorer-form button[type=reset]")
    page.wait_for_selector(READY)
    page.check("#explorer-form [name=ds][value=funding]")
    page.wait_for_selector(READY)
    assert _figures(page) == _rows(parquet, """SELECT count(*), sum(amount_rub),
        sum(amount_real) FROM fact_funding""")[0]

    # The SQL tab runs a researcher's query over the same tables…
    page.click("#explorer-tab-sql")
    query = ("SELECT region_code, count(*) AS n, sum(amount_awarded) AS s FROM fact_grant "
             "GROUP BY ALL ORDER BY n DESC, region_code NULLS FIRST LIMIT 5")
    page.fill("#explorer-sql-input", query)
    page.click("#explorer-sql-run")
    page.wait_for_selector("#explorer-sql-state[data-runs='1']")
    assert _table(page, "#explorer-sql-body") == [
        ["NULL" if v is None else str(v) for v in row] for row in _rows(parquet, query)]
    assert parse_qs(urlsplit(page.url).query)["sql"] == [query]
    # …and nothing that writes, or reaches beyond the release's tables.
    for n, statement in enumerate(("DROP TABLE fact_grant",
                                   "CREATE TABLE t AS SELECT 1",
                                   "SELECT * FROM read_csv('http://example.org/x.csv')",
                                   "SELECT 1; DROP TABLE fact_grant"), start=2):
        page.fill("#explorer-sql-input", statement)
        page.click("#explorer-sql-run")
        page.wait_for_selector(f"#explorer-sql-state[data-runs='{n}']")
        assert page.inner_text("#explorer-sql-state").startswith("Ошибка"), statement
    page.fill("#explorer-sql-input", "SELECT count(*) FROM fact_grant")
    page.click("#explorer-sql-run")
    page.wait_for_selector("#explorer-sql-state[data-runs='6']")
    assert _table(page, "#explorer-sql-body") == [[str(everything[0])]]

    # Every request went to the serving host.
    assert any(u.endswith("duckdb-eh.wasm") for u in requests)
    assert any(u.endswith(".duckdb") for u in requests)
    assert requests and all(u.startswith(base) for u in requests), [
        u for u in requests if not u.startswith(base)]
