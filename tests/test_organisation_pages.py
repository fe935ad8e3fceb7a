"""Organisation pages: one per organisation of `mart_organisation` at a permanent name, its
grants, funding rows and totals equal to the same queries in DuckDB, names and identifiers
with their check-digit verdict, document links, the illustrative banner and the policy,
a rebuild that replaces the folder whole, and a search result on the main page that
leads to the page in headless Chromium without a request leaving the serving host."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from bs4 import BeautifulSoup

from pipelines import organisations
from pipelines.illustrative import PAGE_WARNING_RU
from pipelines.organisations import (
    FOLDER,
    INDEX_PAGE,
    format_money,
    format_whole,
    page_name,
    write_organisation_pages,
)
from pipelines.site import build_site, format_int, format_rub
from tests.conftest import query as _query
from tests.conftest import serving

BUILT_AT = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)
ODD_KEY = "name:KG:Ёлка <b>&amp;</b> ../x"
ODD_NAME = 'Фонд «Ёлка» <script>alert(1)</script>'
ODD_INN = "7707083893"


# --- fixtures --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def warehouse(fixture_build) -> Path:
    """The session's fixture build, read only: a test that changes one works on a copy."""
    return fixture_build


@pytest.fixture(scope="module")
def folder(warehouse) -> Path:
    return warehouse / "site" / FOLDER


def _page(folder: Path, key: str) -> BeautifulSoup:
    return BeautifulSoup((folder / page_name(key)).read_text(encoding="utf-8"), "html.parser")


def _sample_keys(db: Path) -> list[str]:
    """Organisations worth a close look: the most grants, the most funding rows, grants in
    several sources or years, a decision not carried out, an identifier failing its check,
    a name-only match, one with no grants."""
    picks = _query(db, """
        WITH g AS (SELECT organisation_key AS k, count(*) AS n,
                          count(DISTINCT source) AS s, count(DISTINCT year) AS y,
                          bool_or(carried_out = false) AS not_done
                   FROM fact_grant GROUP BY 1),
             f AS (SELECT organisation_key AS k, count(*) AS n FROM fact_funding
                   WHERE organisation_key IS NOT NULL GROUP BY 1),
             bad AS (SELECT DISTINCT organisation_key AS k
                     FROM intermediate.int_organisation_keys
                     WHERE inn_valid = false OR ogrn_valid = false)
        SELECT k FROM (SELECT k FROM g ORDER BY n DESC, k LIMIT 3)
        UNION SELECT k FROM (SELECT k FROM f ORDER BY n DESC, k LIMIT 3)
        UNION SELECT k FROM (SELECT k FROM g ORDER BY s DESC, y DESC, k LIMIT 2)
        UNION SELECT k FROM (SELECT k FROM g WHERE not_done ORDER BY k LIMIT 2)
        UNION SELECT k FROM (SELECT k FROM bad ORDER BY k LIMIT 2)
        UNION SELECT k FROM (SELECT organisation_key AS k FROM mart_organisation
                             WHERE match_method = 'name_region' ORDER BY k LIMIT 2)
        UNION SELECT k FROM (SELECT organisation_key AS k FROM mart_organisation
                             WHERE grants = 0 ORDER BY k LIMIT 2)""")
    return sorted(k for (k,) in picks)


# --- the pages -------------------------------------------------------------------------

def test_every_organisation_has_a_page_and_nothing_else_is_there(warehouse, folder):
    keys = [k for (k,) in _query(warehouse / "socfund.duckdb",
                                 "SELECT organisation_key FROM mart_organisation")]
    assert len(keys) > 1000
    names = {p.name for p in folder.iterdir()}
    letters = {n for n in names if re.fullmatch(r"index-[0-9a-f]{4}\.html", n)}
    assert names - letters - {INDEX_PAGE} == {page_name(k) for k in keys}
    assert letters
    # The folder is swapped in whole: a link to a hidden sibling, nothing left beside it.
    assert folder.is_symlink()
    siblings = [p.name for p in folder.parent.iterdir() if p.name.startswith(f".{FOLDER}.")]
    assert siblings == [os.readlink(folder)]


