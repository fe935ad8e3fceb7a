"""Municipal grant competitions: HTML pages that list the winners as a table.

SOURCES.md §4. A city or district administration publishes the results of its
competition of social projects as a news page with a table: organisation,
project, nomination, amount. The layouts differ from site to site and year to
year, so everything is found by text: the table by its header cells, the
columns by their header text, the competition's name and year by the page's
heading. Quirks handled, each where it happens:

- the nomination as a column (often one cell spanning several rows with
  `rowspan`) or as a section row spanning the table (`Номинация «…»`);
- a totals row (`Итого`, `Всего`): not a winner; its amount is returned by
  `parse_winners_total` so the winners can be reconciled with it;
- amounts with no-break spaces and a decimal comma, in rubles or, when the
  header says so (`тыс. руб.`), in thousands, scaled to rubles here, once;
- a row of column numbers (`1 2 3 4`) under the header, as official tables print;
- windows-1251 pages that declare their encoding only in `<meta charset>`, or not at all
  (`scrapers.documents` reads the declaration or tells the encoding from the bytes;
  nothing is assumed from HTTP headers), and what is no page (empty, binary, nested past
  reading), refused there;
- layout tables around the content and other tables on the same page.

`HOST` is a host of our own naming, not a real site: the Perm city pages that
publish real winners are not known to us yet, so `WINNERS_URLS` are the offline
addresses of our two illustrative pages in `samples/` (invented organisations
and amounts, marked as such on the page and in the competition's name). When a
real page is found, its URL goes into `WINNERS_URLS` with its municipality.
The `.invalid` top-level domain never resolves, so a live run cannot mistake
these addresses for a real site.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bs4 import BeautifulSoup, Tag

from scrapers.documents import html_soup
from scrapers.values import clean_text, parse_decimal, parse_identifier, set_converted

HOST = "municipal.socfund.invalid"
BASE_URL = f"https://{HOST}"
# URL -> the municipality whose competition the page reports. The pages do not
# name their municipality in a form a parser can trust (a site name in a logo
# picture, a footer address), so the catalogue that lists the URL says it.
WINNERS_URLS: dict[str, str] = {
    f"{BASE_URL}/perm/konkurs/2023/pobediteli.html": "Пермь",
    f"{BASE_URL}/perm/rayon/2022/itogi.html": "Пермь",
}
PARSER_VERSION = "municipal/1"
CURRENCY = "RUB"

# --- header text -----------------------------------------------------------------------------

# Patterns over a header as `_header_key` normalises it (lower case, ё as е, one
# space, no trailing colon or asterisk). Anchored at the start, so a layout table
# whose one cell holds a whole page of text never looks like a header.
_ROLES: dict[str, re.Pattern[str]] = {
    "organisation": re.compile(
        r"^(?:(?:полное |краткое )?наименование (?:некоммерческой )?организации"
        r"|организация|заявитель|получатель(?: гранта| субсидии)?)\b"
    ),
    "project": re.compile(r"^(?:(?:название|наименование|тема) проекта|проект)\b"),
    "nomination": re.compile(r"^(?:номинация|направление)\b"),
    "amount": re.compile(
        r"^(?:(?:сумма|размер|объем)(?: гранта| субсидии| поддержки| финансирования)?"
        r"|(?:тыс\.?|млн\.?) ?руб\.?|руб\.?)(?=$|[ ,(])"
    ),
    "inn": re.compile(r"^инн\b"),
}
_REQUIRED = ("organisation", "amount")
_THOUSANDS = re.compile(r"\bтыс\b|\bтыс\.")
_MILLIONS = re.compile(r"\bмлн\b|\bмлн\.")
# A totals row: `Итого`, `Итого:`, `ВСЕГО`, `Итого по номинации «…»`.
# Anchored on what follows the word, so an organisation called «Всего понемногу»
# in a table without a number column is still a winner.
_TOTAL = re.compile(r"^(?:итого|всего)(?:\s*:|$|\s+по\b|\s+\d)")
_SUBTOTAL = re.compile(r"\bпо (?:номинации|направлению|разделу)\b")
_NOMINATION_PREFIX = re.compile(r"^(?:номинация|направление)\s*(?:№\s*\d+)?\s*[:.\-–—]?\s*",
                                re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_CURRENCY_SUFFIX = re.compile(r"\s*(?:₽|руб\.?|рублей|рубля|р\.)$", re.IGNORECASE)
_PLACEHOLDERS = frozenset({"-", "–", "—", "нет"})


def _header_key(text: str | None) -> str:
    cleaned = clean_text(text) or ""
    return cleaned.lower().replace("ё", "е").rstrip(" :*")


def _role(header: str) -> str | None:
    key = _header_key(header)
    for role, pattern in _ROLES.items():
        if pattern.search(key):
            return role
    return None


def _scale(header: str) -> Decimal:
    """`Сумма, тыс. руб.` is in thousands; the amount is stored in rubles."""
    key = _header_key(header)
    if _MILLIONS.search(key):
        return Decimal(1_000_000)
    if _THOUSANDS.search(key):
        return Decimal(1000)
    return Decimal(1)


# --- the grid of a table ---------------------------------------------------------------------


@dataclass
class _Row:
    number: int          # position among the rows of the winners tables, from 1
    cells: list[str | None]  # one entry per column, spans expanded
    tags: int            # how many td/th the row itself has


def _own_rows(table: Tag) -> list[Tag]:
    """The table's rows, not those of a table nested inside one of its cells."""
    return [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]


