"""Finding a file's columns by the distinctive words of their headers.

Every workbook and CSV loader reads its columns through here. A header is never
compared as a whole string: sources rewrite their headers between releases (the
ФПГ passport's `Дата принятия решения \\nо предоставлении гранта` was `Дата
решения о гранте` in our first copy), wrap them across lines, hyphenate words at a
line's end (`идентифика- ционный`, `налогопла-тельщика`), add a unit (`, руб.`,
`(руб.)`) or write `ё` for `е`. So a header is reduced to its words (`header_words`)
and a column is found by a few word stems that must all begin words of its header
(`Column.words`), optionally ruled out by others (`Column.unless`).

When several columns could take one header, or one column several headers, the most
specific match wins: the alternative naming more stems, then more of them whole
words, then the header with fewer other words (`Дата включения в реестр` rather than
`Дата принятия решения об оказании поддержки / включения в реестр …` for the
inclusion date). Headers no column takes are the file's extra columns: loaders keep
them in the record (`extra_values`) rather than drop what the source added. A
missing required column stops the load (`require`), naming the column, the file and
the headers found, so the report says what changed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from scrapers.values import MissingColumnError, clean_text

# A hyphen inside a word, or at a line's end before the word goes on (`налогопла-\nтельщика`,
# `идентифика- ционный`, `Организационно-\nправовая`): the two halves are one word. A
# soft hyphen is invisible and joins too. A dash between spaces (`организациях - получателях`)
# separates words and is left alone.
_WORD_HYPHEN = re.compile(r"(?<=\w)[-\u2010\u2011]\s*(?=\w)")
_SOFT_HYPHEN = "\u00ad"
_WORD = re.compile(r"\w+")
_CYRILLIC = re.compile(r"[а-я]")
# Latin letters that look Cyrillic, in a word that is Cyrillic otherwise (`Cофинансирование`
# with a Latin C); a Latin word (`summ`, `req_num`) is left as it is.
_LOOKALIKES = str.maketrans("aceopxy", "асеорху")
# A currency unit names no column: `Размер гранта, руб.` and `Размер гранта` are one header.
_UNIT_WORDS = frozenset({"руб", "рублей", "рубля", "рубль", "р"})


def header_words(value: Any) -> tuple[str, ...]:
    """A header's words, normalised: lower case, `ё` as `е`, hyphenation and line breaks
    undone, look-alike Latin letters in Cyrillic words folded, currency units dropped."""
    if value is None:
        return ()
    text = value if isinstance(value, str) else str(value)
    text = _WORD_HYPHEN.sub("", text.replace(_SOFT_HYPHEN, "")).lower().replace("ё", "е")
    words = []
    for word in _WORD.findall(text):  # `₽` is not a word character: it never gets here
        if _CYRILLIC.search(word):
            word = word.translate(_LOOKALIKES)
        if word not in _UNIT_WORDS:
            words.append(word)
    return tuple(words)


def header_key(value: Any) -> str:
    """`header_words` joined by single spaces: a header as one comparable string."""
    return " ".join(header_words(value))


def header_text(value: Any) -> str:
    """A header as written, on one line (for messages and the names of extra columns)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean_text(value) or ""


@dataclass(frozen=True)
class Column:
    """One column a loader reads: its field, how the source labels it, the words that find it.

    `words` holds alternatives; each is a tuple of stems that must all begin words of the
    header. `unless` holds stems any of which rules a header out.
    """

    field: str
    label: str
    words: tuple[tuple[str, ...], ...]
    unless: tuple[str, ...] = ()
    required: bool = True
    whole: bool = False  # stems must be whole words: machine names (`document` ≠ `document_date`)

    def score(self, words: Sequence[str]) -> tuple[int, int, int] | None:
        """How specifically this column names a header of these words; None if it does not.

        More stems matched first, then more of them whole words (`document` names the
        header `document` before `document_date`), then fewer other words in the header.
        """
        has = (lambda stem: stem in words) if self.whole else (lambda stem: _begins(words, stem))
        if not words or any(has(stem) for stem in self.unless):
            return None
        matched = [(len(alt), sum(stem in words for stem in alt)) for alt in self.words
                   if all(has(stem) for stem in alt)]
        if not matched:
            return None
        stems, whole = max(matched)
        return stems, whole, -len(words)


def column(field: str, label: str, *alternatives: str, unless: str = "",
           required: bool = True, whole: bool = False) -> Column:
    """A Column from plain text: each alternative is a space-separated list of stems.

    Stems are normalised like headers, so they may be written as the source writes them.
    """
    words = tuple(header_words(alt) for alt in alternatives)
    if not words or not all(words):
        raise ValueError(f"column {field!r}: every alternative needs a word")
    return Column(field, label, words, header_words(unless), required, whole)


