"""Russian words for the parsers of free text: pymorphy3 for morphology, razdel for sentences.

What a parser of figures needs from a word, whatever its case or number: the value of
a cardinal numeral («двух», «ста двадцати», «полутора», «пятерых»), the factor of a
scale word («тысяч», «миллиона», «десятка») and whether it names a number on its own,
a noun's lemma and gender, an adjective agreed with its noun in the nominative
(«пожилых людей» -> `пожилой человек`), and the lemmas a word may have (a month, a unit,
a verb of change). Which words matter for socfund — units, qualifiers, indicator nouns —
is the parsers' business, not this module's.

One `pymorphy3.MorphAnalyzer` is made on first use and kept: loading its dictionaries
takes a good part of a second. Each word's analysis is cached, since a page repeats its
words and a bulk parse reads thousands of pages in one process.

Only words of the dictionary are analysed. pymorphy3 would guess the analysis of any
other word from its ending, at some 200 µs a word against 5 µs to find that the
dictionary lacks it; a page of made-up words would then cost forty times more than it
does. So a word the dictionary lacks has no analysis (it is kept as printed), except a
hyphenated one whose last part the dictionary holds (`спортивно-игровых`, analysed as
`игровых` after the fixed `спортивно-`), and a caller may ask for the forms a lemma of
its own would have (`paradigm`). Numerals and scale words are looked up in tables
made once from their lexemes, so reading the numbers of a text analyses no word. A
"word" longer than `MAX_WORD` characters is no Russian word and is not analysed.

Lemmas and forms are compared as the parsers normalise text: lower case, `ё` as `е`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache

import pymorphy3
from pymorphy3.analyzer import Parse
from razdel import sentenize

MAX_WORD = 48

# The lemmas of the cardinal numerals and what they count. `один` is an adjective to
# pymorphy (ADJF Anum); every other one is a numeral (NUMR), collective ones included.
CARDINALS: dict[str, Decimal] = {
    lemma: Decimal(value) for lemma, value in (
        ("один", 1), ("два", 2), ("три", 3), ("четыре", 4), ("пять", 5), ("шесть", 6),
        ("семь", 7), ("восемь", 8), ("девять", 9), ("десять", 10), ("одиннадцать", 11),
        ("двенадцать", 12), ("тринадцать", 13), ("четырнадцать", 14), ("пятнадцать", 15),
        ("шестнадцать", 16), ("семнадцать", 17), ("восемнадцать", 18), ("девятнадцать", 19),
        ("двадцать", 20), ("тридцать", 30), ("сорок", 40), ("пятьдесят", 50),
        ("шестьдесят", 60), ("семьдесят", 70), ("восемьдесят", 80), ("девяносто", 90),
        ("сто", 100), ("двести", 200), ("триста", 300), ("четыреста", 400),
        ("пятьсот", 500), ("шестьсот", 600), ("семьсот", 700), ("восемьсот", 800),
        ("девятьсот", 900),
        ("двое", 2), ("трое", 3), ("четверо", 4), ("пятеро", 5), ("шестеро", 6),
        ("семеро", 7), ("восьмеро", 8), ("девятеро", 9), ("десятеро", 10),
        ("полтора", "1.5"),
    )
}
# Scale words by lemma. `тысяча`, `миллион`, `миллиард` name a number on their own in the
# singular; `десяток` and `сотня` only after a numeral («два десятка», «полторы сотни»).
SCALES: dict[str, Decimal] = {
    "тысяча": Decimal(1000), "миллион": Decimal(1_000_000),
    "миллиард": Decimal(1_000_000_000), "десяток": Decimal(10), "сотня": Decimal(100),
}
_ALONE_SCALES = frozenset({"тысяча", "миллион", "миллиард"})
# Abbreviations, read as the plural: never a number on their own.
SCALE_ABBREVIATIONS: dict[str, Decimal] = {
    "тыс": SCALES["тысяча"], "млн": SCALES["миллион"], "млрд": SCALES["миллиард"]}
# Whether a scale word names a number with no numeral before it.
NEVER, AFTER_QUALIFIER, ALONE = "never", "after qualifier", "alone"

_ADJECTIVES = frozenset({"ADJF", "PRTF"})
_NOMINAL = frozenset({"NOUN", "ADJF", "PRTF"})
_GENDERS = frozenset({"masc", "femn", "neut"})
PLURAL = "plur"  # the "gender" of a noun whose adjectives agree in the plural (СМИ, НКО)
_LAST_HYPHEN = re.compile(r"^(.+[-‑])([^-‑]+)$")


def normal(word: str) -> str:
    """A word as the parsers compare it: lower case, `ё` as `е`."""
    return word.lower().replace("ё", "е")


@lru_cache(maxsize=1)
def analyzer() -> pymorphy3.MorphAnalyzer:
    """The one analyzer of this process, loaded on first use."""
    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=65536)
def is_known(word: str) -> bool:
    """The dictionary holds the word (its analyses are not guessed from its ending)."""
    return bool(word) and len(word) <= MAX_WORD and analyzer().word_is_known(word)


@lru_cache(maxsize=65536)
def analysis(word: str) -> tuple[str, tuple[Parse, ...]]:
    """(a fixed prefix, the analyses of the rest): ('', parses) for a word of the
    dictionary, ('спортивно-', parses of `игровых`) for `спортивно-игровых`, ('', ())
    for any other word."""
    if not word or len(word) > MAX_WORD:
        return "", ()
    if is_known(word):
        return "", tuple(analyzer().parse(word))
    match = _LAST_HYPHEN.match(word)
    if match and is_known(match.group(2)):
        return match.group(1), tuple(analyzer().parse(match.group(2)))
    return "", ()


def parses(word: str) -> tuple[Parse, ...]:
    """Every analysis of a (normalised) word, most likely first; of its last part for a
    hyphenated word; none for a word the dictionary lacks."""
    return analysis(word)[1]


@lru_cache(maxsize=65536)
def lemmas(word: str) -> frozenset[str]:
    """Every lemma the word may be a form of, normalised: `марта` -> {март, марта}."""
    prefix, found = analysis(word)
    return frozenset(prefix + normal(p.normal_form) for p in found)


@lru_cache(maxsize=1)
def _cardinal_forms() -> dict[str, Decimal]:
    """Every form of every cardinal numeral (`двумястами` -> 200), from its lexeme.
    The plural of `один` («одни», «одних») means «only» or «some», not one."""
    out: dict[str, Decimal] = {}
    for lemma, value in CARDINALS.items():
        for parse in analyzer().parse(lemma):
            if normal(parse.normal_form) == lemma and (
                    parse.tag.POS == "NUMR" or (lemma == "один" and parse.tag.POS == "ADJF")):
                for form in parse.lexeme:
                    if "plur" not in form.tag:
                        out.setdefault(normal(form.word), value)
                break
    return out


@lru_cache(maxsize=1)
def _scale_forms() -> dict[str, tuple[Decimal, str]]:
    """Every form of every scale word, with its factor and when it names a number alone.

    A plural («тысячи людей», «тысяч», «миллионы») is vague and names no number; a
    singular does («тысяча участников», «миллион рублей»), and the genitive singular
    only after a qualifier («около тысячи»), since `тысячи` is also the plural.
    """
    tags: dict[str, list[tuple[str, str, str]]] = {}
    for lemma in SCALES:
        noun_parse = next(p for p in analyzer().parse(lemma)
                          if p.tag.POS == "NOUN" and normal(p.normal_form) == lemma)
        for form in noun_parse.lexeme:
            tags.setdefault(normal(form.word), []).append(
                (lemma, str(form.tag.number), str(form.tag.case)))
    out: dict[str, tuple[Decimal, str]] = {
        word: (factor, NEVER) for word, factor in SCALE_ABBREVIATIONS.items()}
    for word, forms in tags.items():
        lemma = forms[0][0]
        if lemma not in _ALONE_SCALES:
            alone = NEVER
        elif all(number == "sing" and case != "gent" for _, number, case in forms):
            alone = ALONE
        elif any(number == "sing" and case == "gent" for _, number, case in forms):
            alone = AFTER_QUALIFIER
        else:
            alone = NEVER
        out[word] = (SCALES[lemma], alone)
    return out


def cardinal(word: str) -> Decimal | None:
    """The value of a cardinal numeral in any case: `двумястами` -> 200, `полутора` -> 1.5."""
    return _cardinal_forms().get(word)


def scale(word: str) -> tuple[Decimal, str] | None:
    """A scale word's factor, and whether it names a number alone: `ALONE` in the
    singular, `AFTER_QUALIFIER` in the genitive singular, else `NEVER`."""
    return _scale_forms().get(word)


def _agrees(parse: Parse, count: Decimal | None) -> bool:
    """A noun's form can follow the count: a plural, an oblique singular (`2 клуба`,
    `в 1 районе`), or a nominative/accusative singular after a count ending in 1."""
    tag = parse.tag
    if tag.number != "sing" or tag.case not in ("nomn", "accs") or count is None:
        return True
    whole = int(count) if count == count.to_integral_value() else None
    return whole is not None and whole % 10 == 1 and whole % 100 != 11


def _gender(parse: Parse) -> str:
    gender = str(parse.tag.gender) if parse.tag.gender else None
    if gender not in _GENDERS or "Pltm" in parse.tag:
        return PLURAL
    return gender


@lru_cache(maxsize=65536)
def noun(word: str, count: Decimal | None = None,
         prefer: Callable[[str], bool] | None = None) -> tuple[str, str] | None:
    """(lemma, gender) of a noun, in the form that agrees with the count before it:
    `практик` after 100 is `практика` (genitive plural), not `практик` (a practitioner).
    Of forms that agree equally, one whose lemma `prefer` accepts wins (`кружков`:
    `кружок`, not `кружка`). Gender is `masc`, `femn`, `neut` or `PLURAL` (no
    singular, or common gender). None for a word that is no noun of the dictionary."""
    prefix, found = analysis(word)
    nouns = [p for p in found if p.tag.POS == "NOUN"]
    if not nouns:
        return None
    agreeing = [p for p in nouns if _agrees(p, count)] or nouns
    chosen = agreeing[0]
    if prefer is not None:
        chosen = next((p for p in agreeing if prefer(prefix + normal(p.normal_form))), chosen)
    return prefix + normal(chosen.normal_form), _gender(chosen)


@lru_cache(maxsize=1024)
def paradigm(lemma: str) -> dict[str, tuple[str, str]]:
    """Every form of a noun the caller names, as form -> (lemma, gender), for nouns the
    dictionary lacks: `благополучатель` -> {`благополучателей`: (`благополучатель`,
    `masc`), …}. Here pymorphy3 may guess, since the lemma is given, not read. An
    abbreviation it cannot analyse at all (`нко`) is its own only form, with plural
    agreement."""
    found = analyzer().parse(lemma) if 0 < len(lemma) <= MAX_WORD else []
    nouns = [p for p in found if p.tag.POS == "NOUN" and normal(p.normal_form) == lemma]
    if nouns:
        gender = _gender(nouns[0])
        return {normal(form.word): (lemma, gender) for form in nouns[0].lexeme}
    if found and all("UNKN" in p.tag for p in found):
        return {lemma: (lemma, PLURAL)}
    return {}


@lru_cache(maxsize=65536)
def is_adjective(word: str) -> bool:
    """The word's likeliest analysis is an adjective or a participle (`пожилых`,
    `обустроенных`), not a noun (`мероприятий`, `людей`), nor a short pronoun (`их`)."""
    found = parses(word)
    return len(word) > 3 and bool(found) and found[0].tag.POS in _ADJECTIVES


def is_nominal(word: str) -> bool:
    """The word may be a noun or an adjective, or the dictionary cannot tell: not only a
    verb, adverb or other part of speech («прошли», «вместе»)."""
    found = parses(word)
    return not found or any(p.tag.POS in _NOMINAL for p in found)


def _shared_prefix(a: str, b: str) -> int:
    size = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        size += 1
    return size


@lru_cache(maxsize=65536)
def adjective_lemma(word: str, gender: str) -> str:
    """An adjective in the nominative of its noun's gender: `пожилых` + masc -> `пожилой`,
    `спортивно-игровых` + femn -> `спортивно-игровая`, `лучших` + femn -> `лучшая`.

    Of the lexeme's forms with those grammemes, the one closest to the printed word is
    taken, so a superlative stays the word printed (`лучшая`, not `наихорошая`) and a
    participle stays a participle. A word with no such form is kept as printed.
    """
    prefix, found = analysis(word)
    candidates = [p for p in found if p.tag.POS in _ADJECTIVES]
    if not candidates:
        return word
    parse = candidates[0]
    wanted = {"plur", "nomn"} if gender == PLURAL else {gender, "sing", "nomn"}
    degree = {"Supr", "Cmp2"} & set(parse.tag.grammemes)
    forms = [f for f in parse.lexeme
             if f.tag.POS == parse.tag.POS and wanted <= f.tag.grammemes
             and degree == {"Supr", "Cmp2"} & set(f.tag.grammemes)
             and "inan" not in f.tag.grammemes and "anim" not in f.tag.grammemes]
    if not forms:
        return word
    rest = word[len(prefix):]
    best = max(forms, key=lambda f: _shared_prefix(normal(f.word), rest))
    return prefix + normal(best.word)


def sentences(text: str) -> list[str]:
    """The sentences of a text, as razdel reads them (it knows «г. Пермь», «т.д.»,
    initials and «тыс. руб.»)."""
    return [s.text for s in sentenize(text)]