def _span(cell: Tag, name: str) -> int:
    try:
        return max(1, int(str(cell.get(name, "1")).strip() or 1))
    except ValueError:
        return 1


def _grid(rows: list[Tag]) -> list[tuple[list[str | None], int]]:
    """Each row's text per column, with `colspan` and `rowspan` expanded.

    A nomination column often holds one cell spanning all its winners
    (`rowspan="3"`); the rows below it have one cell fewer, so their columns
    would shift left without this.
    """
    pending: dict[int, tuple[int, str | None]] = {}  # column -> (rows left, text)
    out: list[tuple[list[str | None], int]] = []
    for tr in rows:
        cells = tr.find_all(["td", "th"], recursive=False)
        values: list[str | None] = []
        for cell in cells:
            _carry_spans(pending, values)
            text = clean_text(cell.get_text(" "))
            height = _span(cell, "rowspan")
            for _ in range(_span(cell, "colspan")):
                if height > 1:
                    pending[len(values)] = (height - 1, text)
                values.append(text)
        _carry_spans(pending, values)
        out.append((values, len(cells)))
    return out


def _carry_spans(pending: dict[int, tuple[int, str | None]], values: list[str | None]) -> None:
    """Fill the columns that a cell of an earlier row still covers, at the row's current end."""
    while len(values) in pending:
        column = len(values)
        left, text = pending[column]
        values.append(text)
        if left <= 1:
            del pending[column]
        else:
            pending[column] = (left - 1, text)


# --- one table -------------------------------------------------------------------------------


@dataclass
class _Table:
    columns: dict[str, int]
    headers: dict[str, str]
    size: int  # every row of the table, header and title rows included
    rows: list[_Row] = field(default_factory=list)


def _header_roles(cells: list[str | None]) -> tuple[dict[str, int], dict[str, str], list[str]]:
    """Role -> column for one candidate header row; ambiguities are reported, not guessed."""
    found: dict[str, list[int]] = {}
    for i, text in enumerate(cells):
        role = _role(text or "")
        if role is not None and (not found.get(role) or cells[found[role][-1]] != text):
            found.setdefault(role, []).append(i)
    problems = []
    columns: dict[str, int] = {}
    for role, where in found.items():
        if role == "amount" and len(where) > 1:
            # `Запрошено` / `Сумма гранта`: the grant is the one the page awards.
            granted = [i for i in where if "грант" in _header_key(cells[i])
                       or "субсид" in _header_key(cells[i])]
            if len(granted) != 1:
                problems.append(
                    f"more than one amount column: {[cells[i] for i in where]}"
                )
                continue
            where = granted
        columns[role] = where[0]
    headers = {role: cells[i] or "" for role, i in columns.items()}
    return columns, headers, problems


