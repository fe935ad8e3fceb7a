"""Presidential grants through operators, 2007–2012: the winners' lists and the allocations.

Before the Presidential Grants Fund (2017) the presidential grants to non-profits went
through a few operators named in the President's yearly decrees, each publishing its own
list of winners (SOURCES.md §1d). The lists were collected in 2014 by the public `ngodata`
project (GitHub `ivbeg/ngodata`, `data/grants/russia/`), from which socfund takes them as
they are: ten CSV files, a workbook of «Сопротивление»'s lists 2009–2012, and a workbook
of the programme's yearly budget with each operator's allocation 2009–2013.

Which file is which operator and year is known from its name alone (`FILES`), so a
document's URL ending in that name is enough. Two parse kinds:

- `parse_winners`: one record per listed grant, from any list file (CSV or workbook);
- `parse_allocations`: one record per operator and year the allocation workbook gives.

Every defect of the files is handled here, each with a test built from the real file:
region heading rows and repeated header rows (НБФ 2007/2008), the application number
inside the project text (`… № заявки: 17`), HTML entities (`&#8220;`), tabs and runs of
spaces inside cells, amounts written every way (read by the one money reader in the
operators' convention, `schemas.money.OPERATOR_LISTS`), an organisation followed by its
region and city (ИНОП), a city, region and federal district in one cell (ИНПГО),
application numbers like `02-03` and a trailing dot after an ИНН (Госклуб), sheets with
their own headers and column order (found by the headers' words), numbers and text in one
amount column, no-break spaces, and rows that only continue the row above (the workbook's
2009 and 2011 sheets). The workbook's `сводка` is read only to check the lists' lengths
(`stated_winners`) and its `справка` never: it names people.

A value that does not parse is stored as None with the reason in `_errors`, so the
validator quarantines the record instead of the load guessing.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urlsplit

from schemas.money import OPERATOR_LISTS, MoneyError, checked_money, read_money
from schemas.vocabularies.operators import OPERATORS, operator_key
from scrapers.headers import (
    Column,
    column,
    find_header_row,
    header_text,
    header_words,
    require,
)
from scrapers.values import clean_text, parse_identifier
from scrapers.workbooks import Sheet, read_sheets

HOST = "raw.githubusercontent.com"
# The `ngodata` commit holding the files as collected: a stable address for each document.
_COMMIT = "5e162fb0dad2e1d40cfbedfb1181873abe86a8b9"
BASE_URL = f"https://{HOST}/ivbeg/ngodata/{_COMMIT}/data/grants/russia"
PARSER_VERSION = "operators-1"


@dataclass(frozen=True)
class ListFile:
    """One file of the source: its name, operator, year (None: a sheet per year), layout."""

    name: str
    operator: str  # key in schemas.vocabularies.operators.OPERATORS
    year: int | None
    layout: str
    folder: str = "old/"  # the CSV lists sit in `old/` of the collection

    @property
    def url(self) -> str:
        return f"{BASE_URL}/{self.folder}{self.name}"


# The one table of which file is which: operator and year by file name.
FILES: tuple[ListFile, ...] = (
    ListFile("nbfond_2007.csv", "nbfond", 2007, "nbfond_regions"),
    ListFile("nbfond_2008.csv", "nbfond", 2008, "nbfond_regions"),
    ListFile("nbfond_2009.csv", "nbfond", 2009, "nbfond_2009"),
    ListFile("znanie_2007.csv", "znanie", 2007, "znanie_2007"),
    ListFile("znanie_2008.csv", "znanie", 2008, "znanie_2008"),
    ListFile("inop_2007.csv", "inop", 2007, "inop"),
    ListFile("inop_2008.csv", "inop", 2008, "inop"),
    ListFile("inpgo_2009.csv", "inpgo", 2009, "inpgo"),
    ListFile("gosclub_2009.csv", "gosclub", 2009, "gosclub"),
    ListFile("soprotivlenie_2009.csv", "soprotivlenie", 2009, "soprotivlenie"),
    ListFile("grants_soprotivlenie.xlsx", "soprotivlenie", None, "workbook", folder=""),
)
ALLOCATIONS = ListFile("grants_2009_2013.xlsx", "", None, "allocations", folder="")
LIST_URLS: tuple[str, ...] = tuple(f.url for f in FILES)
ALLOCATIONS_URL = ALLOCATIONS.url
_BY_NAME = {f.name: f for f in (*FILES, ALLOCATIONS)}

# The fields of each CSV layout by position (the files have no header); None: not read.
_CSV_LAYOUTS: dict[str, tuple[str | None, ...]] = {
    "nbfond_regions": (None, "organisation_name", "title", "amount"),
    "nbfond_2009": ("row_number", "application_number", "organisation_name", "title", "region",
                    "amount"),
    "znanie_2007": ("application_number", "organisation_name", "region", "title", "amount"),
    "znanie_2008": ("row_number", "application_number", "organisation_name", "territory",
                    "title", "amount"),
    "inop": ("row_number", "application_number", "organisation_name", "title", "amount"),
    "inpgo": ("row_number", "application_number", "organisation_name", "place", "title",
              "amount", "territory"),
    "gosclub": ("row_number", "application_number", "organisation_name", "inn", "title",
                "amount", None),
    "soprotivlenie": ("row_number", "application_number", "organisation_name", "title", "place",
                      "amount"),
}
# Each year's sheet of the workbook has its own header texts and column order (2012: the
# amount before the city); the columns are found by the headers' words. The row-number
# column is headed `№` alone, which has no word: `_row_number_column` finds it.
_SHEET_COLUMNS = (
    column("application_number", "№ заявки", "заявк", required=False),
    column("organisation_name", "Наименование НКО", "нко", "организац"),
    column("title", "Название проекта", "проект"),
    column("place", "Регион / Субъект / Город", "регион", "субъект", "город"),
    column("amount", "Сумма гранта", "сумм", "выделяем"),
)
_YEAR_SHEET = re.compile(r"^\s*(20\d\d)\s*$")
_SUMMARY_SHEET = "сводка"
_WINNERS_ROW = ("всего", "победител")

_APPLICATION_IN_TITLE = re.compile(r"\s*№\s*заявки\s*:?\s*(\d+)\s*\.?\s*$", re.IGNORECASE)
_ROW_NUMBER = re.compile(r"^(\d+)\.?$")
_APPLICATION_NUMBER = re.compile(r"^\d+(?:-\d+)?$")
_INN = re.compile(r"^(\d{10}|\d{12})\.$")
# `…"ВОЗРОЖДЕНИЕ"", Псковская область, г.Псков`: a region and a city after the name (ИНОП).
_NAME_REGION_CITY = re.compile(
    r"\s*,\s*(?:(?P<region>[^,\"«»“”]+?)\s*,\s*)?(?P<city>г\.\s*[^,\"«»“”]+)$")
_DISTRICT = re.compile(r"[\s,]*\b(ЦФО|СЗФО|ЮФО|СКФО|ПФО|УФО|СФО|ДФО)\s*$")
_SETTLEMENT = re.compile(r"^\.?\s*(г|гг|с|п|пос|д|деревня|село|пгт|ст)\b\.?", re.IGNORECASE)
_REGION_WORDS = re.compile(
    r"(област|край|Республик|автономн|округ|\bАО\b)", re.IGNORECASE)
_REGION_TAIL = re.compile(
    r"\s(?=(?:Республика\s.+|\S+\s+(?:область|области|край|автономный\s+округ.*))$)")
_PLACE_PARTS = re.compile(r"\s{2,}|\s*,\s*")


def list_file(url: str) -> ListFile:
    """The file a document's URL (or a path) names; ValueError for a name we do not know."""
    name = unquote(urlsplit(url).path).rsplit("/", 1)[-1]
    found = _BY_NAME.get(name)
    if found is None:
        known = ", ".join(sorted(_BY_NAME))
        raise ValueError(f"{url or 'document'}: not a file of the operators' lists; "
                         f"its name must be one of {known}")
    return found


