"""The static site: links resolve, SQL runs, search finds an organisation, data cannot inject
HTML, the page renders its charts in headless Chromium without leaving the machine, and
`serve` stays on loopback inside its folder."""

from __future__ import annotations

import ast
import base64
import hashlib
import http.client
import inspect
import json
import logging
import os
import re
import shutil
import struct
import subprocess
import threading
import zlib
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import duckdb
import pytest
from bs4 import BeautifulSoup

import pipelines
from pipelines import registry
from pipelines import serve as serve_module
from pipelines.cli import main
from pipelines.serve import make_server, serve
from pipelines.site import (
    ATTRACTED_COLOUR,
    BUDGET_COLOUR,
    EXAMPLE_QUERIES,
    FUNDER_COLOUR,
    RECIPIENT_COLOUR,
    REGION_COLOUR,
    TOP_N,
    Bar,
    Chart,
    bar_chart,
    build_site,
    format_bytes,
    format_int,
    format_moment,
    format_rub,
    format_rub_short,
    render_chart_file,
    short_label,
)
from scrapers.samples import FIXTURES_DIR
from tests.conftest import query as _query

BUILT_AT = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)
RELEASE = "2026-11-23"
EVIL_NAME = "<script>alert(1)</script>"
EVIL_FUNDER = '"><img src=x onerror=alert(2)>'
EVIL_INN = "7707083893"

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars",
    # Belt and braces: no host name but loopback resolves, so nothing can leave.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


# --- fixtures --------------------------------------------------------------------------

def _make_fake_release(db: Path, exports_dir: Path, name: str) -> list[dict]:
    """A small release laid out as `pipelines/exports.py` writes it, with a real manifest."""
    release = exports_dir / name
    for folder in ("csv", "xlsx", "parquet", "360giving"):
        (release / folder).mkdir(parents=True)
    con = duckdb.connect(str(db), read_only=True)
    try:
        for sql, path, options in (
                ("SELECT * FROM fact_grant", "csv/fact_grant.csv", "FORMAT csv, HEADER true"),
                ("SELECT * FROM dim_organisation", "csv/dim_organisation.csv",
                 "FORMAT csv, HEADER true"),
                ("SELECT * FROM dim_region", "parquet/dim_region.parquet", "FORMAT parquet"),
                ("SELECT grant_id, title FROM fact_grant LIMIT 3", "360giving/grants.csv",
                 "FORMAT csv, HEADER true")):
            con.execute(f"COPY ({sql}) TO ? ({options})", [str(release / path)]).fetchall()
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("fact_grant", "dim_organisation", "dim_region")}
    finally:
        con.close()
    (release / "xlsx" / "fact_grant.xlsx").write_bytes(b"PK\x03\x04 not a real workbook")
    (release / "data-dictionary.html").write_text(
        "<!DOCTYPE html><html><body><h1>Словарь данных</h1></body></html>", encoding="utf-8")
    files = [
        ("csv/fact_grant.csv", "csv", "fact_grant", counts["fact_grant"],
         "Гранты и решения о поддержке"),
        ("xlsx/fact_grant.xlsx", "xlsx", "fact_grant", counts["fact_grant"],
         "Гранты и решения о поддержке"),
        ("csv/dim_organisation.csv", "csv", "dim_organisation", counts["dim_organisation"],
         "Организации"),
        ("parquet/dim_region.parquet", "parquet", "dim_region", counts["dim_region"],
         "Регионы"),
        ("360giving/grants.csv", "csv", "fact_grant", 3, "Гранты в стандарте 360Giving"),
        ("data-dictionary.html", "html", None, None, "Словарь данных одной страницей"),
    ]
    manifest = []
    for path, fmt, table, rows, description in files:
        body = (release / path).read_bytes()
        manifest.append({"path": path, "format": fmt, "table": table, "rows": rows,
                         "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest(),
                         "description": description})
    (release / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False),
                                           encoding="utf-8")
    (release / "SHA256SUMS").write_text(
        "".join(f"{m['sha256']}  {m['path']}\n" for m in manifest), encoding="utf-8")
    (exports_dir / "latest").write_text(name + "\n", encoding="utf-8")
    return manifest


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("site_warehouse")
    assert main(["build", "--warehouse", str(root), "--samples", str(FIXTURES_DIR)]) == 0
    # Where the build already exports, its release is kept aside for one test; the others
    # read a small release whose content they know.
    if (root / "exports").exists():
        (root / "exports").rename(root / "exports-built")
    _make_fake_release(root / "socfund.duckdb", root / "exports", RELEASE)
    return root


