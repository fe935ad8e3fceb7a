"""Registries of support to socially oriented NGOs (СО НКО): regional and federal.

Every authority that supports an NGO publishes a registry of that support (law
on NGOs, art. 31.2). Two shapes are read here (SOURCES.md §2a, §2b):

- `parse_registry2011`: a regional registry in the 2011 federal template, an
  XLS or XLSX sheet with a title cell, a header block of merged cells over
  several rows, a row of column numbers `1 … 11`, then one record per support
  decision. One file per authority and year.
- `parse_federal`: the federal registry of the Ministry of Economic Development
  (`FEDERAL_URL`), one XLSX, one row per decision about an organisation.

Regional registries have no common host: each region publishes its files on its
own portal, at addresses that move from year to year. The one region configured is
Smolensk: its NGO portal lists the yearly registries on `REGISTRY_PORTAL_URL`
(SOURCES.md §2a), and `find_registry_links` finds them there by link text and
extension, so a new year's file is found without a change here. Offline, `samples/`
holds the real registries 2012–2015 under the portal's host, linked from an index page
of ours at the portal page's address; `tests/fixtures/` holds an invented 2016 registry
(`REGISTRY2011_URLS`, on a host of our own naming under the reserved `.invalid` domain)
linked from a fixture page at the same address.

Both parsers are pure: bytes in, records out (one dict per record from
`parse_registry2011`; columns, a polars DataFrame, from `parse_federal`, whose file
runs to some hundred thousand rows). Headers are matched by
their text, never by position; a value that does not convert is stored as None
with a reason in `_errors`, so the validator quarantines the record instead of
the load guessing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urljoin, urlsplit

import numpy as np
import polars as pl

from scrapers.columns import (
    Twin,
    blank_column,
    convert_column,
    identifier_column,
    text_twin,
)
from scrapers.documents import html_tree
from scrapers.headers import (
    Column,
    column,
    extra_columns,
    extra_value,
    extra_values,
    extras_json,
    find_header_row,
    header_words,
    match_columns,
    require,
)
from scrapers.values import (
    MissingColumnError,
    clean_text,
    parse_date,
    parse_identifier,
    parse_inn_cell,
    parse_money,
    set_converted,
)
from scrapers.workbooks import Sheet, read_sheets

FEDERAL_HOST = "data.economy.gov.ru"
FEDERAL_URL = f"https://{FEDERAL_HOST}/files/sonko_organizations.xlsx"
# The Smolensk region's NGO portal (нко67.рф), section «Реестр СО НКО – получателей поддержки».
REGISTRY_PORTAL_HOST = "www.xn--67-1lclg.xn--p1ai"
REGISTRY_PORTAL_URL = (f"http://{REGISTRY_PORTAL_HOST}/baza-dannyx-o-so-nko/"
                       "reestr-so-nko-poluchatelej-podderzhki/")
# The invented registry of tests/fixtures, linked from the fixture portal page.
REGISTRY2011_HOST = "sonko-registries.socfund.invalid"
REGISTRY2011_URLS = [
    f"https://{REGISTRY2011_HOST}/smolensk/sonko_registry_2016.xlsx",
]
PARSER_VERSION = "sonko/1"


# --- the regional registries' page --------------------------------------------------------

_REGISTRY_EXTENSIONS = (".xls", ".xlsx")
_REGISTRY_WORD = re.compile(r"реестр", re.IGNORECASE)
_LINK_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
WANTED_LINKS = "links to .xls/.xlsx files whose text names «реестр» and a year"


def _link_text(link: Any) -> str:
    text = " ".join(filter(None, (" ".join(link.itertext()), link.get("title"))))
    return clean_text(text) or ""


def _names_a_registry(text: str) -> bool:
    return bool(_REGISTRY_WORD.search(text) and _LINK_YEAR.search(text))


def find_registry_links(body: bytes, url: str) -> list[str]:
    """The yearly registry files a registries page links, as absolute URLs, in page order.

    A link counts when its address ends in `.xls` or `.xlsx` and its text (or title) names
    «реестр» and a year; a link whose own text is bare («скачать») is judged by the text
    of the line it stands in. No such link means the page changed: a ValueError names the
    page and what was looked for.
    """
    doc = html_tree(body, url, "the registries page")
    found: dict[str, None] = {}
    seen = 0
    for link in doc.iter("a"):
        href = (link.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        seen += 1
        target = urljoin(url, href)
        if not urlsplit(target).path.lower().endswith(_REGISTRY_EXTENSIONS):
            continue
        text = _link_text(link)
        parent = link.getparent()
        if not _names_a_registry(text) and parent is not None:
            text = clean_text(" ".join(parent.itertext())) or ""
        if _names_a_registry(text):
            found.setdefault(target)
    if not found:
        raise ValueError(f"{url}: no registry file linked ({WANTED_LINKS}; {seen} links on the "
                         f"page): the page's layout may have changed")
    return list(found)


# --- shared cell helpers ------------------------------------------------------------------

_EXCEL_EPOCH = date(1899, 12, 30)
# Excel day numbers of 01.01.2000 and 31.12.2099: a number in a date column inside this
# range is a date cell whose format was lost; anything else is not a date.
_EXCEL_DAYS = (36526, 73415)


def _sheets(body: bytes, where: str) -> list[tuple[str, list[list[Any]], list]]:
    """(name, rows, merged ranges) per sheet; row i of the list is spreadsheet row i + 1."""
    return [(sheet.name, sheet.rows, sheet.merged) for sheet in read_sheets(body, where)]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _cell(row: list[Any], index: int | None) -> Any:
    if index is None or index >= len(row):
        return None
    value = row[index]
    return None if _blank(value) else value


def _cell_text(value: Any) -> str | None:
    """A cell as one line of text; a whole number stored as a float loses its `.0`."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return clean_text(value)