# --- winners ---------------------------------------------------------------------------------


def parse_winners(body: bytes, *, url: str = "") -> list[dict]:
    """One record per listed grant of the list file `url` names; `_row` is its line or row."""
    source = list_file(url)
    where = url or source.name
    if source.layout == "allocations":
        raise ValueError(f"{where}: the allocations workbook holds no winners' list")
    if source.layout == "workbook":
        return _workbook_winners(body, source, where)
    return _csv_winners(body, source, where)


def _csv_winners(body: bytes, source: ListFile, where: str) -> list[dict]:
    layout = _CSV_LAYOUTS[source.layout]
    records: list[dict] = []
    heading: str | None = None
    for number, fields in enumerate(_csv_records(body, where), start=1):
        if not any(f.strip() for f in fields):
            continue
        if source.layout == "nbfond_regions":
            kind = _nbfond_row_kind(fields)
            if kind == "heading":
                heading = _text(fields[0])
                continue
            if kind == "header":
                continue
        raw = {name: (fields[i] if i < len(fields) else None)
               for i, name in enumerate(layout) if name is not None}
        record = _winner(source, source.year, raw, number)
        if len(fields) != len(layout):
            _error(record, f"record: expected {len(layout)} fields, got {len(fields)}")
        if source.layout == "nbfond_regions":
            record["region"] = heading
        records.append(record)
    return records


