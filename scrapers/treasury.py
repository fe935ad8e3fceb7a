"""Treasury budget execution, form 0503317: expense type (ВР) 630 by region and year.

SOURCES.md §3b. Form 0503317 is the report on the execution of a region's
consolidated budget. Its expenses section lists lines by budget-classification
code (КБК: administrator 3 digits, section and subsection 4, target article 10,
expense type 3); expense type **630** is "Субсидии некоммерческим организациям
(за исключением государственных (муниципальных) учреждений)". For each line the
form gives approved appropriations (`Утвержденные бюджетные назначения`) and
execution (`Исполнено`), each split by budget: the consolidated budget of the
region, the region's own budget, the municipal budgets by kind.

`REPORT_URLS` are our offline copies, on a host of our own naming: the live
source (the Federal Treasury, roskazna) publishes per-region XLS files whose
addresses and file names change between years, and none of them is verified
here. Our samples are made by `tests/sample_makers/make_treasury_samples.py` in
two layouts; everything is matched by text, never by position, because the
layout, column order and unit change between years.

`parse_0503317` returns one record per ВР-630 line × budget column; `approved`
and `executed` are rubles (a report in `тыс. руб.` is multiplied by 1 000,
`unit_multiplier` says by how much). Values that do not convert are stored as
None with a reason in `_errors`.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from schemas.vocabularies.budgets import BUDGETS, REPORT_UNITS
from scrapers.headers import Column, column, header_key, match_columns, require
from scrapers.values import MissingColumnError, clean_text, parse_date, parse_decimal, set_converted
from scrapers.workbooks import read_sheets

HOST = "treasury.socfund.invalid"
BASE_URL = f"https://{HOST}/0503317"
REPORT_URLS: dict[tuple[int, str], str] = {
    (2015, "Ставропольский край"): f"{BASE_URL}/2015/stavropolskij-kraj.xlsx",
    (2020, "Ставропольский край"): f"{BASE_URL}/2020/stavropolskij-kraj.xlsx",
}
PARSER_VERSION = "treasury/1"
EXPENSE_TYPE = "630"

# The columns of the expenses table, found by the distinctive words of their headers
# (`scrapers.headers`); labels are the form's wording, for error messages. The КБК's
# header is told from `Код вида расходов` (a column of its own in some layouts) by
# `вида`; `Исполнено` is a word of its own, not `исполнение` (`Кассовое исполнение`).
_NAME = "line_name"
_KBK = "kbk"
_LINE_CODE = "line_code"
_EXPENSE_TYPE_COLUMN = "expense_type"
_APPROVED = "approved"
_EXECUTED = "executed"
HEADER_COLUMNS: tuple[Column, ...] = (
    column(_NAME, "Наименование показателя", "наименовани показател"),
    column(_KBK, "Код расхода по бюджетной классификации", "код расход", unless="вид"),
    column(_LINE_CODE, "Код строки", "код строк", required=False),
    column(_EXPENSE_TYPE_COLUMN, "Код вида расходов", "код вид расход", "квр", "вр",
           required=False),
    column(_APPROVED, "Утвержденные бюджетные назначения", "утвержден"),
    column(_EXECUTED, "Исполнено", "исполнено"),
)
REQUIRED_HEADERS = {c.field: c.label for c in HEADER_COLUMNS if c.required}

# `суммы, подлежащие исключению` are the consolidation eliminations, not a budget.
_ELIMINATIONS = "исключени"

_REGION_LABELS = (
    "наименование публично-правового образования",
    "наименование субъекта",
    "наименование бюджета",
)
_UNIT_LABEL = "единица измерения"
_MONTHS = {
    "января": 1, "февраля": 2, "марта": 3, "апреля": 4, "мая": 5, "июня": 6, "июля": 7,
    "августа": 8, "сентября": 9, "октября": 10, "ноября": 11, "декабря": 12,
}
_DATE_WORDS = re.compile(r"\bна\s+(\d{1,2})\s+([а-я]+)\s+(\d{4})")
_DATE_DIGITS = re.compile(r"\bна\s+(\d{1,2}\.\d{1,2}\.\d{4})")
_CONSOLIDATED_PREFIX = re.compile(
    r"^консолидированный бюджет(?: субъекта российской федерации)?"
    r"(?: и бюджет территориального государственного внебюджетного фонда)?[\s:–—-]*",
    re.IGNORECASE,
)
_PLACEHOLDERS = frozenset({"-", "–", "—", "x", "х"})  # Latin and Cyrillic x
_TITLE_SCAN_ROWS = 40
_HEADER_SCAN_ROWS = 60


def parse_0503317(body: bytes, *, url: str = "") -> list[dict]:
    """One record per ВР-630 line × budget column of every expenses sheet of the report."""
    where = url or "0503317 report"
    # Row i of a sheet's rows is Excel row i + 1.
    sheets = [(sheet.name, sheet.rows) for sheet in read_sheets(body, where)]
    expense_sheets = [(n, rows, h) for n, rows in sheets if (h := _header_row(rows)) is not None]
    if not expense_sheets:
        raise MissingColumnError(
            REQUIRED_HEADERS[_KBK], where,
            f"no row naming both {REQUIRED_HEADERS[_NAME]!r} and it in any sheet",
        )
    title = _title(sheets, where)
    records: list[dict] = []
    for name, rows, header in expense_sheets:
        layout = _layout(rows, header, title, where, name)
        records.extend(_records(rows, layout, title, name))
    return records


# --- the title: region, date, unit ----------------------------------------------------------


def _title(sheets: list[tuple[str, list[list[Any]]]], where: str) -> dict:
    """Region, report date and unit from the title rows (the first sheet that has each).

    The expenses sheet may carry no title of its own (the 2015 layout keeps the
    title on the incomes sheet only), so every sheet's top rows are read.
    """
    labelled: dict[str, str] = {}
    found_date: date | None = None
    for _, rows in sheets:
        for row in rows[:_TITLE_SCAN_ROWS]:
            texts = [clean_text(c) if not isinstance(c, float | int) else None for c in row]
            for i, text in enumerate(texts):
                if not text:
                    continue
                key = _key(text)
                if found_date is None:
                    found_date = _report_date(key)
                for label in (*_REGION_LABELS, _UNIT_LABEL):
                    if key.startswith(label) and label not in labelled:
                        value = _labelled_value(text, texts[i + 1:])
                        if value:
                            labelled[label] = value
    region = next(
        (r for r in (_region(labelled.get(label)) for label in _REGION_LABELS) if r), None
    )
    if region is None:
        raise ValueError(f"{where}: no region in the title rows (labels {list(_REGION_LABELS)})")
    if found_date is None:
        raise ValueError(f"{where}: no report date (`на 1 января 2016 г.`) in the title rows")
    multiplier = _unit_multiplier(labelled.get(_UNIT_LABEL))
    if multiplier is None:
        raise ValueError(
            f"{where}: no unit (`Единица измерения: руб.`) in the title rows, "
            f"found {labelled.get(_UNIT_LABEL)!r}"
        )
    # An annual report is dated 1 January of the next year; a monthly one covers the
    # months of its own year before the date.
    year = found_date.year - 1 if (found_date.month, found_date.day) == (1, 1) else found_date.year
    budget_name = labelled.get("наименование бюджета")
    return {
        "region_name": region,
        "report_date": found_date,
        "year": year,
        "unit_multiplier": multiplier,
        "budget": _budget(budget_name) if budget_name else None,
    }


def _labelled_value(text: str, rest: list[str | None]) -> str | None:
    """`Label: value` in one cell, or the label alone and the value in a later cell."""
    if ":" in text:
        value = clean_text(text.split(":", 1)[1])
        if value:
            return value
    return next((t for t in rest if t), None)


def _region(value: str | None) -> str | None:
    """The region as written, without a leading `Консолидированный бюджет …`."""
    if not value:
        return None
    text = clean_text(_CONSOLIDATED_PREFIX.sub("", value))
    return text or None


def _report_date(key: str) -> date | None:
    match = _DATE_WORDS.search(key)
    if match and match.group(2) in _MONTHS:
        day, month, year = int(match.group(1)), _MONTHS[match.group(2)], int(match.group(3))
        try:
            return date(year, month, day)
        except ValueError:
            return None
    match = _DATE_DIGITS.search(key)
    if match:
        try:
            return parse_date(match.group(1))
        except ValueError:
            return None
    return None


def _unit_multiplier(value: str | None) -> int | None:
    if not value:
        return None
    key = _key(value)
    for word, multiplier in REPORT_UNITS:
        if word in key:
            return multiplier
    return None


# --- the header: columns by text --------------------------------------------------------------


def _header_row(rows: list[list[Any]]) -> int | None:
    """The first row naming both the line's name and its КБК."""
    needed = [c for c in HEADER_COLUMNS if c.field in (_NAME, _KBK)]
    for index, row in enumerate(rows[:_HEADER_SCAN_ROWS]):
        if len(match_columns(row, needed)) == len(needed):
            return index
    return None