def test_page_names_are_permanent_safe_and_one_per_key():
    assert page_name("inn:7707083893") == "inn-7707083893.html"
    assert page_name("ogrn:1027700132195") == "ogrn-1027700132195.html"
    assert page_name("name:??:0f3a") == "name-_3f_3f-0f3a.html"
    keys = ["inn:1", "inn-1", "inn_1", "INN:1", "Inn:1", "name:KG:ab", "name:kg:ab", "index",
            "../etc/passwd", "a/b", "a\\b", "é", "e\u0301", ODD_KEY, "", "_3a", ":"]
    names = [page_name(k) for k in keys]
    assert len(set(names)) == len(keys)
    for name in names:
        assert re.fullmatch(r"[a-z0-9_-]*\.html", name), name
    # The rule decodes back: one name, one key.
    for key, name in zip(keys, names, strict=True):
        assert _decode(name) == key


def _decode(name: str) -> str:
    out = bytearray()
    text = name.removesuffix(".html")
    i = 0
    while i < len(text):
        if text[i] == "_":
            out.append(int(text[i + 1:i + 3], 16))
            i += 3
        else:
            out += b":" if text[i] == "-" else text[i].encode()
            i += 1
    return out.decode("utf-8")


def _cells(row) -> list:
    return row.find_all(["td", "th"])


def _value(cell) -> Decimal | None:
    return Decimal(cell["data-value"]) if cell.has_attr("data-value") else None


def test_grants_and_funding_rows_are_every_row_of_the_facts(warehouse, folder):
    db = warehouse / "socfund.duckdb"
    grants: dict[str, set[str]] = defaultdict(set)
    for key, grant_id in _query(db, "SELECT organisation_key, grant_id FROM fact_grant"):
        grants[key].add(grant_id)
    funding: dict[str, set[str]] = defaultdict(set)
    for key, funding_id in _query(db, "SELECT organisation_key, funding_id FROM fact_funding "
                                      "WHERE organisation_key IS NOT NULL"):
        funding[key].add(funding_id)
    grant_row = re.compile(r'<tr class="grant-row" data-grant-id="([^"]*)"')
    funding_row = re.compile(r'<tr class="funding-row" data-funding-id="([^"]*)"')
    for (key,) in _query(db, "SELECT organisation_key FROM mart_organisation"):
        html = (folder / page_name(key)).read_text(encoding="utf-8")
        shown = [_unescape(g) for g in grant_row.findall(html)]
        assert sorted(shown) == sorted(grants.get(key, ())), key
        shown = [_unescape(f) for f in funding_row.findall(html)]
        assert sorted(shown) == sorted(funding.get(key, ())), key


def _unescape(text: str) -> str:
    return BeautifulSoup(text, "html.parser").get_text()


def test_grant_amounts_and_document_links_equal_the_warehouse(warehouse, folder):
    db = warehouse / "socfund.duckdb"
    for key in _sample_keys(db):
        expected = {grant_id: (year, source, amount, currency, url)
                    for grant_id, year, source, amount, currency, url in _query(db, """
            SELECT grant_id, year, source, amount_awarded, currency, source_url
            FROM fact_grant WHERE organisation_key = ?""", [key])}
        rows = _page(folder, key).select("#grants-table tr.grant-row")
        assert len(rows) == len(expected), key
        for row in rows:
            year, source, amount, currency, url = expected[row["data-grant-id"]]
            cells = _cells(row)
            assert cells[0].get_text() == (str(year) if year is not None else "—")
            assert cells[1].get_text() == source
            assert _value(cells[7]) == amount
            if amount is not None:
                assert cells[7].get_text() == format_money(amount, currency)
            link = cells[8].find("a")
            if url and url.startswith(("http://", "https://")):
                assert link is not None and link["href"] == url
            else:
                assert link is None