def _csv_records(body: bytes, where: str) -> list[list[str]]:
    """Every record of a header-less UTF-8 CSV file; quoted fields keep their line breaks."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{where}: not UTF-8 text: {exc}") from exc
    if not text.strip():
        raise ValueError(f"{where}: empty file, no records")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return list(reader)
    except csv.Error as exc:
        raise ValueError(f"{where}: line {reader.line_num}: not a CSV record: {exc}") from exc


def _nbfond_row_kind(fields: list[str]) -> str:
    """`heading` (`Республика Адыгея,,`), `header` (`,Организация,Проект,"Сумма, руб."`), `data`."""
    if fields[0].strip() and not any(f.strip() for f in fields[1:]):
        return "heading"
    words = [header_words(f) for f in fields[1:]]
    if words and words[0][:1] == ("организация",) and any(("сумма",) == w[:1] for w in words):
        return "header"
    return "data"


def _workbook_winners(body: bytes, source: ListFile, where: str) -> list[dict]:
    records: list[dict] = []
    for sheet in read_sheets(body, where, "XLSX"):
        match = _YEAR_SHEET.match(sheet.name)
        if not match:
            continue  # `сводка` is a check (stated_winners); `справка` names people
        records.extend(_sheet_winners(sheet, source, int(match.group(1)), where))
    return records


def _sheet_winners(sheet: Sheet, source: ListFile, year: int, where: str) -> list[dict]:
    rows = sheet.rows
    header_index, position = _header(sheet, _SHEET_COLUMNS, where, at_least=3)
    number_at = _row_number_column(rows[header_index], position)
    records: list[dict] = []
    for index in range(header_index + 1, len(rows)):
        row = rows[index]
        if not any(_filled(cell) for cell in row):
            continue
        raw: dict[str, Any] = {f: _cell(row, i) for f, i in position.items()}
        raw["row_number"] = _cell(row, number_at) if number_at is not None else None
        if records and _continues(raw):
            _continue_record(records[-1], raw, index + 1)
            continue
        records.append(_winner(source, year, raw, index + 1, sheet=sheet.name))
    return records


def _header(sheet: Sheet, columns: Sequence[Column], where: str, *,
            at_least: int) -> tuple[int, dict[str, int]]:
    """(0-based row, field -> column) of the sheet's header; a missing column stops the load."""
    rows = sheet.rows
    found = find_header_row(rows, columns, scan=10, at_least=at_least)
    index, position = found if found else (0, {})
    header = rows[index] if rows else []
    require(position, columns, header, where, f"sheet {sheet.name!r}, row {index + 1}")
    return index, position


def _row_number_column(header: Sequence[Any], taken: dict[str, int]) -> int | None:
    for index, cell in enumerate(header):
        text = header_text(cell).replace(" ", "")
        if index not in taken.values() and text and set(text) == {"№"}:
            return index
    return None


def _cell(row: Sequence[Any], index: int) -> Any:
    return row[index] if index < len(row) else None


def _filled(cell: Any) -> bool:
    return cell is not None and (not isinstance(cell, str) or bool(clean_text(cell)))


def _continues(raw: dict[str, Any]) -> bool:
    """A row with text but no number, application, place or amount continues the row above.

    The workbook wraps long names and projects onto a second row: the 2011 sheet merges
    the other cells over both rows, the 2009 sheet leaves them empty (its `«Региональный
    центр по соблюдению прав потребителей»` is the end of the name above, as the CSV copy
    of the same list shows).
    """
    return not any(_filled(raw.get(f)) for f in
                   ("row_number", "application_number", "place", "amount"))


