"""Curated figures: numbers that exist only in reports and presentations.

SOURCES.md §3c, §4, §5. Some figures have no machine-readable source at all: a
municipal programme's budget and attracted funds in a slide's table, a district
competition's fund on another slide, a news item's count of municipalities. We
type them into CSV files, ONE FIGURE PER ROW, each row naming the document it
comes from and where in it (`locator`). The files are project data, shipped in
`samples/<HOST>/curated/`; `HOST` is a name of our own (the `.invalid` domain
never resolves), since there is no site that serves them.

Columns of a curated file (UTF-8, a BOM tolerated; header text matched by name):

- required: `figure_id`, `programme`, `country`, `funding_kind`, `indicator`,
  `value_text`, `unit`, `document`, `locator`, and `source_url` or `source_file`;
- optional: `edition`, `municipality`, `region_code`, `year`, `period_start`,
  `period_end` (years), `as_of`, `document_date` (ISO dates), `party`, `note`,
  `flag` (`;`-separated names from `schemas.vocabularies.funding.FLAGS`).

`value_text` is the figure exactly as printed, and the number is read from it
here, never typed twice, by the one money reader (`schemas.money`, convention
`PRINTED_FIGURES`): `нет` is 0 (the document says there was none); `155,
990 тыс.руб.` and `20, 0` have a space after the decimal comma (a typesetting
habit of the source) and are 155,990 and 20,0; `2.5` is 2,5 and `1 000.50` is
1 000,50; `269 000 человек – …` is read up to the first word. A number that does
not end at a word (`1e309`, `2.5.1`) is refused with the reason, never read as
the digits it starts with. `unit` says what the number counts; money is scaled
once to `amount` in its currency and, for rubles, `amount_rub`, exactly or not
at all. Where `value_text` itself names a unit (`тыс.руб.`, `рублей`), it must
agree with `unit`.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from schemas.money import PRINTED_FIGURES, MoneyError, checked_money, leading_number
from schemas.vocabularies.funding import UNITS
from scrapers.headers import extra_columns, extra_values, match_columns, named_column, require
from scrapers.values import clean_text, parse_date, read_csv, set_converted

HOST = "curated.socfund.invalid"
BASE_URL = f"https://{HOST}/curated"
PERM_URL = f"{BASE_URL}/perm_obshchestvennye_initsiativy_1999_2001.csv"
KYRGYZSTAN_URL = f"{BASE_URL}/kyrgyzstan_municipal_social_order_2013_2014.csv"
CURATED_URLS = (PERM_URL, KYRGYZSTAN_URL)
PARSER_VERSION = "curated/1"

REQUIRED = ("figure_id", "programme", "country", "funding_kind", "indicator",
            "value_text", "unit", "document", "locator")
SOURCES = ("source_url", "source_file")
OPTIONAL = ("edition", "municipality", "region_code", "year", "period_start", "period_end",
            "as_of", "party", "document_date", "note", "flag")
# Our own column names, found like any source's headers (`scrapers.headers`): case and
# spacing aside, and a column we do not know is kept in `extra_columns`, not dropped.
_HEADER_COLUMNS = (
    *(named_column(name) for name in REQUIRED),
    *(named_column(name, required=False) for name in (*SOURCES, *OPTIONAL)),
)
_TEXT = ("figure_id", "programme", "edition", "municipality", "region_code", "country",
         "funding_kind", "indicator", "party", "document", "source_url", "source_file",
         "locator", "note", "flag")

# `value` is DECIMAL(18,3): a figure of 10^15 or more would not load.
_MAX_VALUE = Decimal(10) ** 15
_NONE = "нет"
_THOUSANDS_TEXT = re.compile(r"тыс", re.IGNORECASE)
_RUBLES_TEXT = re.compile(r"руб", re.IGNORECASE)
_SOM_TEXT = re.compile(r"\bсом(?:а|ов)?\b", re.IGNORECASE)


def parse_curated(body: bytes, *, url: str = "") -> list[dict]:
    """One record per figure; `_row` is the CSV record number (the header is record 1)."""
    where = url or "curated CSV"
    names, reader = read_csv(body, where)
    found = match_columns(names, _HEADER_COLUMNS)
    require(found, _HEADER_COLUMNS, names, where, "header")
    if not any(s in found for s in SOURCES):
        raise ValueError(f"{where}: required column 'source_url' or 'source_file' missing; "
                         f"found {names}")
    position = {n: found[n] for n in found}
    extras = extra_columns(names, found)

    records: list[dict] = []
    for number, fields in enumerate(reader, start=2):
        if not any(f.strip() for f in fields):
            continue
        raw = {n: (fields[i] if i < len(fields) else None) for n, i in position.items()}
        record = _record(raw, number, len(fields) != len(names), len(names))
        record["extra_columns"] = extra_values(fields, extras)
        records.append(record)
    return records


def _record(raw: dict[str, str | None], number: int, ragged: bool, width: int) -> dict:
    record: dict[str, Any] = {"_row": number}
    if ragged:
        record.setdefault("_errors", []).append(f"record: expected {width} fields")
    for column in _TEXT:
        record[column] = clean_text(raw.get(column))
    for column in ("year", "period_start", "period_end"):
        set_converted(record, column, _year, raw.get(column))
    for column in ("as_of", "document_date"):
        set_converted(record, column, parse_date, raw.get(column))

    record["value_text"] = _as_printed(raw.get("value_text"))
    record["unit"] = clean_text(raw.get("unit"))
    set_converted(record, "value", _value, record["value_text"])
    _set_money(record)
    return record


def _as_printed(value: str | None) -> str | None:
    """The printed text kept exactly; only the cell's outer white space goes."""
    if value is None:
        return None
    return value.strip() or None