def _read_table(table: Tag, first_number: int) -> tuple[_Table | None, set[str], list[str]]:
    """The winners table's header and rows, or what it lacks to be one.

    Rows are numbered from `first_number` for the table's first row, title rows
    above the header included, so `_row` counts every row a reader sees.
    """
    grid = _grid(_own_rows(table))
    best_missing: set[str] = set(_REQUIRED)
    problems: list[str] = []
    for h, (cells, _) in enumerate(grid[:5]):
        columns, headers, row_problems = _header_roles(cells)
        if not columns:
            continue
        missing = {r for r in _REQUIRED if r not in columns}
        if missing:
            if len(missing) < len(best_missing):
                best_missing, problems = missing, row_problems
            continue
        if row_problems:
            return None, set(), row_problems
        result = _Table(columns, headers, size=len(grid))
        for index, (values, tags) in enumerate(grid[h + 1:], start=h + 1):
            result.rows.append(_Row(first_number + index, values, tags))
        return result, set(), []
    return None, best_missing, problems


def _is_column_numbers(cells: list[str | None]) -> bool:
    """`1 | 2 | 3 | 4 | 5` under the header, as official tables number their columns."""
    texts = [c for c in cells if c]
    return bool(texts) and texts == [str(i) for i in range(1, len(texts) + 1)]


def _is_section(row: _Row, width: int) -> bool:
    """One cell across the table: a nomination heading, not a winner."""
    texts = {c for c in row.cells if c}
    return row.tags == 1 and width > 1 and len(texts) == 1


def _nomination_name(text: str | None) -> str | None:
    """`Номинация «Двор без барьеров»` and `Двор без барьеров` are the same nomination."""
    cleaned = clean_text(text)
    if cleaned is None:
        return None
    return _unquoted(_NOMINATION_PREFIX.sub("", cleaned).strip())


def _unquoted(text: str | None) -> str | None:
    """Quotes around the whole text dropped: one page prints «Театр в подъезде», the
    next Театр в подъезде, and the two must compare equal. Inner quotes stay."""
    if text and len(text) > 1 and text[0] in "«\"" and text[-1] in "»\"" and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    return text or None


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += char == "«"
        depth -= char == "»"
        if depth < 0:
            return False
    return depth == 0


def _amount(text: str | None, scale: Decimal) -> Decimal | None:
    """`1 200 000,00`, `150\\xa0000 руб.`, or `45,5` under a `тыс. руб.` header."""
    cleaned = clean_text(text)
    if cleaned is None or cleaned in _PLACEHOLDERS:
        return None
    # Only a ruble sign or word is dropped: `45 тыс.` in a rubles column is an
    # error for the schema to quarantine, not a unit to guess from.
    number = parse_decimal(_CURRENCY_SUFFIX.sub("", cleaned))
    if number is None:
        return None
    return (number * scale).quantize(Decimal("0.01"))


# --- the page --------------------------------------------------------------------------------


def _heading(soup: BeautifulSoup) -> tuple[str | None, str | None]:
    """The page's news heading and its `<title>`.

    A site's logo is often an `h1` too; the heading is the first `h1` that
    mentions a competition, else the first `h1`.
    """
    title = clean_text(soup.title.get_text(" ")) if soup.title else None
    headings = [clean_text(h.get_text(" ")) for h in soup.find_all("h1")]
    headings = [h for h in headings if h]
    for text in headings:
        if "конкурс" in text.lower():
            return text, title
    return (headings[0] if headings else None), title


def _quoted_name(text: str) -> str | None:
    """The text inside the outermost «…», nested quotes kept: «Город – это мы»."""
    start = text.find("«")
    if start < 0:
        return None
    depth = 0
    for i in range(start, len(text)):
        depth += text[i] == "«"
        depth -= text[i] == "»"
        if depth == 0:
            return clean_text(text[start + 1:i])
    return None