def _continue_record(record: dict, raw: dict[str, Any], row: int) -> None:
    for field in ("organisation_name", "title"):
        extra = _text(raw.get(field))
        if extra:
            record[field] = f"{record[field]} {extra}" if record.get(field) else extra
    joined = record.get("continued_rows")
    record["continued_rows"] = f"{joined},{row}" if joined else str(row)
    record.pop("_title_raw", None)


def _winner(source: ListFile, year: int | None, raw: dict[str, Any], number: int, *,
            sheet: str | None = None) -> dict:
    operator = OPERATORS[source.operator]
    record: dict[str, Any] = {
        "_row": number,
        "record_key": f"{source.name}:{sheet}:{number}" if sheet else f"{source.name}:{number}",
        "operator": operator.name,
        "operator_key": operator.key,
        "year": year,
        "copy": source.name,
        "sheet": sheet,
        "region": None,
        "city": None,
        "federal_district": None,
        "place": None,
        "territory": _text(raw.get("territory")),
        "inn": None,
        "continued_rows": None,
    }
    _set_row_number(record, raw.get("row_number"))
    record["application_number"] = None
    _set_application_number(record, raw.get("application_number"))
    record["organisation_name"] = _text(raw.get("organisation_name"))
    _set_title(record, raw.get("title"))
    if source.layout == "inop":
        _split_name_region_city(record)
    if "region" in raw:
        record["region"] = _text(raw["region"])
    if "place" in raw:
        _set_place(record, raw["place"], source.layout == "inpgo")
    if "inn" in raw:
        _set_inn(record, raw["inn"])
    _set_amount(record, raw.get("amount"))
    application = record["application_number"]
    record["grant_key"] = (f"{operator.key}:{year}:{application}"
                           if application and year else None)
    return record


# Word's conditional markup for a pasted picture, left in some cells of znanie_2008 and
# gosclub_2009 without its `<!--` (`[if gte vml 1]><v:shape …</v:shape><![endif]`); it
# holds a path on the compiler's computer with a person's name, so it is cut out whole.
_WORD_MARKUP = re.compile(r"\[if [^\]]*\]>?.*?<!\[endif\]|\[if [^\]]*\]\[endif\]", re.DOTALL)
# Box-drawing characters left around cells by a text-mode table (`═`).
_BOX_DRAWING = re.compile(r"[\u2500-\u257f]+")


def _text(value: Any) -> str | None:
    """A name, project or place: HTML entities decoded, Word's picture markup and
    box-drawing characters removed, tabs and runs of spaces made one."""
    if value is None or isinstance(value, float | int):
        return None if value is None else clean_text(value)
    return clean_text(_BOX_DRAWING.sub(" ", _WORD_MARKUP.sub(" ", html.unescape(value))))


def _error(record: dict, message: str) -> None:
    record.setdefault("_errors", []).append(message)


def _set_row_number(record: dict, value: Any) -> None:
    record["row_number"] = None
    if isinstance(value, float) and value.is_integer():
        record["row_number"] = int(value)
        return
    text = clean_text(value) if isinstance(value, str) else None
    if text is None:
        if value not in (None, "") and not isinstance(value, str):
            _error(record, f"row_number: not a row number: {value!r}")
        return
    match = _ROW_NUMBER.match(text)
    if match:
        record["row_number"] = int(match.group(1))
    else:
        _error(record, f"row_number: not a row number: {value!r}")


def _set_application_number(record: dict, value: Any) -> None:
    """`17`, `02-03` (Госклуб), or a spreadsheet's 7.0; anything else is quarantined."""
    if value is None or (isinstance(value, str) and not clean_text(value)):
        return
    text = parse_identifier(value) if isinstance(value, float | int) else clean_text(value)
    if text and _APPLICATION_NUMBER.match(text):
        record["application_number"] = text
    else:
        _error(record, f"application_number: not an application number: {value!r}")


def _set_title(record: dict, value: Any) -> None:
    """The project, with `№ заявки: 17` at its end taken out as the application number."""
    title = _text(value)
    if title:
        match = _APPLICATION_IN_TITLE.search(title)
        if match:
            title = title[: match.start()].strip() or None
            found = match.group(1)
            if record["application_number"] not in (None, found):
                _error(record, f"application_number: {record['application_number']!r} in its "
                               f"column, {found!r} in the project text")
            record["application_number"] = found
    record["title"] = title