def test_totals_per_year_and_source_equal_the_same_query(warehouse, folder):
    db = warehouse / "socfund.duckdb"
    checked = 0
    for key in _sample_keys(db):
        expected = _query(db, """
            WITH g AS (
                SELECT year, source, currency, count(*) AS n,
                       sum(amount_awarded) FILTER (WHERE carried_out IS DISTINCT FROM false)
                           AS awarded
                FROM fact_grant WHERE organisation_key = $key GROUP BY ALL),
            f AS (
                SELECT year, source, currency, count(*) AS n, sum(amount) AS amount
                FROM fact_funding WHERE organisation_key = $key GROUP BY ALL)
            SELECT year, source, currency, coalesce(g.n, 0), g.awarded, coalesce(f.n, 0),
                   f.amount
            FROM g FULL JOIN f USING (year, source, currency)
            ORDER BY year NULLS LAST, source, currency""", {"key": key})
        page = _page(folder, key)
        shown = []
        for row in page.select("#totals-table tr.total-row"):
            cells = _cells(row)
            shown.append((int(row["data-year"]) if row["data-year"] else None,
                          row["data-source"], row["data-currency"],
                          int(cells[2].get_text().replace("\u00a0", "")), _value(cells[3]),
                          int(cells[4].get_text().replace("\u00a0", "")), _value(cells[5])))
        assert shown == expected, key
        sums = _query(db, """
            SELECT currency, count(*) FILTER (WHERE kind = 'g'),
                   sum(amount) FILTER (WHERE kind = 'g' AND counted),
                   count(*) FILTER (WHERE kind = 'f'), sum(amount) FILTER (WHERE kind = 'f')
            FROM (SELECT 'g' AS kind, currency, amount_awarded AS amount,
                         carried_out IS DISTINCT FROM false AS counted
                  FROM fact_grant WHERE organisation_key = $key
                  UNION ALL
                  SELECT 'f', currency, amount, true FROM fact_funding
                  WHERE organisation_key = $key)
            GROUP BY currency ORDER BY currency""", {"key": key})
        footer = [(row["data-currency"], int(_cells(row)[1].get_text().replace("\u00a0", "")),
                   _value(_cells(row)[2]), int(_cells(row)[3].get_text().replace("\u00a0", "")),
                   _value(_cells(row)[4]))
                  for row in page.select("#totals-table tr.sum-row")]
        assert footer == sums, key
        for (currency, _, awarded, _, _), row in zip(
                sums, page.select("#totals-table tr.sum-row"), strict=True):
            if awarded is not None:
                assert _cells(row)[2].get_text() == format_money(awarded, currency)
        checked += bool(expected)
    assert checked >= 5


def test_names_identifiers_and_matching_are_shown(warehouse, folder):
    db = warehouse / "socfund.duckdb"
    for key in _sample_keys(db):
        page = _page(folder, key)
        name, inn, ogrn, method, sources = _query(db, """
            SELECT name, inn, ogrn, match_method, sources FROM mart_organisation
            WHERE organisation_key = ?""", [key])[0]
        assert page.select_one("#organisation-name").get_text() == name
        assert page.select_one("#organisation-key").get_text() == key
        assert page.select_one("#inn").get_text() == (inn or "—")
        assert page.select_one("#ogrn").get_text() == (ogrn or "—")
        identity = page.select_one("#identity").get_text(" ")
        assert organisations.MATCH_METHODS[method] in identity
        assert all(source in identity for source in sources)
        names = {n for (n,) in _query(db, """
            SELECT DISTINCT organisation_name FROM intermediate.int_organisation_keys
            WHERE organisation_key = ? AND organisation_name IS NOT NULL""", [key])}
        assert {_cells(r)[0].get_text() for r in page.select("#names-table tbody tr")} == names
        identifiers = set(_query(db, """
            SELECT 'ИНН', inn, coalesce(inn_valid, false) FROM intermediate.int_organisation_keys
            WHERE organisation_key = $key AND inn IS NOT NULL
            UNION
            SELECT 'ОГРН', ogrn, coalesce(ogrn_valid, false)
            FROM intermediate.int_organisation_keys
            WHERE organisation_key = $key AND ogrn IS NOT NULL""", {"key": key}))
        shown = {(_cells(r)[0].get_text(), _cells(r)[1].get_text(), r["data-valid"] == "true")
                 for r in page.select("#identifiers-table tbody tr")}
        assert shown == identifiers, key
        methods = set(_query(db, """
            SELECT source, match_method FROM intermediate.int_organisation_keys
            WHERE organisation_key = ?""", [key]))
        shown_methods = {(_cells(r)[0].find("code").get_text(),
                          _cells(r)[1].get_text()) for r in page.select("#matches-table tbody tr")}
        assert shown_methods == {(s, organisations.MATCH_METHODS[m]) for s, m in methods}
    invalid = _query(db, """
        SELECT organisation_key FROM intermediate.int_organisation_keys
        WHERE inn_valid = false OR ogrn_valid = false ORDER BY 1 LIMIT 1""")
    assert invalid, "the fixtures hold an identifier failing its check"
    page = _page(folder, invalid[0][0])
    row = page.select_one('#identifiers-table tr[data-valid="false"]')
    assert row is not None and "неверна" in row.get_text()