def _date_cell(value: Any) -> date | None:
    """A date cell, a date cell whose format was lost (an Excel day number), or text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if _EXCEL_DAYS[0] <= value <= _EXCEL_DAYS[1] and float(value).is_integer():
            return _EXCEL_EPOCH + timedelta(days=int(value))
        raise ValueError(f"not a date: {value!r}")
    return parse_date(value)


# --- the 2011 template: header block ------------------------------------------------------

# The template's headers, found by their words (`scrapers.headers`): header texts are
# hyphenated across lines, with and without a space after the hyphen (`идентифика-
# ционный`, `налогопла-тельщика`), sometimes with a soft hyphen, and `(руб.)` is in some
# years' amount header only. A column's header is the text of every header cell above
# its number, top to bottom, so a group header (`Сведения о предоставленной поддержке`)
# is part of its first column's header: the words are chosen not to occur in a group
# header. Labels are the template's wording, for error messages. Activities and
# violations can be left out of a variant of the template without losing what the
# registry is for (who got how much, when); the rest cannot.
REGISTRY2011_COLUMNS: tuple[Column, ...] = (
    column("record_number", "Номер реестровой записи и дата включения сведений в реестр",
           "номер реестров запис"),
    column("decision", "Дата принятия решения об оказании поддержки", "дат решени"),
    column("organisation_name", "наименование постоянно действующего органа некоммерческой "
           "организации", "наименовани"),
    column("address", "почтовый адрес (местонахождение)", "адрес"),
    column("ogrn", "ОГРН", "огрн", "основн государствен регистрацион"),
    column("inn", "идентификационный номер налогоплательщика", "инн",
           "идентификацион налогоплательщик"),
    column("activities", "виды деятельности некоммерческой организации", "вид деятельност",
           required=False),
    column("support_form", "форма поддержки", "форм поддержк"),
    column("amount", "размер поддержки", "размер"),
    column("support_term", "срок оказания поддержки", "срок"),
    column("violations", "Информация о нарушениях", "нарушени", required=False),
)
_RECORD_NUMBER = REGISTRY2011_COLUMNS[0]
_HEADER_SCAN_ROWS = 60
_MIN_NUMBERED_COLUMNS = 5
# `(тыс. руб.)` in the amount header: the amounts are thousands of rubles.
_SCALES = (("млрд", Decimal(1_000_000_000)), ("млн", Decimal(1_000_000)),
           ("тыс", Decimal(1_000)))


def _is_number_row(row: list[Any]) -> bool:
    """The template's row of column numbers: `1 2 3 … 11`, as text or as numbers."""
    values = [v for v in row if not _blank(v)]
    if len(values) < _MIN_NUMBERED_COLUMNS:
        return False
    try:
        numbers = [int(float(str(v).strip().rstrip("."))) for v in values]
    except ValueError:
        return False
    return numbers == list(range(1, len(numbers) + 1))