@pytest.fixture(scope="module")
def manifest(warehouse) -> list[dict]:
    return json.loads((warehouse / "exports" / RELEASE / "manifest.json").read_text())


@pytest.fixture(scope="module")
def site(warehouse) -> Path:
    index = build_site(warehouse / "socfund.duckdb", warehouse / "exports",
                       warehouse / "site", built_at=BUILT_AT)
    assert index == warehouse / "site" / "index.html"
    return index


@pytest.fixture(scope="module")
def page(site) -> BeautifulSoup:
    return BeautifulSoup(site.read_text(encoding="utf-8"), "html.parser")


@pytest.fixture(scope="module")
def evil_site(warehouse, tmp_path_factory) -> Path:
    """The site built from a COPY of the warehouse where names carry HTML."""
    root = tmp_path_factory.mktemp("evil")
    db = root / "socfund.duckdb"
    shutil.copyfile(warehouse / "socfund.duckdb", db)
    con = duckdb.connect(str(db))
    try:
        con.execute("""
            INSERT INTO dim_organisation BY NAME
            SELECT 'inn:' || $inn AS organisation_key, 'inn' AS match_method, $name AS name,
                   $inn AS inn, '77' AS region_code""", {"inn": EVIL_INN, "name": EVIL_NAME})
        con.execute("""
            INSERT INTO fact_grant BY NAME
            SELECT 'test:evil' AS grant_id, 'test' AS source, 'evil' AS native_id,
                   2024 AS year, 'inn:' || $inn AS organisation_key, $name AS recipient_name,
                   $inn AS inn, true AS inn_valid, '77' AS region_code,
                   999999999999.00::DECIMAL(18, 2) AS amount_awarded, 'RUB' AS currency""",
                    {"inn": EVIL_INN, "name": EVIL_NAME})
        # Only into the mart: the funders chart reads mart_funder_year and nothing else.
        con.execute("""
            INSERT INTO mart_funder_year BY NAME
            SELECT $funder AS funder, 2024 AS year, 'RUB' AS currency,
                   999999999999.00::DECIMAL(18, 2) AS budget_total""", {"funder": EVIL_FUNDER})
    finally:
        con.close()
    return build_site(db, warehouse / "exports", root / "site", built_at=BUILT_AT)


# --- the page from the warehouse -------------------------------------------------------

def _local_links(page: BeautifulSoup) -> list[str]:
    return [a["href"] for a in page.find_all("a", href=True) if not a["href"].startswith("#")]


def test_every_download_link_resolves_to_a_file(page, site, manifest):
    links = _local_links(page)
    assert links
    for link in links:
        parts = urlsplit(link)
        assert not parts.scheme and not parts.netloc, f"link leaves the site: {link}"
        target = (site.parent / unquote(parts.path)).resolve()
        assert target.is_file(), f"{link} -> {target} does not exist"
    downloads = {a["href"] for a in page.select("#downloads-table a.download")}
    expected = {f"../exports/{RELEASE}/{quote(m['path'])}" for m in manifest}
    assert downloads == expected
    for extra in ("SHA256SUMS", "manifest.json", "data-dictionary.html"):
        assert f"../exports/{RELEASE}/{extra}" in links
    assert "../socfund.duckdb" in links


def test_downloads_show_rows_sizes_and_checksums(page, manifest):
    rows = {row.find("a").get_text(): row.get_text(" ", strip=True)
            for row in page.select("#downloads-table tbody tr")}
    assert len(rows) == len(manifest)
    for m in manifest:
        text = rows[m["path"]]
        assert m["sha256"] in text
        assert format_bytes(m["bytes"]) in text
        if m["rows"] is not None:
            assert format_int(m["rows"]) in text
    # A table's own files come first, grouped by table; derived files after them.
    order = list(rows)
    assert order.index("csv/fact_grant.csv") < order.index("xlsx/fact_grant.xlsx") \
        < order.index("360giving/grants.csv") < order.index("data-dictionary.html")