def named_column(name: str, *, required: bool = True) -> Column:
    """A column of a file whose headers are machine names (`req_num`): the name, whole."""
    return column(name, name, name, required=required, whole=True)


def _begins(words: Iterable[str], stem: str) -> bool:
    return any(word.startswith(stem) for word in words)


def match_columns(headers: Sequence[Any], columns: Sequence[Column]) -> dict[str, int]:
    """field -> index of its header in `headers`; each header taken by one column at most."""
    return _match_words([header_words(h) for h in headers], columns, {})


def _match_words(words: Sequence[tuple[str, ...]], columns: Sequence[Column],
                 scores: dict[tuple[str, ...], list]) -> dict[str, int]:
    """`match_columns` over headers already reduced to their words; `scores` remembers each
    header's score per column across calls (a sheet repeats its cells' texts)."""
    candidates = []
    for index, header in enumerate(words):
        if not header:  # a blank cell names no column
            continue
        row_scores = scores.get(header)
        if row_scores is None:
            row_scores = scores[header] = [col.score(header) for col in columns]
        for order, score in enumerate(row_scores):
            if score is not None:
                candidates.append((score, -order, -index, columns[order].field, index))
    found: dict[str, int] = {}
    taken: set[int] = set()
    for *_, field, index in sorted(candidates, reverse=True):
        if field not in found and index not in taken:
            found[field] = index
            taken.add(index)
    return found


# Cell types whose value alone decides its words (a key for the memo of `find_header_row`).
_HASHABLE = frozenset({str, int, float, bool, date, datetime})


def find_header_row(rows: Sequence[Sequence[Any]], columns: Sequence[Column], *,
                    scan: int = 60, at_least: int = 3) -> tuple[int, dict[str, int]] | None:
    """(0-based index, columns) of the row among the first `scan` naming the most columns.

    Titles of any length sit above a header; a row naming fewer than `at_least`
    columns is not taken for one. None if no row qualifies.
    """
    best: tuple[int, dict[str, int]] | None = None
    # Each distinct cell is reduced to its words once, and scored once per column: titles
    # and headers repeat, and a wide sheet's first rows hold thousands of cells.
    words: dict[Any, tuple[str, ...]] = {}
    scores: dict[tuple[str, ...], list] = {}
    for index, row in enumerate(rows[:scan]):
        reduced = []
        for value in row:
            key = (value.__class__, value) if value.__class__ in _HASHABLE else None
            found_words = words.get(key) if key is not None else None
            if found_words is None:
                found_words = header_words(value)
                if key is not None:
                    words[key] = found_words
            reduced.append(found_words)
        found = _match_words(reduced, columns, scores)
        if len(found) >= at_least and (best is None or len(found) > len(best[1])):
            best = (index, found)
            if len(found) == len(columns):  # no row below can name more
                break
    return best


def require(found: dict[str, int], columns: Sequence[Column], headers: Sequence[Any],
            where: str, place: str = "") -> None:
    """Raise MissingColumnError for the first required column not found.

    The message names the column as the source labels it, the file (`where`), the
    place in it (`place`: a sheet and row) and every header found there.
    """
    for col in columns:
        if col.required and col.field not in found:
            seen = [header_text(h) for h in headers if header_text(h)]
            detail = f"{place}; " if place else ""
            raise MissingColumnError(col.label, where, f"{detail}headers found: {seen}")


def extra_columns(headers: Sequence[Any], found: dict[str, int]) -> dict[int, str]:
    """index -> name of every column with a header that no field took.

    The name is the header on one line; a header repeated among the extras gets its
    column number (`Примечание [18]`), so no value overwrites another.
    """
    taken = set(found.values())
    out: dict[int, str] = {}
    names: set[str] = set()
    for index, header in enumerate(headers):
        name = header_text(header)
        if index in taken or not name:
            continue
        if name in names:
            name = f"{name} [{index + 1}]"
        names.add(name)
        out[index] = name
    return out


def extra_value(value: Any) -> Any:
    """A cell of an extra column as JSON can hold it: text, a number, an ISO date; None if blank."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() \
            else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return clean_text(value)


def extra_values(row: Sequence[Any], extras: dict[int, str]) -> str | None:
    """The row's cells in the extra columns as a JSON object (name -> value); None if all blank."""
    values = {}
    for index, name in extras.items():
        value = extra_value(row[index]) if index < len(row) else None
        if value is not None and value != "":
            values[name] = value
    return extras_json(values)


def extras_json(values: dict[str, Any]) -> str | None:
    """Extra columns' values as the JSON text stored in a record's `extra_columns`."""
    return json.dumps(values, ensure_ascii=False) if values else None
