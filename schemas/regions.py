"""Matching a place name as sources write it to the region seeds.

The rule, identical in Python (`name_key`) and in the dbt macro `name_key`:

1. lower-case the text;
2. replace `ё` with `е` (after lower-casing, so `Ё` is caught too);
3. delete every character that is not a digit `0-9`, a Latin letter `a-z`
   or a Cyrillic letter `а-я` (U+0430–U+044F).

Step 3 removes every kind of white space (no-break and narrow spaces
included), every dash (`-`, `‐`, `–`, `—`), dots, brackets, slashes and
quotes, so `г. Санкт- Петербург`, `г.Санкт-Петербург` and hflabs' `г
Санкт-Петербург` share one key, as do `Республика Саха (Якутия)` and
`Респ Саха /Якутия/`, or `Челябинск ая область` and `Челябинская область`.
Letters are never dropped or reordered, so two subjects collide only if their
names differ in punctuation alone; `tests/test_regions_seed.py` checks that no
key in the seeds points to two regions. Variants that differ in words
(`обл.` for `область`, `X Республика` for `Республика X`, a missing `- Югра`)
are rows of `region_names.csv`, each with the source that writes it.

In DuckDB it is `NAME_KEY_SQL` (a test runs it beside `name_key` on every seed
name).
"""

from __future__ import annotations

import re

NAME_KEY_SQL = (
    "nullif(regexp_replace(replace(lower({expr}), 'ё', 'е'), '[^0-9a-zа-я]+', '', 'g'), '')"
)

_NOT_KEY = re.compile(r"[^0-9a-zа-я]+")


def name_key(text: str | None) -> str | None:
    """The matching key of a region or city name; None for empty text."""
    if text is None:
        return None
    key = _NOT_KEY.sub("", text.lower().replace("ё", "е"))
    return key or None