def _split_name_region_city(record: dict) -> None:
    """ИНОП: `АНО "Центр …", Республика Карелия, г.Петрозаводск` -> name, region, city."""
    name = record["organisation_name"]
    match = _NAME_REGION_CITY.search(name) if name else None
    if not match or not match.string[: match.start()].strip():
        return
    record["organisation_name"] = name[: match.start()].strip()
    record["region"] = match.group("region")
    record["city"] = match.group("city")


def _set_place(record: dict, value: Any, with_district: bool) -> None:
    """A place cell: a settlement (`г. Тула`) is the city, anything else the region.

    ИНПГО writes city, region and federal district in one cell, parted by runs of
    spaces or commas (`г.Курск             Курская область              ЦФО`); the
    district is the last word, the parts naming a region the region, the rest the city.
    """
    text = _text(value)
    record["place"] = text
    if text is None:
        return
    if not with_district:
        key = "city" if _SETTLEMENT.match(text) else "region"
        record[key] = text
        return
    raw = html.unescape(value) if isinstance(value, str) else str(value)
    raw = raw.replace("\u00a0", " ").strip()
    district = _DISTRICT.search(raw)
    if district:
        record["federal_district"] = district.group(1)
        raw = raw[: district.start()]
    parts = [p for p in _PLACE_PARTS.split(raw) if p.strip()]
    if len(parts) == 1:
        split = _REGION_TAIL.split(parts[0], maxsplit=1)
        parts = split if len(split) == 2 and _SETTLEMENT.match(split[0]) else parts
    regions = [p for p in parts if _REGION_WORDS.search(p) and not _SETTLEMENT.match(p)]
    others = [p for p in parts if p not in regions]
    record["region"] = clean_text(", ".join(regions)) if regions else None
    record["city"] = clean_text(", ".join(others)) if others else None


def _set_inn(record: dict, value: Any) -> None:
    """Госклуб's ИНН column; one is followed by a stray dot (`0606001468.`)."""
    text = clean_text(value) if isinstance(value, str) else parse_identifier(value)
    if text:
        match = _INN.match(text)
        text = match.group(1) if match else parse_identifier(text)
    record["inn"] = text


def _set_amount(record: dict, value: Any) -> None:
    """The amount, exact, through the one money reader; the cell as written beside it."""
    record["amount"] = None
    record["amount_text"] = _as_written(value)
    try:
        record["amount"] = read_money(value, OPERATOR_LISTS).amount
    except MoneyError as exc:
        _error(record, f"amount: {exc}")