def test_pages_carry_the_banner_the_policy_and_no_script(warehouse, folder):
    (key,) = _query(warehouse / "socfund.duckdb",
                    "SELECT organisation_key FROM mart_organisation ORDER BY grants DESC, 1")[0]
    for name in (page_name(key), INDEX_PAGE):
        page = BeautifulSoup((folder / name).read_text(encoding="utf-8"), "html.parser")
        assert page.select_one("#illustrative").get_text(strip=True) == PAGE_WARNING_RU
        policy = page.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"]
        style = page.find("style").string
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"style-src 'sha256-{digest}'" in policy
        assert "script-src 'none'" in policy and "default-src 'none'" in policy
        assert page.find("script") is None


def _links(html_path: Path) -> list[str]:
    page = BeautifulSoup(html_path.read_text(encoding="utf-8"), "html.parser")
    return [a["href"] for a in page.find_all("a", href=True)]


def test_every_page_is_reachable_from_the_main_page_without_javascript(warehouse, folder):
    site = warehouse / "site"
    assert "organisations/index.html" in _links(site / "index.html")
    reached: set[str] = set()
    for letter in [h for h in _links(folder / INDEX_PAGE) if h.startswith("index-")]:
        for href in _links(folder / letter):
            if "/" not in href and not href.startswith("index"):
                assert (folder / href).is_file(), href
                reached.add(href)
    pages = {p.name for p in folder.iterdir() if not p.name.startswith("index")}
    assert reached == pages
    (key,) = _query(warehouse / "socfund.duckdb",
                    "SELECT organisation_key FROM mart_organisation LIMIT 1")[0]
    for href in _links(folder / page_name(key)):
        if not href.startswith(("http://", "https://")):
            assert (folder / href).resolve().is_file(), href


# --- formatting ------------------------------------------------------------------------

def test_fast_formatting_writes_what_babel_writes():
    values = [Decimal(v) for v in (
        "0", "0.5", "1.5", "2.5", "-0.4", "-1234.5", "999.49", "999.5", "1000", "1234567.49",
        "-98765432.50", "12345678901234.99")]
    values += [Decimal(n) / 100 for n in range(-300_000, 300_000, 7_919)]
    for value in values:
        assert format_money(value) == format_rub(value), value
        assert format_whole(int(value)) == format_int(int(value))


# --- rebuilding --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def odd_db(warehouse, tmp_path_factory) -> Path:
    """A copy of the warehouse with an organisation whose key, name and document link carry
    what must be escaped: a capital, Cyrillic, markup, a path, a `javascript:` link."""
    db = tmp_path_factory.mktemp("odd") / "socfund.duckdb"
    shutil.copyfile(warehouse / "socfund.duckdb", db)
    con = duckdb.connect(str(db))
    try:
        con.execute("""
            INSERT INTO mart_organisation BY NAME
            SELECT $key AS organisation_key, $name AS name, $inn AS inn, 'name_region'
                   AS match_method, ['test'] AS sources, 1 AS grants,
                   1000.00::DECIMAL(18, 2) AS amount_awarded,
                   0::DECIMAL(18, 2) AS budget_funding""",
                    {"key": ODD_KEY, "name": ODD_NAME, "inn": ODD_INN})
        con.execute("""
            INSERT INTO dim_organisation BY NAME
            SELECT $key AS organisation_key, 'name_region' AS match_method, $name AS name,
                   $inn AS inn""", {"key": ODD_KEY, "name": ODD_NAME, "inn": ODD_INN})
        con.execute("""
            INSERT INTO fact_grant BY NAME
            SELECT 'test:odd' AS grant_id, 'test' AS source, 'odd' AS native_id, 2024 AS year,
                   $key AS organisation_key, $name AS recipient_name, 'RUB' AS currency,
                   1000.00::DECIMAL(18, 2) AS amount_awarded,
                   'javascript:alert(3)' AS source_url""", {"key": ODD_KEY, "name": ODD_NAME})
    finally:
        con.close()
    return db


