"""The operators of the presidential grants 2007–2013, and every way the sources name them.

Before the Presidential Grants Fund (2017) the grants went through a few operators named
in the President's yearly decrees. Each file names them its own way: the 2013 catalogue
`ИПГО`, `РСМ`, `ИСЭПИ`, `Общество Знание` (`scrapers.oprf2013` keeps them as written),
the allocation workbook `Общество "Знание России"`, `Фонд "Институт социально-
экономических и политических исследований"`, the 2007–2012 lists only by their file
names (`nbfond_2007.csv`). `OPERATORS` gives each operator a key and its full name;
`operator_key` maps any of those spellings to the key, so the lists, the allocations and
the 2013 file meet on one operator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Operator:
    key: str
    name: str  # the full name, as the operator's own documents give it
    short: str  # the abbreviation the sources use
    aliases: tuple[str, ...] = ()


OPERATORS: dict[str, Operator] = {op.key: op for op in (
    Operator("nbfond", "Национальный благотворительный фонд", "НБФ"),
    Operator("znanie", "Общество «Знание» России", "Знание",
             ("Общество Знание", "Общество \"Знание России\"", "Общество «Знание»",
              "Общество Знание России")),
    Operator("inop", "Институт общественного проектирования", "ИНОП"),
    Operator("inpgo", "Институт проблем гражданского общества", "ИНПГО", ("ИПГО",)),
    Operator("gosclub", "Государственный клуб", "Госклуб"),
    Operator("soprotivlenie", "Сопротивление", "Сопротивление"),
    Operator("ligazn", "Лига здоровья нации", "ЛЗН"),
    Operator("rsm", "Российский союз молодежи", "РСМ"),
    Operator("isepi", "Фонд «Институт социально-экономических и политических исследований»",
             "ИСЭПИ", ("Институт социально-экономических и политических исследований",)),
)}

_NOT_KEY = re.compile(r"[^0-9a-zа-я]+")


def name_key(text: str) -> str:
    """A spelling reduced for matching: lower case, `ё` as `е`, quotes and spacing gone."""
    return _NOT_KEY.sub(" ", text.lower().replace("ё", "е")).strip()


_BY_NAME: dict[str, str] = {
    name_key(spelling): op.key
    for op in OPERATORS.values()
    for spelling in (op.key, op.name, op.short, *op.aliases)
}


def operator_key(text: str | None) -> str | None:
    """The key of the operator a source's spelling names; None if no operator is known by it."""
    if text is None:
        return None
    return _BY_NAME.get(name_key(text))