def test_site_from_the_release_the_build_wrote(warehouse, tmp_path):
    exports = warehouse / "exports-built"
    if not (exports / "latest").is_file():
        pytest.skip("this build does not export a release")
    index = build_site(warehouse / "socfund.duckdb", exports, tmp_path / "site",
                       built_at=BUILT_AT)
    release = exports / (exports / "latest").read_text(encoding="utf-8").strip()
    entries = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    soup = BeautifulSoup(index.read_text(encoding="utf-8"), "html.parser")
    links = [unquote(a["href"]) for a in soup.select("#downloads-table a.download")]
    assert len(links) == len(entries) > 0
    for link in links:
        assert (index.parent / link).resolve().is_file(), link
    assert soup.select_one("#datadictionary-link") is not None


def test_data_dictionary_is_linked_and_tables_described(page):
    link = page.select_one("#datadictionary-link")
    assert link is not None and link["href"] == f"../exports/{RELEASE}/data-dictionary.html"
    rows = {r.find("code").get_text(): r.get_text(" ", strip=True)
            for r in page.select("#dictionary tbody tr")}
    assert set(rows) == {"fact_grant", "dim_organisation", "dim_region"}
    # The table's own file speaks for it, not the 360Giving file derived from it.
    assert "Гранты и решения о поддержке" in rows["fact_grant"]
    assert "360Giving" not in rows["fact_grant"]


def test_data_dictionary_under_its_other_name_is_found(warehouse, tmp_path):
    exports = tmp_path / "exports"
    shutil.copytree(warehouse / "exports", exports)
    release = exports / RELEASE
    (release / "data-dictionary.html").rename(release / "datadictionary.html")
    entries = [m for m in json.loads((release / "manifest.json").read_text())
               if m["path"] != "data-dictionary.html"]
    (release / "manifest.json").write_text(json.dumps(entries))
    index = build_site(warehouse / "socfund.duckdb", exports, tmp_path / "site",
                       built_at=BUILT_AT)
    link = BeautifulSoup(index.read_text(encoding="utf-8"), "html.parser").select_one(
        "#datadictionary-link")
    assert link["href"] == f"../exports/{RELEASE}/datadictionary.html"
    assert (index.parent / link["href"]).is_file()


def test_refresh_time_and_every_source_freshness_shown(page, warehouse):
    assert format_moment(BUILT_AT) in page.select_one("#refreshed").get_text()
    newest = _query(warehouse / "socfund.duckdb", """
        SELECT source, max(fetched_at) FROM raw.fetch_log WHERE error IS NULL
        GROUP BY source""")
    assert newest
    rows = {r.find("code").get_text(): r.get_text(" ", strip=True)
            for r in page.select("#sources-table tbody tr")}
    assert set(rows) == {source for source, _ in newest}
    for source, fetched_at in newest:
        assert format_moment(fetched_at) in rows[source]


def test_example_queries_run_on_the_warehouse_and_return_rows(page, warehouse):
    shown = [pre.get_text() for pre in page.select("#sql pre code")]
    assert len(EXAMPLE_QUERIES) == 3 and len(shown) == 3
    for query in EXAMPLE_QUERIES:
        assert query.sql in shown
        rows = _query(warehouse / "socfund.duckdb", query.sql)
        assert rows, f"example query returns nothing: {query.title}"


def test_search_index_holds_an_organisation_by_inn(site, warehouse, page):
    # An ИНН with a leading zero, where one exists: it must stay text.
    inn, name, grants, total = _query(warehouse / "socfund.duckdb", """
        SELECT o.inn, o.name, count(*), sum(g.amount_awarded)
        FROM fact_grant AS g JOIN dim_organisation AS o USING (organisation_key)
        WHERE o.inn IS NOT NULL AND g.carried_out IS DISTINCT FROM false
        GROUP BY o.inn, o.name ORDER BY o.inn NOT LIKE '0%', o.inn LIMIT 1""")[0]
    index = json.loads((site.parent / "search-index.json").read_text(encoding="utf-8"))
    (organisations,) = _query(warehouse / "socfund.duckdb",
                              "SELECT count(*) FROM dim_organisation")[0]
    assert len(index) == organisations
    hits = [r for r in index if r["inn"] == inn]
    assert len(hits) == 1
    hit = hits[0]
    assert set(hit) == {"key", "name", "inn", "ogrn", "region", "grants", "total"}
    assert (hit["name"], hit["grants"]) == (name, grants)
    assert hit["total"] == pytest.approx(float(total))
    assert hit["region"]
    embedded = page.select_one('script#search-index[type="application/json"]')
    assert json.loads(embedded.string) == index