def test_markup_in_the_data_is_text_and_links_are_web_only(odd_db, tmp_path):
    con = duckdb.connect(str(odd_db), read_only=True)
    try:
        write_organisation_pages(con, tmp_path, built_at=BUILT_AT, illustrative=False)
    finally:
        con.close()
    html = (tmp_path / FOLDER / page_name(ODD_KEY)).read_text(encoding="utf-8")
    page = BeautifulSoup(html, "html.parser")
    assert page.find("script") is None and "<script>alert" not in html
    assert page.select_one("#organisation-name").get_text() == ODD_NAME
    assert not page.find("a", href=re.compile("^javascript", re.I))
    assert page.select_one("#illustrative") is None


def test_a_rebuild_replaces_the_folder_and_a_failed_one_keeps_the_old(
        warehouse, tmp_path, monkeypatch):
    db = warehouse / "socfund.duckdb"
    con = duckdb.connect(str(db), read_only=True)
    try:
        first = write_organisation_pages(con, tmp_path, built_at=BUILT_AT, illustrative=True)
        before = {p.name: p.read_bytes() for p in first.folder.iterdir()}
        # A run killed half-way leaves a partial folder beside the link.
        (tmp_path / f".{FOLDER}.killed").mkdir()
        (tmp_path / f".{FOLDER}.killed" / "inn-1.html").write_text("half", encoding="utf-8")

        calls = 0
        real = organisations._writer

        def failing_writer(folder: Path, previous: Path | None):
            write = real(folder, previous)

            def write_some(name: str, text: str) -> None:
                nonlocal calls
                calls += 1
                if calls > 100:
                    raise OSError("disk full")
                write(name, text)
            return write_some

        monkeypatch.setattr(organisations, "_writer", failing_writer)
        with pytest.raises(OSError, match="disk full"):
            write_organisation_pages(con, tmp_path, built_at=datetime.now(UTC),
                                     illustrative=True)
        assert {p.name: p.read_bytes() for p in first.folder.iterdir()} == before
        monkeypatch.setattr(organisations, "_writer", real)
        second = write_organisation_pages(con, tmp_path, built_at=datetime.now(UTC),
                                          illustrative=True)
    finally:
        con.close()
    assert second.pages == first.pages == len(before) - sum(
        n.startswith("index") for n in before)
    hidden = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    assert hidden == [os.readlink(tmp_path / FOLDER)]
    after = {p.name: p.read_bytes() for p in second.folder.iterdir()}
    assert set(after) == set(before)
    # Organisation pages carry no build time: the same data gives the same bytes.
    assert all(after[name] == body for name, body in before.items()
               if not name.startswith("index")), "a page changed with the data unchanged"


def test_a_real_folder_from_before_is_replaced(warehouse, tmp_path):
    (tmp_path / FOLDER).mkdir()
    (tmp_path / FOLDER / "stale.html").write_text("old", encoding="utf-8")
    con = duckdb.connect(str(warehouse / "socfund.duckdb"), read_only=True)
    try:
        write_organisation_pages(con, tmp_path, built_at=BUILT_AT, illustrative=True)
    finally:
        con.close()
    assert (tmp_path / FOLDER).is_symlink()
    assert not (tmp_path / FOLDER / "stale.html").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [
        os.readlink(tmp_path / FOLDER)]


# --- batches and workers ------------------------------------------------------------------