def _year(value: Any) -> int | None:
    text = clean_text(value)
    if text is None:
        return None
    if not re.fullmatch(r"\d{4}", text):
        raise ValueError(f"not a year: {value!r}")
    return int(text)


def _value(text: str | None) -> Decimal | None:
    """The number a printed figure states (see the module's docstring)."""
    if text is None:
        return None
    # `нет` in a table of amounts and counts: the document says there was none.
    if clean_text(text).lower() == _NONE:
        return Decimal(0)
    found = leading_number(text, PRINTED_FIGURES)
    if found is None:
        raise ValueError(f"no number at the start of {text!r}")
    value = found[0]
    if value >= _MAX_VALUE:
        raise MoneyError(f"figure out of range (10^15 and over): {text!r}")
    return value


def _set_money(record: dict) -> None:
    """`amount` (value × unit scale, in its currency) and `amount_rub`; None for counts."""
    record["amount"] = record["amount_rub"] = record["currency"] = None
    unit, value, text = record["unit"], record["value"], record["value_text"] or ""
    if unit not in UNITS:
        record.setdefault("_errors", []).append(f"unit: unknown unit {unit!r}")
        return
    currency, scale = UNITS[unit]
    problem = _unit_disagrees(text, currency, scale)
    if problem:
        record.setdefault("_errors", []).append(f"value_text: {problem} (unit {unit!r})")
    if scale is None or value is None:
        return
    try:
        amount = checked_money(value * scale, PRINTED_FIGURES, text)
    except MoneyError as exc:
        record.setdefault("_errors", []).append(f"amount: {exc}")
        return
    record["amount"] = amount
    record["currency"] = currency
    record["amount_rub"] = amount if currency == "RUB" else None


def _unit_disagrees(text: str, currency: str | None, scale: Decimal | None) -> str | None:
    """A unit printed with the figure (`17,990 тыс.руб.`) must be the row's `unit`."""
    says_rubles = bool(_RUBLES_TEXT.search(text))
    says_som = bool(_SOM_TEXT.search(text))
    if not (says_rubles or says_som):
        return None
    if currency != ("RUB" if says_rubles else "KGS"):
        return "the printed text names another currency"
    says_thousands = bool(_THOUSANDS_TEXT.search(text))
    if says_thousands != (scale == Decimal(1000)):
        return "the printed text names another scale"
    return None
