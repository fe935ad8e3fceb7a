"""Turning source text into values, once, in one place.

Russian number format: thousands separated by a space, a no-break space
(U+00A0) or a narrow no-break space (U+202F), decimal comma, an optional
currency sign or unit. Dates are dd.mm.yyyy. Every parser converts through
these helpers so a quirk is handled in one place; money goes through the one
money reader, `schemas.money.read_money` (`parse_money` is its use here).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from schemas.identifiers import inn_subject_code, is_valid_inn, ogrn_subject_code
from schemas.money import MAX_MONEY as MAX_MONEY  # re-exported: the bound every amount keeps
from schemas.money import RUSSIAN, Convention, read_money

_SPACES = re.compile(r"[\s\u00a0\u202f\u2007\u2009\ufeff]+")
_MONEY_BODY = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
_DATE_DMY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:\s*г\.?)?$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$")
# An identifier has at most 15 digits (ОГРНИП); E-notation is expanded only this far, so a
# cell reading `1E+99999999` is kept as text, not turned into a hundred million digits.
_MAX_IDENTIFIER_DIGITS = 20


class MissingColumnError(ValueError):
    """A file lacks a column the parser needs: its layout changed, so the load stops.

    The message names the file or URL and the column, so the night's report says what
    to fix.
    """

    def __init__(self, column: str, where: str, detail: str = "") -> None:
        self.column = column
        self.where = where
        message = f"{where}: required column {column!r} not found"
        super().__init__(message + (f" ({detail})" if detail else ""))


def read_csv(body: bytes, where: str) -> tuple[list[str], Iterator[list[str]]]:
    """Header names (white space folded) and the remaining records of a UTF-8 CSV file.

    A BOM, if an export adds one, is dropped; quoted fields keep their line breaks
    (`newline=""`), so a multi-line name stays one field of one record.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{where}: not UTF-8 text: {exc}") from exc
    reader = _records(csv.reader(io.StringIO(text, newline="")), where)
    header = next(reader, None)
    if header is None:
        raise ValueError(f"{where}: empty file, no header")
    return [clean_text(h) or "" for h in header], reader


def _records(reader: Any, where: str) -> Iterator[list[str]]:
    """The reader's records; a record it cannot read (a field past the csv module's size
    limit, a NUL) is a ValueError naming the line, like every other unreadable file."""
    try:
        yield from reader
    except csv.Error as exc:
        raise ValueError(f"{where}: line {reader.line_num}: not a CSV record: {exc}") from exc


def clean_text(value: Any) -> str | None:
    """Collapse every kind of white space to one space and strip; '' is None.

    `str.split()` splits on every Unicode space (no-break and narrow no-break spaces
    included); U+FEFF is added by hand. This runs some seventy times per ФПГ card,
    50 000 cards a night, so it avoids a regular expression.
    """
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    text = value if isinstance(value, str) else str(value)
    return " ".join(text.replace("\ufeff", " ").split()) or None


def parse_decimal(value: Any) -> Decimal | None:
    """A number written the Russian way (`77,00`, `1 500 000`) or a native number."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"not a finite number: {value!r}")
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        return value
    text = _SPACES.sub("", str(value))
    if not text:
        return None
    if not _MONEY_BODY.match(text):
        raise ValueError(f"not a number: {value!r}")
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid text
        raise ValueError(f"not a number: {value!r}") from exc


def parse_money(value: Any, convention: Convention = RUSSIAN) -> Decimal | None:
    """Rubles (or another currency) with kopecks: `9 484 487,00`, `1 515 679,40 ₽`.

    The one money reader, `schemas.money.read_money`, in the source's `convention`
    (Russian writing by default): an exact Decimal of two places, None for an empty cell,
    or a MoneyError (a ValueError) with the reason — an amount is never rounded or cut.
    """
    return read_money(value, convention).amount


def parse_date(value: Any) -> date | None:
    """`dd.mm.yyyy` (optionally followed by `г.`), ISO dates, or a native date."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = clean_text(value)
    if text is None:
        return None
    match = _DATE_DMY.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
    else:
        match = _DATE_ISO.match(text)
        if not match:
            raise ValueError(f"not a date: {value!r}")
        year, month, day = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"not a date: {value!r}") from exc


def parse_identifier(value: Any) -> str | None:
    """An ИНН/ОГРН/КПП as text, however the file stored it.

    Spreadsheets and CSV exports store identifiers as numbers: `1026700000810.0`,
    `1.095200000224E12`, or with a trailing space. The digits are recovered
    exactly (E-notation goes through Decimal, never through float). Text that
    does not hold a whole number is returned cleaned, as reported, so a
    schema can flag it rather than it being lost.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
        return repr(value)
    text = clean_text(value)
    if text is None:
        return None
    compact = text.replace(" ", "")
    if re.fullmatch(r"\d+", compact):
        return compact
    if re.fullmatch(r"\d+(?:[.,]\d+)?(?:[eE][+]?\d+)?", compact):
        number = Decimal(compact.replace(",", "."))
        if number.adjusted() < _MAX_IDENTIFIER_DIGITS and number == number.to_integral_value():
            return str(int(number))
    return text


def parse_inn_cell(value: Any, ogrn: str | None) -> str | None:
    """An ИНН from a spreadsheet cell, as reported, except for a leading zero lost to a number.

    A number cannot keep a leading zero: Dagestan's ИНН `0541…` stored as a number
    reads `541…`. The zero is put back only when the cell was a number, the restored
    ИНН passes its check digits and its region digits are the ОГРН's (both are given
    at registration, by the same tax office). A nine-digit ИНН that lost a digit
    elsewhere (`673004802`, Smolensk) passes the check once padded one time in ten,
    and is then caught by its ОГРН's region (67, not 06): it stays as reported, for
    the schema to flag.
    """
    text = parse_identifier(value)
    if (
        text is not None
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and len(text) in (9, 11)
        and text.isdigit()
        and ogrn_subject_code(ogrn) is not None
        and is_valid_inn("0" + text)
        and inn_subject_code("0" + text) == ogrn_subject_code(ogrn)
    ):
        return "0" + text
    return text


def set_converted(record: dict, field: str, convert, raw: Any) -> None:
    """Store `convert(raw)` in `record[field]`; on failure store None and note why.

    The note goes to `record["_errors"]`, which the validator turns into
    quarantine reasons: a value that does not parse is never silently dropped.
    """
    try:
        record[field] = convert(raw)
    except ValueError as exc:
        record[field] = None
        record.setdefault("_errors", []).append(f"{field}: {exc}")