BATCH = 300  # organisations per batch in these tests: several batches of the fixture build


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_batches_written_by_workers_are_the_pages_of_one_batch(warehouse, tmp_path,
                                                               monkeypatch):
    con = duckdb.connect(str(warehouse / "socfund.duckdb"), read_only=True)
    try:
        assert len(organisations.read_batches(con, BATCH)) > 2
        one = write_organisation_pages(con, tmp_path / "one", built_at=BUILT_AT,
                                       illustrative=True, workers=1, batch_size=10**9)

        def not_here(*args, **kwargs):
            raise AssertionError("an organisation page was written by the parent process")
        # Workers are spawned and import the module afresh: only this process refuses.
        monkeypatch.setattr(organisations, "_write_pages", not_here)
        many = write_organisation_pages(con, tmp_path / "many", built_at=BUILT_AT,
                                        illustrative=True, workers=2, batch_size=BATCH)
        assert many.pages == one.pages
        assert _files(many.folder) == _files(one.folder)
        inodes = {p.name: p.stat().st_ino for p in many.folder.iterdir()}
        written = many.folder.resolve()
        again = write_organisation_pages(con, tmp_path / "many", built_at=BUILT_AT,
                                         illustrative=True, workers=2, batch_size=BATCH)
    finally:
        con.close()
    # The workers link the pages the previous build wrote the same.
    assert again.folder.resolve() != written
    assert {p.name: p.stat().st_ino for p in again.folder.iterdir()} == inodes


def test_a_connection_that_writes_keeps_the_batches_in_its_process(warehouse, tmp_path):
    # A writer locks its file against other processes: no worker could open it.
    db = tmp_path / "socfund.duckdb"
    shutil.copyfile(warehouse / "socfund.duckdb", db)
    con = duckdb.connect(str(db))
    try:
        written = write_organisation_pages(con, tmp_path / "site", built_at=BUILT_AT,
                                           illustrative=True, workers=2, batch_size=BATCH)
        (count,) = con.execute("SELECT count(*) FROM mart_organisation").fetchall()[0]
    finally:
        con.close()
    assert written.pages == count
    assert len(list(written.folder.glob("*.html"))) > count