def _layout(rows: list[list[Any]], header: int, title: dict, where: str, sheet: str) -> dict:
    keys = [header_key(c) for c in rows[header]]
    place = f"sheet {sheet!r}, row {header + 1}"
    found = match_columns(rows[header], HEADER_COLUMNS)
    require(found, HEADER_COLUMNS, rows[header], where, place)
    columns = {role: found.get(role) for role in (_NAME, _KBK, _LINE_CODE,
                                                  _EXPENSE_TYPE_COLUMN)}
    groups = {role: found[role] for role in (_APPROVED, _EXECUTED)}

    below = rows[header + 1] if header + 1 < len(rows) else []
    below_keys = [header_key(c) for c in below]
    spans = {role: _span(keys, start) for role, start in groups.items()}
    has_budget_row = any(
        _budget(below_keys[i]) or _ELIMINATIONS in below_keys[i]
        for span in spans.values() for i in span if i < len(below_keys) and below_keys[i]
    )
    # budget name → {"approved": column, "executed": column}
    budget_columns: dict[str, dict[str, int]] = {}
    for role, span in spans.items():
        field = "approved" if role == _APPROVED else "executed"
        if not has_budget_row:
            # One column per group: the budget is the one the title names.
            if len(span) != 1:
                raise ValueError(
                    f"{where}: {place}: {REQUIRED_HEADERS[role]!r} spans {len(span)} columns "
                    "but the row below names no budgets"
                )
            budget_columns.setdefault(title["budget"] or "", {})[field] = span[0]
            continue
        for i in span:
            text = below_keys[i] if i < len(below_keys) else ""
            if not text or _ELIMINATIONS in text:
                continue
            budget = _budget(text)
            if budget is None:
                raise ValueError(
                    f"{where}: {place}: unknown budget column {clean_text(below[i])!r} "
                    f"under {REQUIRED_HEADERS[role]!r}"
                )
            budget_columns.setdefault(budget, {})[field] = i
    return {
        "columns": columns,
        "budgets": budget_columns,
        "first_data_row": header + (2 if has_budget_row else 1),
    }