def test_charts_have_bars_for_the_data(page, site, warehouse):
    db = warehouse / "socfund.duckdb"
    charts = page.select("#charts svg.chart-svg")
    assert len(charts) == 4
    (years,) = _query(db, "SELECT count(DISTINCT year) FROM mart_budget_vs_attracted")[0]
    budget = page.select_one("#chart-budget-vs-attracted svg")
    assert len(budget.select("g.row")) == years
    assert budget.select(f'rect.bar[fill="{BUDGET_COLOUR}"]')
    assert budget.select(f'rect.bar[fill="{ATTRACTED_COLOUR}"]')
    top_region = _query(db, """
        SELECT region_name FROM mart_region_year GROUP BY region_code, region_name
        HAVING sum(amount_awarded) > 0 ORDER BY sum(amount_awarded) DESC LIMIT 1""")[0][0]
    regions = page.select_one("#chart-regions svg")
    assert 0 < len(regions.select("rect.bar")) <= TOP_N
    assert top_region in regions.select("g.row")[0].get_text(" ")
    assert page.select("#chart-funders svg rect.bar")
    top_recipient = _query(db, """
        SELECT o.name FROM fact_grant AS g JOIN dim_organisation AS o USING (organisation_key)
        WHERE g.carried_out IS DISTINCT FROM false
        GROUP BY o.organisation_key, o.name ORDER BY sum(g.amount_awarded) DESC LIMIT 1""")[0][0]
    first = page.select_one("#chart-recipients svg g.row")
    assert first.find("title").get_text().startswith(top_recipient)
    assert short_label(top_recipient).split()[0] in first.find("text").get_text(" ")
    for chart in page.select("figure.chart"):
        svg_file = site.parent / chart.select_one(".chart-links a")["href"]
        standalone = BeautifulSoup(svg_file.read_text(encoding="utf-8"), "xml")
        assert len(standalone.select("rect.bar")) == len(chart.select("svg rect.bar")) > 0


def test_page_references_nothing_outside_the_machine(page, site):
    for tag in page.find_all(src=True):
        raise AssertionError(f"the page loads a file: {tag}")
    for tag in page.find_all("link"):
        assert tag.get("rel") != ["stylesheet"], tag
    text = site.read_text(encoding="utf-8")
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text
    policy = page.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"]
    assert policy.startswith("default-src 'none';")
    assert "connect-src 'self'" in policy


def test_release_manifest_leaving_its_folder_is_refused(warehouse, tmp_path):
    exports = tmp_path / "exports"
    shutil.copytree(warehouse / "exports", exports)
    manifest_path = exports / RELEASE / "manifest.json"
    entries = json.loads(manifest_path.read_text())
    entries[0]["path"] = "../../socfund.duckdb"
    manifest_path.write_text(json.dumps(entries))
    with pytest.raises(ValueError, match="leaves the release folder"):
        build_site(warehouse / "socfund.duckdb", exports, tmp_path / "site", built_at=BUILT_AT)


def test_site_without_exports_says_so(warehouse, tmp_path):
    index = build_site(warehouse / "socfund.duckdb", tmp_path / "no-exports", tmp_path / "site",
                       built_at=BUILT_AT)
    text = index.read_text(encoding="utf-8")
    assert "ещё не опубликованы" in text and "exports/" not in text


def test_naive_build_time_is_refused(warehouse, tmp_path):
    with pytest.raises(ValueError, match="timezone"):
        build_site(warehouse / "socfund.duckdb", warehouse / "exports", tmp_path / "site",
                   built_at=datetime(2026, 11, 23, 13, 30))


def test_names_from_sources_are_escaped(evil_site):
    text = evil_site.read_text(encoding="utf-8")
    assert EVIL_NAME not in text
    assert "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text  # in the recipients chart
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in text  # in the funders chart
    soup = BeautifulSoup(text, "html.parser")
    scripts = soup.find_all("script")
    assert len(scripts) == 2
    assert all("alert" not in s.get_text() or s.get("type") == "application/json"
               for s in scripts)
    embedded = json.loads(soup.select_one("script#search-index").string)
    assert any(r["name"] == EVIL_NAME and r["inn"] == EVIL_INN for r in embedded)
    assert "<" not in soup.select_one("script#search-index").string
    svg = (evil_site.parent / "charts" / "chart-recipients.svg").read_text(encoding="utf-8")
    assert EVIL_NAME not in svg and "&lt;script&gt;" in svg