def test_a_failing_batch_is_raised_naming_it_and_the_old_folder_stays(warehouse, tmp_path):
    db = tmp_path / "socfund.duckdb"
    shutil.copyfile(warehouse / "socfund.duckdb", db)
    con = duckdb.connect(str(db))
    try:
        # A grant without a currency beside one in roubles: its organisation's totals
        # cannot be put in order of currency, so its page, and only its, fails.
        key, grant_id = con.execute("""
            SELECT organisation_key, min(grant_id) FROM fact_grant
            WHERE organisation_key IS NOT NULL GROUP BY 1
            HAVING count(*) > 1 AND count(DISTINCT currency) = 1
            ORDER BY 1 DESC LIMIT 1""").fetchall()[0]
        con.execute("UPDATE fact_grant SET currency = NULL WHERE grant_id = ?", [grant_id])
        keys = [k for (k,) in con.execute(
            "SELECT organisation_key FROM mart_organisation ORDER BY 1").fetchall()]
    finally:
        con.close()
    number = keys.index(key) // BATCH + 1
    first, last = keys[(number - 1) * BATCH], keys[min(number * BATCH, len(keys)) - 1]
    of = -(-len(keys) // BATCH)
    assert 1 < number

    site = tmp_path / "site"
    con = duckdb.connect(str(warehouse / "socfund.duckdb"), read_only=True)
    try:
        before = write_organisation_pages(con, site, built_at=BUILT_AT, illustrative=True)
    finally:
        con.close()
    kept = _files(before.folder)
    con = duckdb.connect(str(db), read_only=True)
    try:
        with pytest.raises(TypeError, match="not supported between instances"):
            write_organisation_pages(con, site, built_at=BUILT_AT, illustrative=True,
                                     workers=1, batch_size=BATCH)
        with pytest.raises(RuntimeError) as raised:
            write_organisation_pages(con, site, built_at=BUILT_AT, illustrative=True,
                                     workers=2, batch_size=BATCH)
    finally:
        con.close()
    message = str(raised.value)
    assert message.startswith(
        f"organisation pages: batch {number} of {of} (keys {first!r} to {last!r}): ")
    assert "not supported between instances" in message
    assert _files(site / FOLDER) == kept
    assert [p.name for p in site.iterdir() if p.name.startswith(".")] == [
        os.readlink(site / FOLDER)]


# --- in the browser ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser(chromium):
    return chromium


def _serve(root: Path) -> Iterator[str]:
    with serving(root) as base:
        yield base


@pytest.fixture
def served(warehouse) -> Iterator[str]:
    yield from _serve(warehouse)


def _search_and_open(browser, base: str, query: str) -> tuple[object, list[str]]:
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{base}site/index.html")
    page.fill("#search-input", query)
    link = page.locator("#search-results-body tr.search-hit a.organisation-link").first
    link.wait_for()
    with page.expect_navigation():
        link.click()
    return page, requests


def test_a_search_result_opens_the_organisations_page(browser, served, warehouse):
    key, name, inn = _query(warehouse / "socfund.duckdb", """
        SELECT organisation_key, name, inn FROM mart_organisation
        WHERE inn IS NOT NULL ORDER BY grants DESC, organisation_key LIMIT 1""")[0]
    page, requests = _search_and_open(browser, served, inn)
    try:
        assert page.url == f"{served}site/{FOLDER}/{page_name(key)}"
        assert page.locator("#organisation-name").inner_text() == name
        assert page.locator("#inn").inner_text() == inn
        assert page.locator("#grants-table tr.grant-row").count() == _query(
            warehouse / "socfund.duckdb",
            "SELECT count(*) FROM fact_grant WHERE organisation_key = ?", [key])[0][0]
    finally:
        page.close()
    assert requests and all(url.startswith(served) for url in requests), requests


def test_the_search_links_an_odd_key_to_its_page(browser, odd_db, warehouse, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    shutil.copyfile(odd_db, root / "socfund.duckdb")
    build_site(root / "socfund.duckdb", warehouse / "exports", root / "site",
               built_at=BUILT_AT)
    for base in _serve(root):
        page, requests = _search_and_open(browser, base, "ёлка alert")
        try:
            assert page.url == f"{base}site/{FOLDER}/{page_name(ODD_KEY)}"
            assert page.locator("#organisation-name").inner_text() == ODD_NAME
            assert page.locator("#organisation-key").inner_text() == ODD_KEY
        finally:
            page.close()
        assert all(url.startswith(base) for url in requests), requests


def test_a_key_that_would_overwrite_an_index_page_is_refused(warehouse, tmp_path):
    db = tmp_path / "socfund.duckdb"
    shutil.copyfile(warehouse / "socfund.duckdb", db)
    con = duckdb.connect(str(db))
    try:
        con.execute("UPDATE mart_organisation SET organisation_key = 'index' WHERE "
                    "organisation_key = (SELECT min(organisation_key) FROM mart_organisation)")
        with pytest.raises(ValueError, match="index"):
            write_organisation_pages(con, tmp_path / "site", built_at=BUILT_AT,
                                     illustrative=True)
    finally:
        con.close()
    assert not (tmp_path / "site" / FOLDER).exists()


def test_an_unchanged_page_is_linked_and_a_changed_one_written(warehouse, tmp_path):
    db = tmp_path / "socfund.duckdb"
    shutil.copyfile(warehouse / "socfund.duckdb", db)
    con = duckdb.connect(str(db))
    try:
        keys = [k for (k,) in con.execute(
            "SELECT organisation_key FROM mart_organisation ORDER BY 1 LIMIT 2").fetchall()]
        first = write_organisation_pages(con, tmp_path / "site", built_at=BUILT_AT,
                                         illustrative=True)
        inodes = {p.name: p.stat().st_ino for p in first.folder.iterdir()}
        con.execute("UPDATE mart_organisation SET name = name || ' (переименована)' "
                    "WHERE organisation_key = ?", [keys[0]])
        second = write_organisation_pages(con, tmp_path / "site", built_at=BUILT_AT,
                                          illustrative=True)
    finally:
        con.close()
    changed = second.folder / page_name(keys[0])
    assert "(переименована)" in changed.read_text(encoding="utf-8")
    assert changed.stat().st_ino != inodes[changed.name]
    kept = second.folder / page_name(keys[1])
    assert kept.stat().st_ino == inodes[kept.name]
    assert kept.stat().st_nlink == 1  # the folder it was linked from is gone