def _span(keys: list[str], start: int) -> list[int]:
    """A group header's columns: from it up to the next header text (merged cells read empty)."""
    end = next((i for i in range(start + 1, len(keys)) if keys[i]), len(keys))
    return list(range(start, end))


def _budget(text: str | None) -> str | None:
    if not text:
        return None
    key = header_key(text)
    for words, budget in BUDGETS:
        if all(w in key for w in words):
            return budget
    return None


# --- the lines --------------------------------------------------------------------------------


def _records(rows: list[list[Any]], layout: dict, title: dict, sheet: str) -> list[dict]:
    columns = layout["columns"]
    records: list[dict] = []
    for index in range(layout["first_data_row"], len(rows)):
        row = rows[index]
        kbk = _kbk(_cell(row, columns[_KBK]))
        if _expense_type(kbk, _cell(row, columns[_EXPENSE_TYPE_COLUMN])) != EXPENSE_TYPE:
            continue
        for budget, cells in layout["budgets"].items():
            record: dict[str, Any] = {
                "_row": index + 1,
                "sheet": sheet,
                "region_name": title["region_name"],
                "year": title["year"],
                "report_date": title["report_date"],
                "budget": budget or None,
                "kbk": kbk,
                "line_code": _code_text(_cell(row, columns[_LINE_CODE])),
                "line_name": clean_text(_cell(row, columns[_NAME])),
                "unit_multiplier": title["unit_multiplier"],
            }
            multiplier = title["unit_multiplier"]
            for field in ("approved", "executed"):
                raw = _cell(row, cells.get(field))
                set_converted(record, field, lambda v, m=multiplier: _rubles(v, m), raw)
            if record["approved"] is None and record["executed"] is None and not record.get(
                "_errors"
            ):
                continue  # a budget with nothing on this line (an empty municipal column)
            records.append(record)
    return records


def _kbk(value: Any) -> str | None:
    """The code as digits: the form prints it grouped (`000 0113 0000000000 630`)."""
    text = clean_text(value) if isinstance(value, str) else None
    if text is None:
        return None
    return text.replace(" ", "")


def _expense_type(kbk: str | None, column: Any) -> str | None:
    """ВР from its own column where the layout has one, else the last 3 digits of a 20-digit КБК."""
    own = _code_text(column)
    if own:
        return own
    if kbk and len(kbk) == 20 and kbk.isdigit():
        return kbk[-3:]
    return None


def _code_text(value: Any) -> str | None:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return clean_text(value)


def _rubles(value: Any, multiplier: int) -> Decimal | None:
    """Rubles with kopecks; scaled before rounding, so `148 905,922` thousand is 148 905 922 ₽."""
    if isinstance(value, str) and (clean_text(value) or "").lower() in _PLACEHOLDERS:
        return None
    amount = parse_decimal(value)
    if amount is None:
        return None
    return (amount * multiplier).quantize(Decimal("0.01"))


def _cell(row: list[Any], index: int | None) -> Any:
    if index is None or index >= len(row):
        return None
    value = row[index]
    return None if value == "" else value


def _key(text: str | None) -> str:
    return (text or "").lower().replace("ё", "е")