def test_sources_table_names_every_source_with_rows_by_its_registry_title(page, warehouse):
    db = warehouse / "socfund.duckdb"
    tables = _query(db, r"""
        SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'raw' AND table_name LIKE '%\_\_%' ESCAPE '\'""")
    with_rows = {table.split("__", 1)[0] for (table,) in tables
                 if _query(db, f'SELECT count(*) FROM raw."{table}"')[0][0] > 0}
    # The two sources the page once listed without a title are among them.
    assert {"practice", "programme"} <= with_rows
    titles = {row.find("code").get_text(): row.find_all("td")[1].get_text()
              for row in page.select("#sources-table tbody tr")}
    for key in with_rows:
        assert titles.get(key) == registry.source(key).title_ru, key
    declared = [s.key for s in registry.SOURCES]
    assert list(titles) == sorted(titles, key=declared.index)


# The funders chart as the page computed it before mart_funder_year existed: one basis per
# funder, year, territory and budget level, the best precedence — after one basis per
# programme and year (an operator's allocation and its listed grants are the same money).
# The mart must agree.
FUNDERS_BEFORE_THE_MART = """
    WITH one_basis_per_programme AS (
        SELECT * FROM fact_funding
        WHERE funding_group = 'budget'
        QUALIFY programme_id IS NULL OR basis_precedence = min(basis_precedence) OVER (
            PARTITION BY programme_id, year, funding_kind)
    ),
    by_basis AS (
        SELECT p.funder, f.year, f.region_code, f.funding_kind, f.basis_precedence,
               sum(f.amount) AS amount
        FROM one_basis_per_programme AS f
        JOIN dim_programme AS p USING (programme_id)
        WHERE f.currency = 'RUB' AND p.funder IS NOT NULL
        GROUP BY p.funder, f.year, f.region_code, f.funding_kind, f.basis_precedence
        QUALIFY row_number() OVER (
            PARTITION BY p.funder, f.year, f.region_code, f.funding_kind
            ORDER BY f.basis_precedence) = 1
    )
    SELECT funder, sum(amount), min(year), max(year) FROM by_basis
    GROUP BY funder HAVING sum(amount) > 0
    ORDER BY 2 DESC, 1 LIMIT ?"""


def test_funders_chart_shows_what_the_page_computed_before_the_mart(page, warehouse):
    expected = _query(warehouse / "socfund.duckdb", FUNDERS_BEFORE_THE_MART, [TOP_N])
    assert expected
    shown = [row.find("title").get_text() for row in page.select("#chart-funders svg g.row")]
    years = {True: "{0} год", False: "{0}–{1} годы"}
    assert shown == [f"{funder}: {format_rub(amount)} ({years[first == last].format(first, last)})"
                     for funder, amount, first, last in expected]


def test_inline_style_and_script_are_the_static_files_the_policy_allows(page):
    static = Path(pipelines.__file__).parent / "static"
    policy = page.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"]
    for element, name, directive in (("style", "page.css", "style-src"),
                                     ("script", "search.js", "script-src")):
        data = (static / name).read_bytes()
        inline = [tag for tag in page.find_all(element) if not tag.get("type")]
        assert len(inline) == 1 and inline[0].string.encode() == data, name
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
        assert f"{directive} 'sha256-{digest}';" in policy, name


def test_russian_figures_and_dates():
    nbsp = "\u00a0"
    assert format_int(1234567) == f"1{nbsp}234{nbsp}567"
    assert format_int(115) == "115"
    assert format_rub(Decimal("9484487.40")) == f"9{nbsp}484{nbsp}487{nbsp}₽"
    assert format_rub(Decimal("0.4")) == f"0{nbsp}₽"
    assert format_rub_short(Decimal("2380000000")) == f"2,38{nbsp}млрд{nbsp}₽"
    assert format_rub_short(Decimal("14630000")) == f"14,6{nbsp}млн{nbsp}₽"
    assert format_rub_short(Decimal("10200000")) == f"10,2{nbsp}млн{nbsp}₽"
    assert format_rub_short(Decimal("262000")) == f"262{nbsp}тыс.{nbsp}₽"
    assert format_rub_short(Decimal("1000000")) == f"1{nbsp}млн{nbsp}₽"
    assert format_rub_short(900) == f"900{nbsp}₽"
    # Three significant digits, rounded half up on the exact amount, into the next unit
    # when that rounds to a thousand of this one.
    assert format_rub_short(Decimal("14350")) == f"14,4{nbsp}тыс.{nbsp}₽"
    assert format_rub_short(Decimal("999600")) == f"1{nbsp}млн{nbsp}₽"
    assert format_bytes(481) == f"481{nbsp}Б"
    assert format_bytes(3584) == f"3,5{nbsp}КБ"
    assert format_bytes(30 * 1024) == f"30,0{nbsp}КБ"
    assert format_bytes(12_058_624) == f"11,5{nbsp}МБ"
    assert format_moment(BUILT_AT) == f"23{nbsp}ноября 2026{nbsp}г., 16:30{nbsp}МСК"
    assert format_moment(datetime(2026, 5, 2, 21, 5, tzinfo=UTC)) == \
        f"3{nbsp}мая 2026{nbsp}г., 00:05{nbsp}МСК"


