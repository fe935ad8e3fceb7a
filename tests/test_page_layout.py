"""The page and an organisation page do not scroll sideways as a whole at 1 280 px nor at
390 px: wide tables scroll inside their own box, charts scale to their column. Headless
Chromium (Debian's, driven by Playwright's Python package; nothing is downloaded) over
`socfund serve` of a fixture build."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from pipelines.organisations import FOLDER, page_name
from tests.conftest import serving

WIDTHS = (1280, 390)

# What sticks out past the window's right edge, outermost first: an element whose parent
# stays inside; and every table that is not inside a box of its own that scrolls.
OVERFLOW = """() => {
  const width = window.innerWidth;
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const right = el.getBoundingClientRect().right;
    const parent = el.parentElement.getBoundingClientRect().right;
    const scrolls = (e) => ["auto", "scroll"].includes(getComputedStyle(e).overflowX);
    let boxed = false;
    for (let up = el.parentElement; up && !boxed; up = up.parentElement) {
      boxed = scrolls(up);
    }
    if (right > width + 0.5 && parent <= width + 0.5 && !boxed) {
      out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " right=" +
               Math.round(right));
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width,
          outside: out};
}"""

UNBOXED_TABLES = """() => Array.from(document.querySelectorAll("table")).filter((t) => {
  const box = t.parentElement;
  return !(box.classList.contains("table-scroll") &&
           getComputedStyle(box).overflowX === "auto");
}).map((t) => t.id || t.className || "table")"""

CHART_WIDTHS = """() => Array.from(document.querySelectorAll("svg.chart-svg")).map((svg) => [
  svg.getBoundingClientRect().width, svg.parentElement.getBoundingClientRect().width])"""


@pytest.fixture(scope="module")
def served(fixture_build) -> Iterator[str]:
    with serving(fixture_build) as base:
        yield f"{base}site/"


@pytest.fixture(scope="module")
def browser(chromium):
    return chromium


@pytest.fixture(scope="module")
def organisation_page(fixture_build) -> str:
    """The organisation with the most grants: its page has the widest tables."""
    con = duckdb.connect(str(fixture_build / "socfund.duckdb"), read_only=True)
    try:
        (key,) = con.execute("""
            SELECT organisation_key FROM fact_grant GROUP BY 1
            ORDER BY count(*) DESC, 1 LIMIT 1""").fetchall()[0]
    finally:
        con.close()
    return f"{FOLDER}/{page_name(key)}"


def _open(browser, url: str, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url)
    page.wait_for_load_state("load")
    return page, requests


def _assert_no_sideways_scroll(page, served: str, requests: list[str]) -> None:
    found = page.evaluate(OVERFLOW)
    assert found["scrollWidth"] <= found["innerWidth"], found
    assert not found["outside"], found
    assert page.evaluate(UNBOXED_TABLES) == []
    assert all(url.startswith(served) for url in requests), requests


@pytest.mark.parametrize("width", WIDTHS)
def test_the_main_page_does_not_scroll_sideways(browser, served, width):
    page, requests = _open(browser, f"{served}index.html", width)
    try:
        _assert_no_sideways_scroll(page, served, requests)
        charts = page.evaluate(CHART_WIDTHS)
        assert len(charts) == 4
        assert all(0 < svg <= box + 0.5 for svg, box in charts), charts
        # A search fills the results table: it must stay inside its box too.
        page.fill("#search-input", "фонд")
        page.locator("#search-results-body tr.search-hit").first.wait_for()
        _assert_no_sideways_scroll(page, served, requests)
    finally:
        page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_an_organisation_page_does_not_scroll_sideways(
        browser, served, organisation_page, width):
    page, requests = _open(browser, f"{served}{organisation_page}", width)
    try:
        assert page.locator("#grants-table tr.grant-row").count() > 1
        _assert_no_sideways_scroll(page, served, requests)
    finally:
        page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_organisation_index_does_not_scroll_sideways(browser, served, width):
    page, requests = _open(browser, f"{served}{FOLDER}/index.html", width)
    try:
        letter = page.locator("ul.letter-counts a").first
        with page.expect_navigation():
            letter.click()
        _assert_no_sideways_scroll(page, served, requests)
    finally:
        page.close()


def test_the_check_sees_a_page_that_scrolls_sideways(browser, served, width=390):
    page, _ = _open(browser, f"{served}index.html", width)
    try:
        page.evaluate("""() => { const p = document.createElement("p");
            p.id = "too-wide"; p.style.width = "2000px"; p.textContent = "x";
            document.querySelector("#search").appendChild(p); }""")
        found = page.evaluate(OVERFLOW)
        assert found["scrollWidth"] > found["innerWidth"]
        assert any(item.startswith("p#too-wide") for item in found["outside"]), found
    finally:
        page.close()
