"""The controlled list of indicators, and which counted noun means which indicator.

Two dbt seeds hold the vocabulary, so the warehouse and the parsers read the same
rows (SOURCES.md §5):

- `indicators.csv` — `indicator` (code), `unit`, `description` (Russian label),
  `source` (why the code is in the list). Codes that `schemas.curated` already
  uses (`participants`, `holidays`, `funds`, …) are spelled the same, so a figure
  read from a practice page and one typed from a presentation add up.
- `indicator_nouns.csv` — `noun_lemma`, `indicator`, `source`: the normalised
  counted noun (`клуб`, `пожилой человек`, `мероприятие по благоустройству`,
  or a verb of change such as `увеличиться` for percentages) and its code.

`lemma_key` is the matching key of a lemma, in the spirit of
`schemas.regions.name_key`: lower case, `ё` as `е`, and every run of characters
that is not a digit or a Latin or Cyrillic letter (spaces, hyphens, dots) made
one space, so `мастер-класс` and `мастер класс` match while words stay apart.
`indicator_for` answers `other` for a lemma the list does not know.

`QUALIFIERS` and `UNITS` are the rest of the vocabulary of a figure read from text:
the words before a number that say how exact it is, and the units it is counted in.
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path

from schemas.vocabularies import SEEDS_DIR

INDICATORS_CSV = SEEDS_DIR / "indicators.csv"
INDICATOR_NOUNS_CSV = SEEDS_DIR / "indicator_nouns.csv"
# The files this module reads at run time: a change to one re-parses the loads using it.
DATA_FILES: tuple[Path, ...] = (INDICATORS_CSV, INDICATOR_NOUNS_CSV)
OTHER = "other"

# Words before a number that say how exact it is, as the parser normalises them
# (lower case, `ё` as `е`). `от` is a lower bound («от 10 человек»); in a range
# («от 10 до 15») it belongs to the number, not to the qualifier.
QUALIFIERS = frozenset({
    "более", "более чем", "свыше", "больше", "почти", "около", "порядка", "примерно",
    "приблизительно", "не менее", "не более", "до", "от", "менее", "менее чем", "меньше",
})
# `человек` and `единиц` are spelled as in `schemas.vocabularies.funding.UNITS`; money is
# scaled to rubles once, by the parser.
UNITS = frozenset({"человек", "единиц", "%", "руб."})

_NOT_KEY = re.compile(r"[^0-9a-zа-я]+")
# A counted noun may be followed by a prepositional phrase that makes it another
# indicator («мероприятий по благоустройству», «сюжетов в СМИ»); without a listed
# phrase the noun before the preposition decides.
_PREPOSITIONS = frozenset({"по", "в", "во", "с", "со", "для", "из", "на", "о", "об", "от", "при"})


def lemma_key(text: str | None) -> str | None:
    """The matching key of a lemma: `Сюжет в  СМИ` -> `сюжет в сми`; None for empty text."""
    if text is None:
        return None
    key = _NOT_KEY.sub(" ", text.lower().replace("ё", "е")).strip()
    return key or None


def _read(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: required column(s) {missing} missing")
        rows = []
        for number, row in enumerate(reader, start=2):
            if any(not (row.get(c) or "").strip() for c in columns):
                raise ValueError(f"{path}: row {number}: an empty {columns} cell")
            rows.append({c: row[c].strip() for c in columns})
        return rows


@lru_cache(maxsize=1)
def controlled_indicators() -> dict[str, dict[str, str]]:
    """Code -> {unit, description, source}, in the seed's order."""
    out: dict[str, dict[str, str]] = {}
    for row in _read(INDICATORS_CSV, ("indicator", "unit", "description", "source")):
        code = row.pop("indicator")
        if code in out or code == OTHER:
            raise ValueError(f"{INDICATORS_CSV}: indicator {code!r} listed twice or reserved")
        out[code] = row
    return out


@lru_cache(maxsize=1)
def noun_indicators() -> dict[str, str]:
    """`lemma_key(noun_lemma)` -> indicator code; every code must be in the controlled list."""
    codes = controlled_indicators()
    out: dict[str, str] = {}
    for row in _read(INDICATOR_NOUNS_CSV, ("noun_lemma", "indicator", "source")):
        key = lemma_key(row["noun_lemma"])
        code = row["indicator"]
        if code not in codes:
            raise ValueError(f"{INDICATOR_NOUNS_CSV}: {row['noun_lemma']!r} -> unknown "
                             f"indicator {code!r}")
        if key in out and out[key] != code:
            raise ValueError(f"{INDICATOR_NOUNS_CSV}: {row['noun_lemma']!r} maps to both "
                             f"{out[key]!r} and {code!r}")
        out[key] = code
    return out


def known_indicator(code: str | None) -> bool:
    """A code of the controlled list, or `other`."""
    return code == OTHER or code in controlled_indicators()


def indicator_unit(code: str) -> str | None:
    """The unit the controlled list gives a code; None for `other` or an unknown code."""
    row = controlled_indicators().get(code)
    return row["unit"] if row else None


def is_listed_lemma(noun_lemma: str | None) -> bool:
    """The lemma, exactly, is a row of `indicator_nouns.csv`."""
    return lemma_key(noun_lemma) in noun_indicators()


def _candidates(key: str) -> list[str]:
    """The lemma, then without a trailing prepositional phrase, then without leading
    adjectives: `спортивно игровая площадка` -> `игровая площадка` -> `площадка`."""
    words = key.split(" ")
    heads = [words]
    for i, word in enumerate(words[1:], start=1):
        if word in _PREPOSITIONS:
            heads.append(words[:i])
            break
    out: list[str] = []
    for head in heads:
        for start in range(len(head)):
            candidate = " ".join(head[start:])
            if candidate not in out:
                out.append(candidate)
    return out


def indicator_for(noun_lemma: str | None) -> str:
    """The indicator a counted noun's lemma means; `other` when the list does not know it."""
    key = lemma_key(noun_lemma)
    if key is None:
        return OTHER
    table = noun_indicators()
    for candidate in _candidates(key):
        if candidate in table:
            return table[candidate]
    return OTHER