def test_chart_template_places_the_computed_geometry():
    bars = [Bar("Автономная некоммерческая организация «Очень длинное название, которое "
                "не уместится в подписи столбца из двух строк»", Decimal("2000000")),
            Bar("Малый", Decimal("500000"), "2020 год"),
            Bar("Ноль", Decimal("0"))]
    geometry = bar_chart("test-svg", "Проверка", bars, FUNDER_COLOUR, shorten=True)
    svg = BeautifulSoup(render_chart_file(Chart("test", "Проверка", "", geometry)), "xml")
    rows = svg.select("g.row")
    assert len(rows) == 3
    for row, computed in zip(rows, geometry.bar_rows, strict=True):
        assert [(t["x"], t["y"], t.get_text()) for t in row.select("tspan")] == [
            (str(line.x), f"{line.y:.1f}", line.text) for line in computed.label_lines]
        rect = row.select_one("rect.bar")
        if computed.bar is None:
            assert rect is None
        else:
            assert (rect["width"], rect["y"]) == (f"{computed.bar.width:.1f}",
                                                  str(computed.bar.y))
        value = row.select_one("text.value")
        assert (value["x"], value.get_text()) == (f"{computed.value.x:.1f}",
                                                  computed.value.text)
    first, second, zero = geometry.bar_rows
    assert first.bar.width == 4 * second.bar.width and zero.bar is None
    assert len(first.label_lines) == 2 and first.label_lines[0].text.startswith("АНО")
    assert first.label_lines[-1].text.endswith("…")
    assert rows[1].find("title").get_text() == f"Малый: {format_rub(500000)} (2020 год)"
    empty = bar_chart("empty-svg", "Пусто", [], FUNDER_COLOUR)
    assert "Нет данных" in render_chart_file(Chart("empty", "Пусто", "", empty))


# Markup only where it belongs: templates. A tag in a Python string under pipelines/ means
# markup assembled by hand again (docstrings may still name a tag).
MARKUP = re.compile(
    r"<!DOCTYPE|<\?xml|</?(?:svg|div|tr|td|th|thead|tbody|table|section|span|figure|"
    r"figcaption|script|style|html|head|body|h[1-6]|li|ul|ol|pre|code|dl|dt|dd|nav|header|"
    r"footer|article|strong|em|p|br)(?=[\s/]|>(?![.\w]| \())"
    r"|<(?:rect|text|tspan|path|g|a|img|meta|input|time|link|label)\s", re.IGNORECASE)


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def test_markup_check_finds_a_tag_in_a_python_string():
    tree = ast.parse('"""A <div> here is a docstring."""\n'
                     'row = f"<tr><td>{cell}</td></tr>"\n'
                     'path = "csv/<table>.csv"\n')
    skip = _docstrings(tree)
    found = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
             and isinstance(node.value, str) and id(node) not in skip
             and MARKUP.search(node.value)]
    assert found == ["<tr><td>", "</td></tr>"]


def test_no_markup_is_assembled_in_python_under_pipelines():
    root = Path(pipelines.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        skip = _docstrings(tree)
        found += [f"{path.relative_to(root.parent)}:{node.lineno}: {node.value[:60]!r}"
                  for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and id(node) not in skip and MARKUP.search(node.value)]
    assert not found, "markup in Python strings (move it to a template):\n" + "\n".join(found)


# --- headless Chromium -----------------------------------------------------------------

@pytest.fixture(scope="module")
def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    message = "Chromium is not installed (apt-get install -y chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _run_chromium(chromium: str, workdir: Path, url: str, *args: str) -> tuple[str, Path]:
    """Run headless Chromium on `url`; return what it printed and its network log."""
    netlog = workdir / "netlog.json"
    profile = workdir / "profile"
    shutil.rmtree(profile, ignore_errors=True)
    done = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
         f"--log-net-log={netlog}", *args, url],
        capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, netlog


