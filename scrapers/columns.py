"""Column-wise twins of `scrapers.values`' text helpers, for the sources that come in bulk.

Each twin gives, for a polars String column, exactly what its helper gives for each value,
or says it cannot decide a value (`decided` false) so that the caller asks the helper
itself: the common shapes (a name with stray spaces, an ИНН of ASCII digits) are done in
one pass over the column, and anything unusual goes through the one Python helper, so
the two can never disagree.

White space is Python's (`str.split()`, `str.strip()`): besides what polars' regular
expressions call `\\s`, the information separators U+001C–U+001F.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import polars as pl
from polars._typing import PolarsDataType

# A helper's column-wise twin: (its values over a text column, where it decided them).
Twin = Callable[[pl.Series], tuple[pl.Series, pl.Series]]

# Every character `str.split()` and `str.strip()` take for white space.
_PYTHON_SPACE = "\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_SPACE_RUN = f"[{_PYTHON_SPACE}\ufeff]+"
_ONLY_SPACE = f"^[{_PYTHON_SPACE}]*$"
# What `clean_text` changes: white space at an end or two together, or any but a plain space.
_ANY_SPACE = f"[{_PYTHON_SPACE}\ufeff]"
_UNTIDY = (f"^{_ANY_SPACE}|{_ANY_SPACE}$|{_ANY_SPACE}{{2}}"
           "|[\t-\r\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]")
_ASCII_DIGITS = r"^[0-9]+$"


def clean_text_column(texts: pl.Series) -> pl.Series:
    """`scrapers.values.clean_text` of every value: white space (and U+FEFF) runs folded to
    one space, stripped, an empty result null.

    Most texts are clean already: only those with something to fold are rewritten."""
    untidy = texts.str.contains(_UNTIDY).fill_null(False)
    if untidy.any():
        at = untidy.arg_true()
        part = texts.gather(at)
        # `scatter` writes in place: into a copy, the caller's column stays as it was.
        texts = texts.clone().scatter(
            at, part.str.replace_all(_SPACE_RUN, " ").str.strip_chars(" "))
    return pl.select(pl.when(texts != "").then(texts)).to_series().alias(texts.name)


def blank_column(texts: pl.Series) -> pl.Series:
    """True where a value is null or only white space (`not value.strip()`)."""
    return texts.is_null() | texts.str.contains(_ONLY_SPACE)


def identifier_column(texts: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(`scrapers.values.parse_identifier` of each text, decided): decided where the text is
    blank or its digits are ASCII with nothing but spaces between them; the rest (a number in
    E-notation, letters, other digits, and nulls, which stand for cells that are not text) is
    for the helper to read."""
    cleaned = clean_text_column(texts)
    compact = cleaned.str.replace_all(" ", "", literal=True)
    digits = compact.str.contains(_ASCII_DIGITS).fill_null(False)
    decided = texts.is_not_null() & (cleaned.is_null() | digits)
    return pl.select(pl.when(digits).then(compact)).to_series().alias(texts.name), decided


def text_twin(texts: pl.Series) -> tuple[pl.Series, pl.Series]:
    """`clean_text` of text values, column-wise: every text decided, nulls (values that are
    not text) left to the helper."""
    return clean_text_column(texts), texts.is_not_null()


def convert_column(values: Sequence[Any], convert: Callable[[Any], Any], dtype: PolarsDataType,
                   twin: Twin | None = None, texts: pl.Series | None = None) -> pl.Series:
    """`convert(value)` for every value, as a column of `dtype`.

    `twin`, when given, is `convert`'s column-wise twin over the text values (the others
    reach it as nulls): what it decides is taken, `convert` does the rest one by one.
    `texts` is that String column when the caller has it already.
    """
    if twin is None:
        return pl.Series([convert(v) for v in values], dtype=dtype)
    if texts is None:
        texts = pl.Series([v if v.__class__ is str else None for v in values], dtype=pl.String)
    column, decided = twin(texts)
    if decided.all():
        return column.cast(dtype)
    rest = [None if done else convert(v)
            for v, done in zip(values, decided.to_list(), strict=True)]
    return pl.select(pl.when(decided).then(column).otherwise(pl.Series(rest, dtype=dtype))
                     ).to_series()


def records_of(frame: pl.DataFrame) -> list[dict]:
    """The frame's rows as the records a row-wise parser returns: `_errors` only on a row
    that has some."""
    records = frame.to_dicts()
    for record in records:
        if not record.get("_errors", True):
            del record["_errors"]
    return records