def _competition_and_year(heading: str | None, title: str | None) -> tuple[str | None, int | None]:
    name = None
    year = None
    for text in (heading, title):
        if not text:
            continue
        quoted = _quoted_name(text)
        if name is None:
            name = quoted
        # A year outside the quoted name dates the competition; one inside is part of it.
        outside = text.replace(f"«{quoted}»", " ") if quoted else text
        match = _YEAR.search(outside) or _YEAR.search(text)
        if year is None and match:
            year = int(match.group(1))
    if name is None:
        name = heading or title
    return name, year


@dataclass
class _Page:
    records: list[dict]
    totals: list[dict]


def _read_page(body: bytes, url: str) -> _Page:
    where = url or "municipal winners page"
    soup = html_soup(body, where, "a municipal winners page")
    heading, title = _heading(soup)
    competition, year = _competition_and_year(heading, title)
    municipality = WINNERS_URLS.get(url)

    tables: list[_Table] = []
    missing: set[str] = set(_REQUIRED)
    number = 1
    for table in soup.find_all("table"):
        found, lacks, problems = _read_table(table, number)
        if problems:
            raise ValueError(f"{where}: winners table is ambiguous: {'; '.join(problems)}")
        if found is None:
            if len(lacks) < len(missing):
                missing = lacks
            continue
        tables.append(found)
        number += found.size
    if not tables:
        names = ", ".join(sorted(missing))
        raise ValueError(f"{where}: no winners table: no table has the column(s) {names}")

    page = _Page([], [])
    for table in tables:
        _read_rows(table, page, competition, year, municipality)
    return page


def _read_rows(table: _Table, page: _Page, competition: str | None, year: int | None,
               municipality: str | None) -> None:
    columns = table.columns
    scale = _scale(table.headers["amount"])
    width = max((len(r.cells) for r in table.rows), default=0)
    nomination: str | None = None

    def cell(row: _Row, role: str) -> str | None:
        i = columns.get(role)
        return row.cells[i] if i is not None and i < len(row.cells) else None

    for row in table.rows:
        if not any(row.cells) or _is_column_numbers(row.cells):
            continue
        label = next((c for c in row.cells if c), "")
        # Before the section test: `Итого` often spans every column but the amount.
        if _TOTAL.match(_header_key(label)):
            total: dict[str, Any] = {"label": label, "nomination": nomination, "_row": row.number,
                                     "subtotal": bool(_SUBTOTAL.search(_header_key(label)))}
            set_converted(total, "amount", lambda t: _amount(t, scale), cell(row, "amount"))
            page.totals.append(total)
            continue
        if _is_section(row, width):
            nomination = _nomination_name(label)
            continue
        record: dict[str, Any] = {
            "competition": competition,
            "year": year,
            "municipality": municipality,
            "nomination": (_nomination_name(cell(row, "nomination"))
                           if "nomination" in columns else nomination),
            "organisation_name": clean_text(cell(row, "organisation")),
            "inn": parse_identifier(cell(row, "inn")) if "inn" in columns else None,
            "project_title": _unquoted(clean_text(cell(row, "project"))),
        }
        set_converted(record, "amount", lambda t: _amount(t, scale), cell(row, "amount"))
        record["currency"] = CURRENCY
        record["_row"] = row.number
        page.records.append(record)


def parse_winners(body: bytes, *, url: str = "") -> list[dict]:
    """One record per winner on the page; totals rows and nomination headings are not winners.

    `_row` is the row's position among the rows of the page's winners tables,
    counted from 1 at the first table's first (header) row, as a reader counts them.
    """
    return _read_page(body, url).records


def parse_winners_total(body: bytes, *, url: str = "") -> Decimal | None:
    """The page's grand total (`Итого`), to reconcile the winners with; None if it prints none.

    Subtotals (`Итого по номинации …`) are left out; with several winners tables
    each printing its own total, the totals are added.
    """
    totals = [t for t in _read_page(body, url).totals if not t["subtotal"]]
    if not totals:
        return None
    bad = [t for t in totals if t["amount"] is None]
    if bad:
        where = url or "municipal winners page"
        raise ValueError(f"{where}: row {bad[0]['_row']}: totals row has no readable amount "
                         f"({'; '.join(bad[0].get('_errors', []))})")
    return sum((t["amount"] for t in totals), Decimal(0))