def _requests(netlog: Path) -> list[tuple[str, str]]:
    """(url, initiator) of every request Chromium started; `not an origin` marks requests
    of the browser itself (updates, sign-in, autofill), which --host-resolver-rules keeps
    on the machine; a page's own requests carry the page's origin."""
    data = json.loads(netlog.read_text(encoding="utf-8"))
    kinds = {number: name for name, number in data["constants"]["logEventTypes"].items()}
    return [(event["params"]["url"], event["params"].get("initiator", "not an origin"))
            for event in data["events"]
            if kinds.get(event["type"]) == "URL_REQUEST_START_JOB"
            and "url" in event.get("params", {})]


def _page_requests(netlog: Path) -> list[str]:
    return [url for url, initiator in _requests(netlog) if initiator != "not an origin"]


@pytest.fixture
def served(warehouse):
    server = make_server(warehouse, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_page_works_in_chromium_over_loopback_and_fetches_nothing_else(
        chromium, site, served, warehouse, tmp_path, caplog):
    inn = _query(warehouse / "socfund.duckdb",
                 "SELECT inn FROM dim_organisation WHERE inn IS NOT NULL ORDER BY inn LIMIT 1"
                 )[0][0]
    base = f"http://127.0.0.1:{served}/"
    with caplog.at_level(logging.INFO, logger="pipelines.serve"):
        dom, netlog = _run_chromium(chromium, tmp_path, f"{base}site/index.html#q={inn}",
                                    "--virtual-time-budget=5000", "--dump-dom")
    rendered = BeautifulSoup(dom, "html.parser")
    charts = rendered.select("svg.chart-svg")
    assert len(charts) == 4
    assert all(chart.select("rect.bar") for chart in charts)
    # The script ran (its CSP hash matched) and searched the embedded index by ИНН.
    hits = rendered.select("#search-results-body tr.search-hit")
    assert len(hits) == 1 and inn in hits[0].get_text(" ")
    assert rendered.select_one("#search-status").get_text() == "Найдено: 1."
    assert any(url.startswith(f"{base}site/index.html") for url, _ in _requests(netlog))
    page_requests = _page_requests(netlog)
    assert all(url.startswith(base) for url in page_requests), page_requests
    assert any("GET /site/index.html" in r.getMessage() for r in caplog.records)


def test_network_check_catches_a_page_that_reaches_out(chromium, tmp_path):
    root = tmp_path / "root"
    (root / "site").mkdir(parents=True)
    (root / "site" / "leak.html").write_text(
        '<!DOCTYPE html><img src="http://example.invalid/pixel.png">', encoding="utf-8")
    server = make_server(root, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        _, netlog = _run_chromium(chromium, tmp_path, f"http://127.0.0.1:{port}/site/leak.html",
                                  "--virtual-time-budget=3000", "--dump-dom")
    finally:
        server.shutdown()
        server.server_close()
    assert "http://example.invalid/pixel.png" in _page_requests(netlog)


def _decode_png(data: bytes) -> tuple[int, int, list[bytes], int]:
    """Width, height, pixel rows and bytes per pixel of an 8-bit RGB(A) PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, chunk = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
    width, height, depth, colour_type, _, _, interlace = header
    assert depth == 8 and interlace == 0 and colour_type in (2, 6)
    bpp = 3 if colour_type == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) \
                    & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows, bpp


def _colour_counts(rows: list[bytes], bpp: int) -> Counter:
    counts: Counter = Counter()
    for row in rows:
        counts.update(row[i:i + 3] for i in range(0, len(row), bpp))
    return counts


def _pixels_near(counts: Counter, hex_colour: str, tolerance: int = 6) -> int:
    target = bytes.fromhex(hex_colour.lstrip("#"))
    return sum(n for px, n in counts.items()
               if all(abs(a - b) <= tolerance for a, b in zip(px, target, strict=True)))


def test_screenshot_shows_the_charts(chromium, site, tmp_path):
    shot = tmp_path / "site.png"
    _run_chromium(chromium, tmp_path, site.as_uri(), f"--screenshot={shot}",
                  "--window-size=1280,2400")
    width, height, rows, bpp = _decode_png(shot.read_bytes())
    assert (width, height) == (1280, 2400)
    counts = _colour_counts(rows, bpp)
    assert len(counts) > 64, "the screenshot is nearly blank"
    for colour in (BUDGET_COLOUR, ATTRACTED_COLOUR, REGION_COLOUR, FUNDER_COLOUR,
                   RECIPIENT_COLOUR):
        assert _pixels_near(counts, colour) > 300, f"no bars in {colour} on the screenshot"
    # The header's background comes from the inline stylesheet: the policy let it apply.
    assert _pixels_near(counts, "#14304f") > 10_000, "the stylesheet did not apply"


def test_escaped_names_stay_text_in_chromium(chromium, evil_site, tmp_path):
    dom, _ = _run_chromium(chromium, tmp_path, f"{evil_site.as_uri()}#q={EVIL_INN}",
                           "--virtual-time-budget=5000", "--dump-dom")
    rendered = BeautifulSoup(dom, "html.parser")
    hits = rendered.select("#search-results-body tr.search-hit")
    assert len(hits) == 1
    assert hits[0].find("td").get_text() == EVIL_NAME
    assert not rendered.select("img")
    assert all("alert" not in s.get_text() or s.get("type") == "application/json"
               for s in rendered.find_all("script"))


# --- serve -----------------------------------------------------------------------------

def _get(port: int, path: str) -> tuple[int, http.client.HTTPMessage, bytes]:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        con.request("GET", path)
        response = con.getresponse()
        return response.status, response.headers, response.read()
    finally:
        con.close()


def test_serve_binds_loopback_and_refuses_paths_outside_its_root(tmp_path, monkeypatch):
    root = tmp_path / "warehouse"
    (root / "site").mkdir(parents=True)
    (root / "site" / "index.html").write_text("<p>сайт</p>", encoding="utf-8")
    (root / "exports").mkdir()
    (root / "exports" / "a.csv").write_text("x\n1\n", encoding="utf-8")
    (root / ".build").mkdir()
    (root / ".build" / "socfund.duckdb").write_bytes(b"half-built")
    (tmp_path / "outside.txt").write_text("secret", encoding="utf-8")
    (root / "link.txt").symlink_to(tmp_path / "outside.txt")

    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"
    started: list = []

    def recording_make_server(*args, **kwargs):
        server = make_server(*args, **kwargs)
        started.append(server)
        return server

    monkeypatch.setattr(serve_module, "make_server", recording_make_server)
    thread = threading.Thread(target=serve, args=(root,), kwargs={"port": 0}, daemon=True)
    thread.start()
    for _ in range(100):
        if started:
            break
        threading.Event().wait(0.05)
    server = started[0]
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        status, _, body = _get(port, "/site/index.html")
        assert status == 200 and "сайт" in body.decode()
        status, headers, _ = _get(port, "/")
        assert status == 302 and headers["Location"] == "/site/"
        status, headers, body = _get(port, "/exports/a.csv")
        assert status == 200 and headers["Content-Type"].startswith("text/csv")
        for path in ("/../outside.txt", "/site/../../outside.txt",
                     "/site/%2e%2e/%2e%2e/outside.txt", "/%2E%2E/outside.txt",
                     "/link.txt", "/.build/socfund.duckdb", "/site/..%5c..%5coutside.txt"):
            status, _, body = _get(port, path)
            assert status == 403, path
            assert b"secret" not in body and b"half-built" not in body
        status, _, body = _get(port, "/exports/")
        assert status == 404 and b"a.csv" not in body  # folders are not listed
    finally:
        server.shutdown()
        thread.join(10)
    assert not thread.is_alive()


def test_folders_are_not_listed(tmp_path):
    root = tmp_path / "warehouse"
    (root / "exports").mkdir(parents=True)
    (root / "exports" / "a.csv").write_text("x\n", encoding="utf-8")
    (root / "exports" / ".lock").write_text("", encoding="utf-8")
    (root / "exports" / "<b>.csv").write_text("x\n", encoding="utf-8")
    server = make_server(root, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        status, _, listing = _get(server.server_address[1], "/exports/")
    finally:
        server.shutdown()
        server.server_close()
    assert status == 404
    assert b"a.csv" not in listing and b".lock" not in listing
    assert b"<b>" not in listing and b"&lt;b&gt;.csv" not in listing