def _as_written(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


def stated_winners(body: bytes, *, url: str = "") -> dict[int, int]:
    """Winners per year as the workbook's `сводка` states them (a check on the sheets)."""
    where = url or "grants_soprotivlenie.xlsx"
    for sheet in read_sheets(body, where, "XLSX"):
        if sheet.name.strip().lower() != _SUMMARY_SHEET:
            continue
        rows = sheet.rows
        years = rows[0] if rows else []
        for row in rows[1:]:
            words = header_words(row[0] if row else None)
            if all(any(w.startswith(stem) for w in words) for stem in _WINNERS_ROW):
                return {int(y): int(n) for y, n in zip(years[1:], row[1:], strict=False)
                        if isinstance(y, float | int) and isinstance(n, float | int)}
    raise ValueError(f"{where}: no `сводка` sheet with a row of winners")


# --- allocations -----------------------------------------------------------------------------

_YEARS_SHEET = "годы"
_ORGANISATIONS_SHEET = "организации"
_BUDGET_COLUMNS = (
    column("year", "год", "год"),
    column("budget", "сумма, млн руб", "сумм"),
    column("decree", "распоряжение", "распоряжен"),
)
_ORGANISATION_COLUMNS = (
    column("name", "name", "name", whole=True),
    column("website", "website", "website", whole=True, required=False),
    column("theme", "тема", "тема", required=False),
)
_SCALE_WORDS = (("млрд", Decimal(10) ** 9), ("млн", Decimal(10) ** 6), ("тыс", Decimal(1000)))
_NONE = {"-", "–", "—"}
_URL = re.compile(r"^https?://\S+$")


def parse_allocations(body: bytes, *, url: str = "") -> list[dict]:
    """One record per operator and year of the allocations workbook (`-`: no allocation).

    Each record carries the year's programme budget and the decree that set it (the
    `годы` sheet); `_row` is the row of the `организации` sheet.
    """
    source = list_file(url) if url else ALLOCATIONS
    where = url or ALLOCATIONS.name
    if source.layout != "allocations":
        raise ValueError(f"{where}: not the allocations workbook ({ALLOCATIONS.name})")
    sheets = {s.name.strip().lower(): s for s in read_sheets(body, where, "XLSX")}
    for name in (_YEARS_SHEET, _ORGANISATIONS_SHEET):
        if name not in sheets:
            raise ValueError(f"{where}: sheet {name!r} not found; sheets: {sorted(sheets)}")
    budgets = _budgets(sheets[_YEARS_SHEET], where)
    return _allocations(sheets[_ORGANISATIONS_SHEET], budgets, where)


def _budgets(sheet: Sheet, where: str) -> dict[int, dict[str, Any]]:
    rows = sheet.rows
    header_index, position = _header(sheet, _BUDGET_COLUMNS, where, at_least=2)
    scale = _scale(rows[header_index][position["budget"]])
    out: dict[int, dict[str, Any]] = {}
    for row in rows[header_index + 1:]:
        year = _year(_cell(row, position["year"]))
        if year is None:
            continue
        cell = _cell(row, position["budget"])
        entry: dict[str, Any] = {"programme_budget_text": _as_written(cell), "errors": []}
        try:
            number = read_money(cell, OPERATOR_LISTS).amount
            entry["programme_budget"] = (None if number is None
                                         else checked_money(number * scale, OPERATOR_LISTS))
        except MoneyError as exc:
            entry["programme_budget"] = None
            entry["errors"].append(f"programme_budget: {exc}")
        decree = clean_text(_cell(row, position["decree"]))
        entry["decree"] = decree
        entry["decree_url"] = decree if decree and _URL.match(decree) else None
        out[year] = entry
    return out


def _allocations(sheet: Sheet, budgets: dict[int, dict[str, Any]], where: str) -> list[dict]:
    rows = sheet.rows
    header_index, position = _header(sheet, _ORGANISATION_COLUMNS, where, at_least=1)
    header = rows[header_index]
    years = {i: y for i, cell in enumerate(header) if (y := _year(cell)) is not None}
    if not years:
        raise ValueError(f"{where}: sheet {sheet.name!r}: no year columns; headers found: "
                         f"{[header_text(h) for h in header if header_text(h)]}")
    # The row under the years states their unit (`сумма, руб`).
    units = rows[header_index + 1] if header_index + 1 < len(rows) else []
    scales = {i: _scale(_cell(units, i)) for i in years}
    records: list[dict] = []
    for index in range(header_index + 1, len(rows)):
        row = rows[index]
        name = clean_text(_cell(row, position["name"]))
        if name is None:
            continue  # the row of units
        key = operator_key(name)
        for column_index, year in years.items():
            cell = _cell(row, column_index)
            text = _as_written(cell)
            if text is None or text.strip() in _NONE:
                continue
            records.append(_allocation(name, key, year, cell, scales[column_index], row,
                                       position, budgets.get(year), index + 1))
    return records


def _allocation(name: str, key: str | None, year: int, cell: Any, scale: Decimal,
                row: Sequence[Any], position: dict[str, int], budget: dict[str, Any] | None,
                number: int) -> dict:
    operator = OPERATORS.get(key) if key else None
    record: dict[str, Any] = {
        "_row": number,
        "allocation_key": f"{key}:{year}" if key else None,
        "operator": operator.name if operator else None,
        "operator_key": key,
        "operator_as_written": name,
        "operator_website": clean_text(_cell(row, position["website"]))
        if "website" in position else None,
        "theme": clean_text(_cell(row, position["theme"])) if "theme" in position else None,
        "year": year,
        "amount": None,
        "amount_text": _as_written(cell),
        "programme_budget": budget["programme_budget"] if budget else None,
        "programme_budget_text": budget["programme_budget_text"] if budget else None,
        "decree": budget["decree"] if budget else None,
        "decree_url": budget["decree_url"] if budget else None,
    }
    if operator is None:
        _error(record, f"operator: no operator known by the name {name!r}")
    for message in (budget or {}).get("errors", []):
        _error(record, message)
    try:
        number_read = read_money(cell, OPERATOR_LISTS).amount
        if number_read is not None:
            record["amount"] = checked_money(number_read * scale, OPERATOR_LISTS)
    except MoneyError as exc:
        _error(record, f"amount: {exc}")
    return record


def _year(cell: Any) -> int | None:
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    if isinstance(cell, int) and not isinstance(cell, bool) and 1990 <= cell <= 2100:
        return cell
    text = clean_text(cell) if isinstance(cell, str) else None
    return int(text) if text and re.fullmatch(r"(19|20)\d\d", text) else None


def _scale(cell: Any) -> Decimal:
    """The unit a header states (`сумма, млн руб`): the multiplier that makes rubles."""
    words = header_words(cell)
    for stem, scale in _SCALE_WORDS:
        if any(w.startswith(stem) for w in words):
            return scale
    return Decimal(1)


# --- one list from two copies ------------------------------------------------------------------

_MATCH_KEY = re.compile(r"[^0-9a-zа-я]+")
_COMPARED = ("amount", "organisation_name", "title", "city", "region")


def merge_copies(records: Sequence[dict]) -> list[dict]:
    """One record per grant where an operator's list for a year comes in several copies.

    «Сопротивление» 2009 is both `soprotivlenie_2009.csv` and the workbook's sheet `2009`,
    and the two do not agree row for row. Rows are matched by application number where
    both copies give one, else by organisation and project (compared on letters and
    digits alone: case, `ё`, quotes, spacing and punctuation aside), one to one. A
    matched grant keeps the first copy's record (the one giving the most application
    numbers) with `found_in` naming both copies, `matched_by` how, and `differences` the
    fields on which the copies disagree; a row found in one copy only is kept with
    `only_in` naming that copy. Lists in one copy pass through with `found_in` set.
    """
    groups: dict[tuple[Any, Any], list[dict]] = {}
    for record in records:
        groups.setdefault((record.get("operator_key"), record.get("year")), []).append(record)
    merged: list[dict] = []
    for group in groups.values():
        merged.extend(_merge_group(group))
    return merged


def _merge_group(group: list[dict]) -> list[dict]:
    by_copy: dict[str, list[dict]] = {}
    for record in group:
        by_copy.setdefault(record.get("copy") or "", []).append(record)
    copies = sorted(by_copy, key=lambda c: (-sum(1 for r in by_copy[c]
                                                 if r.get("application_number")), c))
    if len(copies) == 1:
        return [dict(r, found_in=(copies[0],), only_in=None, matched_by=None, differences=())
                for r in group]
    result = [dict(r, found_in=(copies[0],), only_in=None, matched_by=None, differences=())
              for r in by_copy[copies[0]]]
    for other in copies[1:]:
        unmatched = _match_copy(result, by_copy[other], other)
        result.extend(dict(r, found_in=(other,), only_in=None, matched_by=None, differences=())
                      for r in unmatched)
    for record in result:
        if len(record["found_in"]) == 1:
            record["only_in"] = record["found_in"][0]
    return result


def _match_copy(result: list[dict], others: list[dict], copy: str) -> list[dict]:
    """Match `others` into `result` in place; the records of `others` left unmatched."""
    waiting = list(others)
    for matched_by, key in (("application_number", _application_key),
                            ("organisation_and_project", _name_project_key)):
        open_results: dict[Any, list[dict]] = {}
        for record in result:
            if len(record["found_in"]) == 1 and key(record) is not None:
                open_results.setdefault(key(record), []).append(record)
        left = []
        for other in waiting:
            candidates = open_results.get(key(other)) if key(other) is not None else None
            if not candidates:
                left.append(other)
                continue
            record = candidates.pop(0)
            record["found_in"] = (*record["found_in"], copy)
            record["matched_by"] = matched_by
            record["differences"] = tuple(f for f in _COMPARED
                                          if _compared(record.get(f)) != _compared(other.get(f)))
        waiting = left
    return waiting


def _application_key(record: dict) -> str | None:
    return record.get("application_number") or None


def _name_project_key(record: dict) -> tuple[str, str] | None:
    name, title = _compared(record.get("organisation_name")), _compared(record.get("title"))
    return (name, title) if name and title else None


def _compared(value: Any) -> Any:
    if isinstance(value, str):
        return _MATCH_KEY.sub("", value.lower().replace("ё", "е"))
    return value