def _find_block(rows: list[list[Any]]) -> tuple[int, int] | None:
    """(first header row, column-number row), 0-based; the number row is -1 if absent.

    None if the sheet has no header naming the record number. Neither row is at a
    fixed place: titles of different lengths push the block down.
    """
    start = next((i for i, row in enumerate(rows[:_HEADER_SCAN_ROWS])
                  if any(_RECORD_NUMBER.score(header_words(v)) for v in row)), None)
    if start is None:
        return None
    for index in range(start + 1, min(len(rows), start + _HEADER_SCAN_ROWS)):
        if _is_number_row(rows[index]):
            return start, index
    return start, -1


def _column_headers(rows: list[list[Any]], start: int, stop: int) -> list[str]:
    """Each column's header: its header cells' texts from `start` to `stop`, top to bottom."""
    width = max((len(r) for r in rows[start:stop]), default=0)
    return ["\n".join(str(_cell(r, j)) for r in rows[start:stop] if _cell(r, j) is not None)
            for j in range(width)]


def _amount_scale(header: str) -> Decimal:
    words = header_words(header)
    for stem, factor in _SCALES:
        if any(word.startswith(stem) for word in words):
            return factor
    return Decimal(1)


# --- the 2011 template: title -------------------------------------------------------------

# The authority is named only in the title, on a line of its own below the
# registry's name (`Главное управление информационной политики и общественных
# связей Смоленской области` in 2012–2013, `Департамент Смоленской области по
# внутренней политике` from 2014). Such a line starts with the kind of body.
_AUTHORITY_LINE = re.compile(
    r"^(?:главное\s+управление|управление|департамент|министерство|комитет|администрация"
    r"|агентство|аппарат|правительство|мэрия|служба|государственная\s+инспекция)\b",
    re.IGNORECASE,
)
# `… в 2012 году`, `за 2016 год`, `на 2016 г.`: the year the registry is about.
_TITLE_YEAR = re.compile(r"(?:\bв|\bза|\bна)\s+((?:19|20)\d{2})\s*(?:год|г\.|г\b)", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


def _title_text(rows: list[list[Any]], stop: int) -> str:
    cells = [str(v) for row in rows[:stop] for v in row if isinstance(v, str) and v.strip()]
    return "\n".join(cells).replace("\r\n", "\n")


def authority_of(title: str) -> str | None:
    """The authority line of a title (with its continuation lines, up to a blank one)."""
    lines = [line.strip() for line in title.split("\n")]
    for index, line in enumerate(lines):
        if index > 0 and _AUTHORITY_LINE.match(line):
            parts = []
            for following in lines[index:]:
                if not following:
                    break
                parts.append(following)
            return clean_text(" ".join(parts))
    return None


def registry_year_of(title: str, term_years: list[int | None]) -> int | None:
    """The year the registry is about: the title's `в 2012 году`, else the terms' one year.

    The title is the registry's own statement of which year's support it lists,
    so it wins; a title without a year falls back to the support terms
    (`2015 год`) when they all name the same year. Otherwise None, and every
    record is quarantined: record numbers restart each year, so a record of
    unknown year has no key.
    """
    years = {int(y) for y in _TITLE_YEAR.findall(title)}
    if len(years) == 1:
        return years.pop()
    named = {y for y in term_years if y is not None}
    if len(named) == 1:
        return named.pop()
    return None


# --- the 2011 template: records -----------------------------------------------------------

_DATE_IN_TEXT = re.compile(r"(\d{1,2}\.\d{1,2}\.\d{4})")
_NUMBER_MARK = re.compile(r"^№\s*|\s*(?:от)?\s*$", re.IGNORECASE)

# Fields a second physical row of a record may add to: a second address is the real
# case (2012, record 18); text columns are joined the same way. A second value in any
# other column (amount, identifiers, name) would mean two records in one: quarantined.
_JOINABLE = ("address", "activities", "violations", "decision")
# The registry says support was decided but not paid by noting the organisation
# did not sign the agreement: `Организация не заключила договор о предоставлении
# субсидии` (2014, record 27, in the violations column).
_NOT_CARRIED_OUT = re.compile(
    r"не\s+(?:заключил|подписал)\w*\s+(?:договор|соглашени)"
    r"|(?:договор|соглашение)\w*\s+(?:\S+\s+){0,4}?не\s+(?:заключ|подписа)"
    r"|отказал\w*\s+от\s+(?:получения\s+)?(?:субсиди|поддержк)",
    re.IGNORECASE,
)
_REGIONAL = re.compile(
    r"областн|краев|республиканск|окружн|регионал|бюджета?\s+субъект"
    r"|бюджета?\s+(?:[\w-]+\s+){0,3}(?:области|края|республики|автономного\s+округа)"
    r"|бюджета?\s+(?:города\s+)?(?:москвы|санкт-петербурга|севастополя)",
    re.IGNORECASE,
)
_FEDERAL = re.compile(r"федеральн", re.IGNORECASE)
_MUNICIPAL = re.compile(r"местн|муниципальн|районн|городск|поселени", re.IGNORECASE)


def budget_level(form: str | None) -> str | None:
    """`regional` / `federal` / `municipal` from the form of support, None if it names
    no budget or more than one (`из областного и федерального бюджетов`)."""
    if not form:
        return None
    levels = {level for level, pattern in (("federal", _FEDERAL), ("regional", _REGIONAL),
                                           ("municipal", _MUNICIPAL)) if pattern.search(form)}
    return levels.pop() if len(levels) == 1 else None


def term_year(term: str | None) -> int | None:
    """The one year a term names (`2015 год`, `с 01.06.2014 по 31.12.2014`); else None."""
    if not term:
        return None
    years = {int(y) for y in _YEAR.findall(term)}
    return years.pop() if len(years) == 1 else None


def _record_cell(value: Any) -> tuple[str | None, Any, str | None]:
    """(record number, inclusion date text, problem) from the record-number cell.

    The cell holds the number and the inclusion date: `1.`, `6. `, `32.\\n19.05.2015`.
    In the 2015 file the cell repeats both up to three times with no separator
    (`1.\\n19.05.20151.\\n19.05.20151.\\n19.05.2015`): the first copy is taken, and
    copies that disagree with it are a problem (two records run together).
    """
    if isinstance(value, float) and value.is_integer():
        return str(int(value)), None, None
    if isinstance(value, int | float):
        return str(value), None, None
    text = str(value).replace("\u00a0", " ")
    parts = _DATE_IN_TEXT.split(text)
    # parts: number, date, number, date, …, tail
    numbers = [_NUMBER_MARK.sub("", p.strip()).rstrip(". ").strip() for p in parts[0::2]]
    dates = parts[1::2]
    copies = [n for n in numbers if n]
    number = clean_text(copies[0]) if copies else None
    problem = None
    if len(set(copies)) > 1 or len(set(dates)) > 1:
        problem = f"record number cell holds different records: {value!r}"
    return number, (dates[0] if dates else None), problem


def _as_written(value: Any) -> str | None:
    """A cell's text keeping its lines (two protocols stay two lines); spaces collapsed."""
    if value is None or isinstance(value, int | float | date):
        return _cell_text(value)
    lines = (" ".join(line.split()) for line in str(value).replace("\r\n", "\n").split("\n"))
    return "\n".join(line for line in lines if line) or None


def _group_rows(rows: list[list[Any]], first: int, columns: dict[str, int],
                merged: list) -> list[list[int]]:
    """Physical rows of each record: a record's first row, then the rows continuing it.

    A row continues the record above when its record-number cell is merged with the
    record's (2012, record 18: every column but the address merged over two rows).
    Only in a copy with no merged cells below the header (merges lost in a re-save)
    is a row with neither a number nor a name taken as a continuation; where the
    file does merge, such a row is not part of any record and is quarantined rather
    than glued to the record above.
    """
    number_col, name_col = columns["record_number"], columns["organisation_name"]
    data_merges = [((r0, c0), (r1, c1)) for (r0, c0), (r1, c1) in merged if r0 >= first]
    continued = {
        r
        for (r0, c0), (r1, c1) in data_merges
        if c0 <= number_col <= c1
        for r in range(r0 + 1, r1 + 1)
    }
    groups: list[list[int]] = []
    for index in range(first, len(rows)):
        row = rows[index]
        if all(_blank(v) for v in row):
            continue
        orphan = (not data_merges and _cell(row, number_col) is None
                  and _cell(row, name_col) is None)
        if groups and (index in continued or orphan):
            groups[-1].append(index)
        else:
            groups.append([index])
    return groups


def parse_registry2011(body: bytes, *, url: str = "") -> list[dict]:
    """One record per registry entry of a regional registry in the 2011 template.

    The header block is found by its text on the first sheet that has one; data
    starts below the row of column numbers. `_row` is the spreadsheet row of the
    record's first physical row. A required column that is missing raises
    MissingColumnError naming the column and the file.
    """
    where = url or "СО НКО registry (2011 template)"
    found = next(
        ((name, rows, merged, block) for name, rows, merged in _sheets(body, where)
         if (block := _find_block(rows)) is not None),
        None,
    )
    if found is None:
        raise MissingColumnError(_RECORD_NUMBER.label, where,
                                 f"no header block in the first {_HEADER_SCAN_ROWS} rows "
                                 "of any sheet")
    name, rows, merged, (start, number_row) = found
    if number_row < 0:
        raise ValueError(f"{where}: sheet {name!r}: no row of column numbers (1 2 3 …) "
                         f"below the header block at row {start + 1}")
    headers = _column_headers(rows, start, number_row)
    columns = match_columns(headers, REGISTRY2011_COLUMNS)
    require(columns, REGISTRY2011_COLUMNS, headers, where,
            f"sheet {name!r}, header rows {start + 1}–{number_row}")
    scale = _amount_scale(headers[columns["amount"]])
    extras = extra_columns(headers, columns)
    title = _title_text(rows, start)
    authority = authority_of(title)

    records = [
        _registry_record(rows, group, columns, scale, authority, extras)
        for group in _group_rows(rows, number_row + 1, columns, merged)
    ]
    year = registry_year_of(title, [r["term_year"] for r in records])
    for record in records:
        record["registry_year"] = year
    return records


def _registry_record(rows: list[list[Any]], group: list[int], columns: dict[str, int],
                     scale: Decimal, authority: str | None, extras: dict[int, str]) -> dict:
    first = rows[group[0]]

    def cell(field: str) -> Any:
        return _cell(first, columns.get(field))

    record: dict[str, Any] = {}
    extra = _continuation_values(rows, group, columns, record)

    number, included, problem = (None, None, None)
    if cell("record_number") is not None:
        number, included, problem = _record_cell(cell("record_number"))
    record["record_number"] = number
    if problem:
        record.setdefault("_errors", []).append(f"record_number: {problem}")
    set_converted(record, "included_on", parse_date, included)

    # The decision cell holds a date and the protocol text, sometimes two protocols
    # (`17.02.2012- протокол заседания конкурсной комиссии №1`): the text is kept as
    # written and the first date is the decision's.
    decisions = [_as_written(cell("decision")), *extra.get("decision", [])]
    record["decision_text"] = "\n".join(t for t in decisions if t) or None
    if isinstance(cell("decision"), date):
        set_converted(record, "decision_date", parse_date, cell("decision"))
    else:
        found = _DATE_IN_TEXT.search(record["decision_text"] or "")
        set_converted(record, "decision_date", parse_date, found.group(1) if found else None)

    record["organisation_name"] = _cell_text(cell("organisation_name"))
    addresses = [_cell_text(cell("address")), *extra.get("address", [])]
    record["address"] = "; ".join(a for a in addresses if a) or None
    # ОГРН and ИНН come as text, as numbers (`1026700000810.0`) or with a trailing space.
    record["ogrn"] = parse_identifier(cell("ogrn"))
    record["inn"] = parse_inn_cell(cell("inn"), record["ogrn"])
    activities = [_cell_text(cell("activities")), *extra.get("activities", [])]
    record["activities"] = "; ".join(a for a in activities if a) or None
    record["support_form"] = _cell_text(cell("support_form"))
    record["budget_level"] = budget_level(record["support_form"])
    # Amounts are text with spaces or no-break spaces (`1\xa0500 000`, 2012), floats
    # (2013) or integers (2014–2015); a `тыс. руб.` header scales them.
    set_converted(record, "amount", parse_money, cell("amount"))
    if record["amount"] is not None and scale != 1:
        record["amount"] = (record["amount"] * scale).quantize(Decimal("0.01"))
    # A few 2012 records leave the term empty: None, the record stays valid.
    record["support_term"] = _cell_text(cell("support_term"))
    record["term_year"] = term_year(record["support_term"])
    violations = [_cell_text(cell("violations")), *extra.get("violations", [])]
    record["violations"] = "; ".join(v for v in violations if v) or None
    notes = " ".join(
        t for t in (record["violations"], record["decision_text"], record["support_term"]) if t
    )
    record["not_carried_out"] = bool(_NOT_CARRIED_OUT.search(notes))
    record["authority"] = authority
    record["registry_year"] = None
    record["extra_columns"] = extra_values(first, extras)
    record["_row"] = group[0] + 1
    return record


def _continuation_values(rows: list[list[Any]], group: list[int], columns: dict[str, int],
                         record: dict) -> dict[str, list[str]]:
    """Values the continuation rows add: text for joinable fields, an error for others."""
    extra: dict[str, list[str]] = {}
    for index in group[1:]:
        for field, position in columns.items():
            value = _cell(rows[index], position)
            if value is None:
                continue
            if field in _JOINABLE:
                text = _as_written(value) if field == "decision" else _cell_text(value)
                if text:
                    extra.setdefault(field, []).append(text)
            else:
                record.setdefault("_errors", []).append(
                    f"{field}: row {index + 1} continues the record but holds a second "
                    f"value {value!r}"
                )
    return extra


# --- the federal registry -----------------------------------------------------------------

# The 13 headers of the published file (SOURCES.md §2b), labelled as it writes them and
# found by their distinctive words (`scrapers.headers`), so our first copy's shorter
# spellings (`Наименование органа власти`, `Дата принятия решения`) match as well. Every
# column is required: one that disappears means the layout changed, which must stop the
# load rather than load a column of nulls.
FEDERAL_COLUMNS: tuple[Column, ...] = (
    column("inn", "ИНН организации", "инн"),
    column("full_name", "Наименование организации (полное)", "наименовани полн",
           "полн наименовани"),
    column("short_name", "Наименование организации (сокращенное)", "наименовани сокращ",
           "сокращ наименовани"),
    column("address", "Адрес регистрации", "адрес"),
    column("ogrn", "ОГРН", "огрн"),
    column("legal_form", "Организационно-правовая форма", "организационно-правов",
           "правов форм"),
    column("okved", "Основной ОКВЭД", "оквэд"),
    column("sonko_status", "Статус СОНКО", "статус сонко"),
    column("nko_status", "Статус некоммерческой организации (добавлено 1 января 2022 г.)",
           "статус некоммерческ", "статус нко"),
    column("inclusion_criterion",
           "Критерий включения организации в реестр (добавлено 1 января 2022 г.)", "критери"),
    column("authority", "Наименование органа власти, предоставившего поддержку/включившего "
           "в реестр поставщиков социальных услуг", "орган власт"),
    column("decision_date", "Дата принятия решения об оказании поддержки / включения в "
           "реестр поставщиков социальных услуг", "дат решени"),
    column("included_on", "Дата включения в реестр", "дат включен", unless="решени"),
)
_FEDERAL_MIN_MATCHES = 3
# `Реестр СОНКО по состоянию на 24.02.2026`: the date the registry was taken on.
_SNAPSHOT_DATE = re.compile(r"по\s+состоянию\s+на\s+(\d{1,2}\.\d{1,2}\.\d{4})", re.IGNORECASE)


def snapshot_date_of(rows: list[list[Any]]) -> date | None:
    """The date the title above the header states (`… по состоянию на 24.02.2026`), else None."""
    for row in rows:
        for value in row:
            if isinstance(value, str) and (found := _SNAPSHOT_DATE.search(value)):
                try:
                    return parse_date(found.group(1))
                except ValueError:
                    return None
    return None


def parse_federal(body: bytes, *, url: str = "") -> pl.DataFrame:
    """One row per row of the federal registry (one row per decision), as columns.

    The live file (sheet `Worksheet`) has a title with the registry's date in row 1,
    the headers in row 2, then rows empty but for single spaces before the data; the
    header row is found by its words, the title's date is every row's
    `snapshot_date`, and a row whose cells are all empty or spaces is skipped. `_row`
    is the row number the spreadsheet shows. One ИНН may have several rows: all are
    kept. Columns the registry adds are kept per row in `extra_columns` (JSON).

    The file has some hundred thousand rows, so it is converted column by column:
    each distinct cell value of a column is converted once, by the same helpers as a
    single record would be, and the results are laid out by the column's row codes.
    A value that does not convert leaves the field null and its reason in `_errors`.
    """
    where = url or "federal СО НКО registry"
    sheets = read_sheets(body, where)
    best: tuple[Sheet, list[list[Any]], int, dict[str, int]] | None = None
    for sheet in sheets:
        head = sheet.head(_HEADER_SCAN_ROWS)
        found = find_header_row(head, FEDERAL_COLUMNS, scan=_HEADER_SCAN_ROWS,
                                at_least=_FEDERAL_MIN_MATCHES)
        if found is not None:
            best = (sheet, head, *found)
            break
    # Every sheet is read before any is parsed: an unreadable sheet stops the load even
    # when an earlier sheet holds the registry, as it always has.
    for sheet in sheets:
        sheet.head(0)
    if best is None:
        raise MissingColumnError(
            FEDERAL_COLUMNS[0].label, where,
            f"no header row in the first {_HEADER_SCAN_ROWS} rows of any sheet",
        )
    sheet, head, header, columns = best
    require(columns, FEDERAL_COLUMNS, head[header], where,
            f"sheet {sheet.name!r}, header row {header + 1}")
    extras = extra_columns(head[header], columns)
    snapshot = snapshot_date_of(head[:header])
    return _federal_frame(_Columns(sheet, header + 1), columns, extras, snapshot)


_FEDERAL_TEXT = ("full_name", "short_name", "address", "legal_form", "okved", "sonko_status",
                 "nko_status", "inclusion_criterion", "authority")
_FEDERAL_DATES = ("decision_date", "included_on")
# The order of a record's fields, as the quarantine shows them.
_FEDERAL_ORDER = ("inn", "full_name", "short_name", "address", "ogrn", *_FEDERAL_TEXT[3:],
                  *_FEDERAL_DATES, "snapshot_date", "extra_columns", "_row")


class _Columns:
    """A sheet's columns from one row down, each value converted once per distinct value."""

    def __init__(self, sheet: Sheet, first: int) -> None:
        self.sheet = sheet
        self.first = first
        self.height = max(sheet.height - first, 0)
        self._read: dict[int, tuple[list[Any], pl.Series, pl.Series]] = {}

    def codes(self, j: int) -> tuple[list[Any], pl.Series]:
        distinct, codes, _ = self._column(j)
        return distinct, codes

    def _column(self, j: int) -> tuple[list[Any], pl.Series, pl.Series]:
        """(distinct values, each row's code, the distinct values that are text as a String
        column, null for the others); read once per column."""
        if j not in self._read:
            distinct, codes = self.sheet.column_codes(j)
            texts = self.sheet.column_texts(j)
            self._read[j] = (distinct, pl.Series(np.frombuffer(codes, dtype=np.uint32)
                                                 [self.first:]), texts)
        return self._read[j]

    def convert(self, j: int, convert: Callable[[Any], Any], dtype: pl.DataType,
                texts: Twin | None = None) -> pl.Series:
        """`convert(cell)` for every cell of column j; a blank cell is given as None.

        `texts`, when given, is `convert`'s column-wise twin over the text cells: it returns
        its values and where it decided them, and `convert` does the rest. A twin decides
        a blank text as `convert(None)` would, so the blanks need no pass of their own.
        """
        distinct, codes, strings = self._column(j)
        if texts is None:
            cells = [None if _blank(v) else v for v in distinct]
            return convert_column(cells, convert, dtype).gather(codes)
        return convert_column(distinct, convert, dtype, texts, strings).gather(codes)

    def blank(self) -> pl.Series:
        """True for a row whose every cell is empty or spaces."""
        out = pl.Series([True] * self.height, dtype=pl.Boolean)
        for j in range(self.sheet.width):
            distinct, codes, strings = self._column(j)
            nones = pl.Series([v is None for v in distinct], dtype=pl.Boolean)
            out = out & (blank_column(strings) & (strings.is_not_null() | nones)).gather(codes)
        return out

    def cells(self, j: int, rows: pl.Series | None = None) -> list[Any]:
        """Column j's cells as calamine gave them, every row's or those of `rows` (for the
        few rows that need a record's view)."""
        distinct, codes = self.codes(j)
        if rows is not None:
            codes = codes.gather(rows)
        return [distinct[c] for c in codes.to_list()]


def _converted(convert: Callable[[Any], Any]) -> Callable[[Any], dict[str, Any]]:
    """`convert` giving {value, error}: the error is the reason where it raises ValueError."""
    def attempt(value: Any) -> dict[str, Any]:
        try:
            return {"value": convert(value), "error": None}
        except ValueError as exc:
            return {"value": None, "error": str(exc)}
    return attempt


def _federal_frame(cells: _Columns, columns: dict[str, int], extras: dict[int, str],
                   snapshot: date | None) -> pl.DataFrame:
    out: dict[str, pl.Series] = {}
    ogrn = cells.convert(columns["ogrn"], parse_identifier, pl.String, identifier_column)
    out["inn"] = _federal_inn(cells, columns["inn"], ogrn)
    out["ogrn"] = ogrn
    for field in _FEDERAL_TEXT:
        # ОКВЭД is a code with dots (`88.99`): read as written, never as a number.
        out[field] = cells.convert(columns[field], _cell_text, pl.String, text_twin)
    # Dates come as date cells, as text `dd.mm.yyyy`, or as day numbers that lost
    # their format.
    errors = []
    for field in _FEDERAL_DATES:
        pairs = cells.convert(columns[field], _converted(_date_cell),
                              pl.Struct({"value": pl.Date, "error": pl.String}))
        out[field] = pairs.struct.field("value").alias(field)
        errors.append(pl.when(pairs.struct.field("error").is_not_null())
                      .then(pl.lit(f"{field}: ") + pairs.struct.field("error")))
    out["snapshot_date"] = pl.Series([snapshot] * cells.height, dtype=pl.Date)
    out["extra_columns"] = _extras(cells, extras)
    out["_row"] = pl.Series(range(cells.first + 1, cells.first + 1 + cells.height),
                            dtype=pl.Int64)
    frame = pl.DataFrame([out[name].alias(name) for name in _FEDERAL_ORDER])
    frame = frame.with_columns(pl.concat_list(errors).list.drop_nulls().alias("_errors"))
    return frame.filter(~cells.blank())


def _federal_inn(cells: _Columns, j: int, ogrn: pl.Series) -> pl.Series:
    """ИНН as `parse_inn_cell` reads it; only a number cell of 9 or 11 digits needs its row's
    ОГРН to tell whether a leading zero was lost, so only those rows are read one by one."""
    def read(value: Any) -> dict[str, Any]:
        text = parse_identifier(value)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return {"text": text,
                "number": bool(number and text and len(text) in (9, 11) and text.isdigit())}

    def texts(strings: pl.Series) -> tuple[pl.Series, pl.Series]:
        text, decided = identifier_column(strings)
        number = pl.Series([False] * len(strings), dtype=pl.Boolean)
        return pl.DataFrame({"text": text, "number": number}).to_struct(), decided

    pairs = cells.convert(j, read, pl.Struct({"text": pl.String, "number": pl.Boolean}), texts)
    inn = pairs.struct.field("text").alias("inn")
    rows = pairs.struct.field("number").arg_true()
    if rows.len():
        inn = inn.scatter(rows, [parse_inn_cell(value, number) for value, number in zip(
            cells.cells(j, rows), ogrn.gather(rows).to_list(), strict=True)])
    return inn


def _extras(cells: _Columns, extras: dict[int, str]) -> pl.Series:
    """Each row's cells in the extra columns as JSON text, as `extra_values` writes them."""
    if not extras:
        return pl.Series([None] * cells.height, dtype=pl.String)
    values = {name: [extra_value(v) for v in cells.cells(j)] for j, name in extras.items()}
    texts = []
    for i in range(cells.height):
        found = {name: column[i] for name, column in values.items()
                 if column[i] is not None and column[i] != ""}
        texts.append(extras_json(found))
    return pl.Series(texts, dtype=pl.String)
