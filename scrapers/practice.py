"""Best-practice news pages: the indicators a practice reports in its own words.

SOURCES.md §5. Regional practices are shared as news-like pages (АСИ «Смартека»
publishes many) whose results are sentences, not tables: «более 700 пожилых
людей», «339 клубов», «на 42% увеличилось», «в трёх районах», «1,5 млн рублей».
`parse_page` returns one record per number and the noun it counts. Fields:

`page_title`, `published_on`, `region_text` — from the page (heading, date
element, a region tag or meta element), the same on every record of the page;
`value` (Decimal; money scaled to rubles), `value_max` (a range's upper bound),
`value_text` (the number as printed, with its scale word, percent sign or
currency and a range's `от … до`), `qualifier` (`более`, `около`, …, lower
case), `noun` (the counted noun
as printed, adjectives and a listed prepositional phrase included; the
currency word for money; the verb or noun of change for «на 42% увеличилось»),
`noun_lemma`, `indicator`, `unit` (`человек`, `единиц`, `%`, `руб.`), `sentence`,
`_row` (order on the page).

Quirks, each handled where it happens below:

- digits grouped by spaces, no-break or narrow no-break spaces (`2 500`), a
  decimal comma (`1,5 млн`), and the seed 003 habit of a space after the
  decimal comma (`155, 990 тыс.руб.`), read as a decimal only when a scale or
  currency word follows (otherwise `3, 5` is a list);
- numbers in words, cardinals in every case up to the thousands and millions
  («двух тысяч», «трёх», «пятнадцать», «ста двадцати», «полтора», «тысяча»),
  and digits with a case ending (`3-х`, `5-ти`);
- ranges («от 10 до 15», `10–15`, «пять-шесть»): `value` is the LOWER bound
  (what the page at least claims, so sums are never inflated) and `value_max`
  the upper; «от 2 до 3 тысяч» scales both bounds;
- qualifiers before the number, or before a preposition in front of it
  («почти в 40 поселениях», «почти на 42%»);
- percentages: a change («на 42% увеличилось», «выросло на 30%») is
  `growth_percent` / `decline_percent` by the word of change; any other
  percentage («42% участников», «доля — 20%» with no noun) is `share_percent`;
- money («1,5 млн рублей», `30 тыс.руб.`, `₽`) in rubles, indicator `funds`;
- a part of a figure («85 праздников, из них 30 — в районах», «среди них более
  20», «в том числе 12»): a number with no noun of its own after «из них»,
  «среди них», «из которых», «в том числе» counts the noun of the figure «них»
  refers to — the last one before it in the sentence, or in the paragraph's
  previous sentence, preferring one not inside a prepositional phrase («в 3
  районах»). Its record has its own value, qualifier and sentence, and that
  figure's `noun`, `noun_lemma`, `indicator` and `unit`;
- skipped, never read as indicators: dates (`15.06.2023`, «15 марта»), years
  («2019 году», `2001-2004 гг.`, a year after a month), phone numbers, numbers
  inside URLs and e-mail addresses, numbers after `№`, numbers glued to a word
  (`COVID-19`, `Ст.4`), ordinals (`5-й`, «V конкурс»: Roman numerals and ordinal
  words are never read), compound adjectives (`5-летний`), a bare number with
  no noun after it, and vague words (`тысячи людей`, «десятки»), which name no
  number. A duration («за три года», «старше 80 лет») is no date: it is kept,
  as `other`.

Words are read with pymorphy3 (`scrapers.russian`). `noun_lemma` is lower case,
`ё` as `е`: the counted noun in the nominative singular, in the form that agrees
with its number («100 лучших практик» is `практика`, not `практик`), adjectives
agreed with it in gender, and a prepositional phrase kept only where
`indicator_nouns.csv` lists it. A word the dictionary does not hold is lemmatised
only when it is a form of a noun `indicator_nouns.csv` lists (`благополучателей`);
otherwise it is kept as printed (lower case): a wrong guess would be worse than an
honest unknown, and it maps to `other`. Sentences are razdel's.

`HOST` is a host of our own naming: the live pages (АСИ «Смартека» and regional
sites) and their URLs are unverified, so `PRACTICE_URLS` are the offline
addresses of our two illustrative pages in `samples/` (an invented practice,
marked as such on the page and in its title, so every record carries the mark).
The `.invalid` top-level domain never resolves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from bs4 import BeautifulSoup, CData, NavigableString, PageElement, Tag

from schemas.vocabularies.indicators import (
    OTHER,
    QUALIFIERS,
    indicator_for,
    indicator_unit,
    is_listed_lemma,
    noun_indicators,
)
from scrapers import fpg, russian
from scrapers.documents import html_soup, other_kind
from scrapers.values import clean_text, parse_date, set_converted

HOST = "practices.socfund.invalid"
BASE_URL = f"https://{HOST}"
PRACTICE_URLS = (
    f"{BASE_URL}/practices/klub-aktivnogo-dolgoletiya.html",
    f"{BASE_URL}/practices/dobrososedstvo-v-rayonakh.html",
)
PARSER_VERSION = "practice/2"  # 2: pymorphy3 lemmas, «из них»
# The most article text one page may have: reading indicators runs at some 300 000
# characters a second, and a practice page has a few thousand.
MAX_TEXT_CHARS = 500_000

MONEY_UNIT = "руб."
PERCENT_UNIT = "%"
COUNT_UNIT = "единиц"
MONEY_INDICATOR = "funds"
SHARE_INDICATOR = "share_percent"

# --- words around a number -------------------------------------------------------------------

# `3-х`, `5-ти`, `7-ми`, `2-ух`, `3-ех`: case endings written after digits.
_CARDINAL_SUFFIXES = frozenset({"х", "ти", "ми", "ух", "ех", "и", "ю", "ью"})
_PERCENT_ABBREVIATIONS = frozenset({"проц"})
_CURRENCY_ABBREVIATIONS = frozenset({"руб", "р", "₽"})
_MONTHS: dict[str, int] = {month: number for number, month in enumerate(
    ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь",
     "октябрь", "ноябрь", "декабрь"), start=1)}
_YEAR_ABBREVIATIONS = frozenset({"г", "гг"})
# Words that cannot be a counted noun right after a number: «в 2019 и 2020», «3 из 5»,
# «нет» in a table row, fractions («две трети») that would misread the numeral.
_NOT_NOUNS = frozenset({
    "и", "или", "а", "но", "в", "во", "на", "из", "до", "по", "с", "со", "от", "за", "к", "ко",
    "для", "при", "без", "о", "об", "у", "то", "же", "ли", "не", "ни", "что", "как", "это",
    "чем", "нет", "да", "тоже", "также", "уже", "еще", "ещё", "лишь", "только", "всего",
    "трети", "треть", "третей", "четверти", "четверть", "половина", "половины",
    "раза", "раз", "часть", "части",
})
_DASHES = frozenset({"-", "–", "—", "‑"})
_QUALIFIED_PREPOSITIONS = frozenset({"в", "во", "на", "из", "по", "для"})
_PHRASE_PREPOSITIONS = frozenset({"в", "во", "на", "из", "по", "для", "с", "со", "о", "об",
                                  "к", "ко", "при", "у", "за", "без", "под", "над", "между",
                                  "через", "среди", "после", "перед"})
# Words of change a percentage modifies («на 42% увеличилось», «выросло на 30%»), by
# lemma; `больше` and `меньше` as printed (pymorphy's lemma is `большой`).
_CHANGE_LEMMAS = frozenset({
    "увеличиться", "увеличить", "вырасти", "возрасти", "повыситься", "снизиться", "снизить",
    "сократиться", "сократить", "уменьшиться", "рост", "увеличение", "снижение",
    "сокращение", "уменьшение",
})
_CHANGE_AS_PRINTED = frozenset({"больше", "меньше"})
# Words before a number that make it a part of the figure before them: «85 праздников,
# из них 30 — в районах». Token texts, lower case (`в т.ч.` is five tokens).
_PART_OF = (("из", "них"), ("среди", "них"), ("из", "которых"), ("среди", "которых"),
            ("в", "том", "числе"), ("в", "т", ".", "ч", "."))


def _cardinal(word: str | None) -> Decimal | None:
    """A cardinal numeral's value. `семью` is far more often «семью» (a family) than
    «seven», so it is never read as a number."""
    if word is None or word == "семью":
        return None
    return russian.cardinal(word)


def _place(value: Decimal) -> int:
    """3 for hundreds, 2 for tens, 1 for units and teens: «ста двадцати пяти» is read
    in falling places, «двадцать сто» is two numbers."""
    return 3 if value >= 100 else 2 if value >= 20 else 1


def _scale(word: str | None) -> tuple[Decimal, str] | None:
    return russian.scale(word) if word is not None else None


def _is_percent_word(word: str | None) -> bool:
    return word is not None and (
        word in _PERCENT_ABBREVIATIONS or "процент" in russian.lemmas(word))


def _is_currency_word(word: str | None) -> bool:
    return word is not None and (
        word in _CURRENCY_ABBREVIATIONS or "рубль" in russian.lemmas(word))


@lru_cache(maxsize=4096)
def _month(word: str | None) -> int | None:
    """The month a word names in any case («марта», «в июне»), else None."""
    if word is None:
        return None
    for lemma in russian.lemmas(word):
        if lemma in _MONTHS:
            return _MONTHS[lemma]
    return None


def _is_year_word(word: str | None) -> bool:
    """«году», «гг.»; not «лет», which counts years («старше 80 лет») and dates none."""
    return word is not None and (word in _YEAR_ABBREVIATIONS or (
        word != "лет" and "год" in russian.lemmas(word)))


def _change_lemma(word: str | None) -> str | None:
    if word is None:
        return None
    if word in _CHANGE_AS_PRINTED:
        return word
    found = sorted(russian.lemmas(word) & _CHANGE_LEMMAS)
    return found[0] if found else None


_normal = russian.normal


# --- tokens of a sentence --------------------------------------------------------------------

# ASCII digits only: `²` in «м²» is a character, not a number.
_TOKEN = re.compile(r"[0-9]+|[A-Za-zА-Яа-яЁё]+(?:[-‑][A-Za-zА-Яа-яЁё]+)*|\S")
_CYRILLIC = re.compile(r"[А-Яа-яЁё]")
# Spans whose digits are never figures.
_MASKS = (
    re.compile(r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:ru|su|com|org|net|invalid|рф)\b\S*",
               re.IGNORECASE),
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    # +7 (342) 123-45-67, 8 800 000 00 00, 8-800-000-00-00, and a local 212-34-56.
    re.compile(r"(?:\+7|(?<!\d)8)[\s(‑-]*\d{3,5}[\s)‑-]*\d{1,3}[\s‑-]*\d{2}[\s‑-]*\d{2}(?!\d)"),
    re.compile(r"(?<![\d-])\d{2,3}-\d{2}-\d{2}(?![\d-])"),
    re.compile(r"(?<![\d.])\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2})(?![\d])"),  # 15.06.2023, 06.11.04
    re.compile(r"(?<!\d)\d{1,2}:\d{2}(?!\d)"),  # 10:00
)


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int
    masked: bool

    @property
    def word(self) -> str:
        return _normal(self.text)

    @property
    def is_digits(self) -> bool:
        return self.text.isascii() and self.text.isdigit()

    @property
    def is_word(self) -> bool:
        return self.text[0].isalpha()


def _tokens(sentence: str) -> list[_Token]:
    masked = [m.span() for pattern in _MASKS for m in pattern.finditer(sentence)]
    return [
        _Token(m.group(), m.start(), m.end(), any(a <= m.start() < b for a, b in masked))
        for m in _TOKEN.finditer(sentence)
    ]


# --- one number ------------------------------------------------------------------------------


@dataclass
class _Number:
    value: Decimal
    base: Decimal          # the value before its scale word (2 in «2 тысячи»)
    scale: Decimal | None  # the scale word's factor, if one was read
    first: int            # token indexes, inclusive
    last: int
    suffix: bool = False  # digits with a case ending: `3-х`


class _Sentence:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokens(text)

    def __len__(self) -> int:
        return len(self.tokens)

    def gap(self, i: int) -> str:
        """The characters between token i-1 and token i ('' when they touch)."""
        if i <= 0 or i >= len(self.tokens):
            return " "
        return self.text[self.tokens[i - 1].end:self.tokens[i].start]

    def word(self, i: int) -> str | None:
        if 0 <= i < len(self.tokens) and self.tokens[i].is_word:
            return self.tokens[i].word
        return None

    def spaced(self, i: int) -> bool:
        """Token i follows the previous one after white space only."""
        return self.gap(i).isspace()

    def touches(self, i: int) -> bool:
        return 0 < i < len(self.tokens) and self.gap(i) == ""

    def span(self, first: int, last: int) -> str:
        return self.text[self.tokens[first].start:self.tokens[last].end]

    # numbers ---------------------------------------------------------------------------------

    def number_at(self, i: int, *, qualified: bool) -> _Number | None:
        if i >= len(self.tokens) or self.tokens[i].masked:
            return None
        token = self.tokens[i]
        if token.is_digits:
            return self._digits_at(i)
        if token.is_word and (_cardinal(token.word) is not None or _scale(token.word)):
            # «ни одной заявки» is none at all
            if self.word(i - 1) == "ни":
                return None
            return self._words_at(i, qualified=qualified)
        return None

    def _digits_at(self, i: int) -> _Number | None:
        tokens = self.tokens
        digits = tokens[i].text
        j = i
        # `2 500`, `269 000`: groups of three after white space (no-break and narrow
        # no-break spaces are white space once the text is cleaned).
        if len(digits) <= 3:
            while (j + 1 < len(tokens) and tokens[j + 1].is_digits and len(tokens[j + 1].text) == 3
                   and self.gap(j + 1) == " " and not tokens[j + 1].masked):
                digits += tokens[j + 1].text
                j += 1
        fraction = ""
        if (j + 2 < len(tokens) and tokens[j + 1].text in ",." and self.touches(j + 1)
                and tokens[j + 2].is_digits and self.touches(j + 2)):
            fraction = tokens[j + 2].text
            j += 2
        elif (j + 3 < len(tokens) and tokens[j + 1].text == "," and self.touches(j + 1)
              and tokens[j + 2].is_digits and self.gap(j + 2) == " "
              and self._scale_or_currency(j + 3)):
            # Seed 003 prints `155, 990 тыс.руб.` and `20, 0 тыс.руб.`: a space after the
            # decimal comma. Only a scale or currency word after it makes it a decimal.
            fraction = tokens[j + 2].text
            j += 2
        # `3-х`, `5-ти` are cardinals with a case ending; `5-й`, `3-го` are ordinals and
        # `5-летний` an adjective: neither is a count.
        if (j + 2 < len(tokens) and tokens[j + 1].text in _DASHES and self.touches(j + 1)
                and tokens[j + 2].is_word and self.touches(j + 2)):
            if tokens[j + 2].word not in _CARDINAL_SUFFIXES:
                return None
            j += 2
        base = Decimal(f"{digits}.{fraction}" if fraction else digits)
        return self._scaled(_Number(base, base, None, i, j, suffix=j > i and
                                    tokens[j].is_word))

    def _scale_or_currency(self, i: int) -> bool:
        word = self.word(i)
        return _scale(word) is not None or _is_currency_word(word)

    def _scaled(self, number: _Number) -> _Number:
        """A scale word after a number: `2 тысячи`, `1,5 млн`, `30 тыс.` (with its dot)."""
        k = number.last + 1
        word = self.word(k)
        scale = _scale(word)
        if scale is not None and self.spaced(k) and not self.tokens[k].masked:
            number.scale = scale[0]
            number.value = number.base * number.scale
            number.last = k
            if word in russian.SCALE_ABBREVIATIONS and self.is_dot(k + 1):
                number.last = k + 1
        return number

    def is_dot(self, i: int) -> bool:
        return i < len(self.tokens) and self.tokens[i].text == "." and self.touches(i)

    def _words_at(self, i: int, *, qualified: bool) -> _Number | None:
        """«двух тысяч», «ста двадцати пяти», «полтора миллиона», «тысяча», «около тысячи»."""
        total = Decimal(0)
        group = Decimal(0)
        in_group = False
        last_place = 4
        last_scale: Decimal | None = None
        first_scale: Decimal | None = None
        j = i
        end = i - 1
        while j < len(self.tokens):
            if j > i and not self.spaced(j):
                break
            word = self.word(j)
            value = _cardinal(word)
            scale = _scale(word) if value is None else None
            if value is not None:
                place = _place(value)
                # «полтора» stands alone in its group: «двадцать полтора» is no number.
                if place >= last_place or (value == Decimal("1.5") and in_group):
                    break
                group += value
                in_group = True
                last_place = place if value != Decimal("1.5") else 0
            elif scale is not None:
                factor, alone = scale
                if last_scale is not None and factor >= last_scale:
                    break
                if not in_group:
                    bare = alone == russian.ALONE or (
                        qualified and alone == russian.AFTER_QUALIFIER)
                    if j != i or not bare:
                        return None
                    group = Decimal(1)
                total += group * factor
                first_scale = first_scale or factor
                group, in_group, last_place, last_scale = Decimal(0), False, 4, factor
                if word in russian.SCALE_ABBREVIATIONS and self.is_dot(j + 1):
                    j += 1
            else:
                break
            end = j
            j += 1
        if end < i:
            return None
        value = total + group
        base = value / first_scale if first_scale else value
        return _Number(value, base, first_scale, i, end)

    def word_range_at(self, i: int) -> tuple[_Number, _Number] | None:
        """«пять-шесть», «двух-трёх»: one hyphenated token of two numerals."""
        token = self.tokens[i]
        if not token.is_word or token.masked:
            return None
        parts = re.split(r"[-‑]", token.word)
        if len(parts) != 2:
            return None
        low, high = (_cardinal(p) for p in parts)
        if low is None or high is None:
            return None
        return (_Number(low, low, None, i, i), self._scaled(_Number(high, high, None, i, i)))


# --- one indicator ---------------------------------------------------------------------------


@dataclass
class _Found:
    low: _Number
    high: _Number | None
    first: int   # first token of the number as printed (a range's «от» included)
    last: int    # last token of the number, its scale word, percent sign or currency
    unit: str | None = None
    currency: int | None = None  # token index of the currency word


def _skip_qualifier_words(s: _Sentence, i: int) -> tuple[str | None, int]:
    """The qualifier ending just before token i, and the index of its first token."""
    for size in (2, 1):
        if i - size < 0:
            continue
        words = [s.word(k) for k in range(i - size, i)]
        if None in words or not all(s.spaced(k) for k in range(i - size + 1, i + 1)):
            continue
        phrase = " ".join(words)  # type: ignore[arg-type]
        if phrase in QUALIFIERS:
            return phrase, i - size
    return None, i


def _find_number(s: _Sentence, i: int) -> _Found | None:
    """The number starting at token i with its range, scale, percent sign or currency."""
    token = s.tokens[i]
    if token.masked:
        return None
    before = s.tokens[i - 1] if i > 0 else None
    # Glued to what precedes: `COVID-19`, `Ст.4`, `№103`; and `№ 5`.
    if before is not None and (
        (s.touches(i) and (before.is_word or before.text in {".", "/", "№", "#", "+", "_"}
                           or before.text in _DASHES))
        or before.text in {"№", "N"}
    ):
        return None
    qualifier, _ = _skip_qualifier_words(s, i)
    pair = s.word_range_at(i)
    if pair is not None:
        low, high = pair
        found = _Found(low, high, i, high.last)
    else:
        low = s.number_at(i, qualified=qualifier is not None)
        if low is None:
            return None
        found = _Found(low, None, i, low.last)
        k = low.last + 1
        # `10–15`, `10 - 15`; «от 10 до 15»
        if k < len(s) and s.tokens[k].text in _DASHES and not s.tokens[k].masked:
            high = s.number_at(k + 1, qualified=False)
            if high is not None and s.tokens[k + 1].is_digits == s.tokens[i].is_digits:
                found.high, found.last = high, high.last
        elif s.word(k) == "до" and s.word(i - 1) == "от" and s.spaced(k):
            high = s.number_at(k + 1, qualified=False)
            if high is not None:
                found.high, found.first, found.last = high, i - 1, high.last
    if found.high is not None:
        _scale_lower_bound(found)
    _read_unit(s, found)
    return found


def _scale_lower_bound(found: _Found) -> None:
    """«от 2 до 3 тысяч» is 2 000–3 000; «от 500 до 2 тысяч» stays 500–2 000."""
    low, high = found.low, found.high
    assert high is not None
    if low.scale is None and high.scale is not None and low.base <= high.base:
        low.value = low.base * high.scale
        low.scale = high.scale
    if high.value < low.value:
        found.high = None  # `2019-2020` read as a range of counts would be nonsense
        found.last = low.last


def _read_unit(s: _Sentence, found: _Found) -> None:
    k = found.last + 1
    if k >= len(s):
        return
    token = s.tokens[k]
    word = s.word(k)
    if token.text == "%" and (s.touches(k) or s.spaced(k)):
        found.unit, found.last = PERCENT_UNIT, k
    elif _is_percent_word(word) and s.spaced(k):
        found.unit, found.last = PERCENT_UNIT, k + (1 if word == "проц" and s.is_dot(k + 1) else 0)
    elif (token.text in _CURRENCY_ABBREVIATIONS or _is_currency_word(word)) and (
            s.spaced(k) or (s.touches(k) and s.tokens[k - 1].text == ".")
            or (s.touches(k) and token.text == "₽")):
        found.unit, found.currency, found.last = MONEY_UNIT, k, k
        if word in {"руб", "р"} and s.is_dot(k + 1):
            found.last = k + 1


@dataclass
class _Noun:
    text: str
    lemma: str
    last: int
    nominal: bool = True  # a noun or adjective, not a verb («из них 30 прошли …»)


@lru_cache(maxsize=1)
def _listed_forms() -> dict[str, tuple[str, str]]:
    """The forms of the listed nouns the dictionary lacks (`благополучателей`, `нко`)."""
    out: dict[str, tuple[str, str]] = {}
    for key in noun_indicators():
        for word in key.split(" "):
            if not russian.is_known(word):
                out.update(russian.paradigm(word))
    return out


def _head_lemma(s: _Sentence, words: list[int], count: Decimal | None) -> list[str]:
    """The lemma of each word of a phrase of adjectives and the noun they qualify."""
    printed = [s.tokens[w].word for w in words]
    head = printed[-1]
    if russian.is_adjective(head):  # «700 пожилых»: the adjective is the noun
        return [russian.adjective_lemma(w, "masc") for w in printed]
    found = russian.noun(head, count, is_listed_lemma) or _listed_forms().get(head)
    if found is None:
        return printed  # a noun we do not know: its phrase as printed, not a guess
    lemma_of_head, gender = found
    return [*(russian.adjective_lemma(w, gender) for w in printed[:-1]), lemma_of_head]


def _noun_phrase(s: _Sentence, k: int, count: Decimal | None = None) -> _Noun | None:
    """Adjectives and the counted noun from token k: «пожилых людей», «сюжета в СМИ»."""
    words: list[int] = []
    j = k
    while j < len(s) and len(words) < 4 and s.spaced(j):
        word = s.word(j)
        if (word is None or not _CYRILLIC.search(word) or word in _NOT_NOUNS
                or _cardinal(word) is not None or _scale(word) is not None):
            break  # «2019 семь …» counts no «семь»
        words.append(j)
        if not russian.is_adjective(word):
            break
        j += 1
    if not words:
        return None
    lemma_words = _head_lemma(s, words, count)
    lemma = " ".join(lemma_words)
    last = words[-1]
    # A listed prepositional phrase: «мероприятий по благоустройству», «сюжета в СМИ».
    for size in (3, 2, 1):
        tail = list(range(last + 1, last + 2 + size))
        if tail[-1] >= len(s) or not all(s.spaced(t) and s.word(t) for t in tail):
            continue
        phrase = lemma + " " + " ".join(s.tokens[t].word for t in tail)
        if is_listed_lemma(phrase):
            lemma, last = phrase, tail[-1]
            break
    return _Noun(s.span(words[0], last), lemma, last,
                 russian.is_nominal(s.tokens[words[-1]].word))


def _change_word(s: _Sentence, found: _Found) -> _Noun | None:
    """The word of change a percentage modifies: after it, or before its «на»."""
    k = found.last + 1
    word = s.word(k)
    lemma = _change_lemma(word)
    if lemma is not None and s.spaced(k):
        return _Noun(s.tokens[k].text, lemma, k)
    j = found.first - 1
    _, j_start = _skip_qualifier_words(s, j + 1)
    j = j_start - 1
    if s.word(j) == "на":
        _, before = _skip_qualifier_words(s, j)
        word = s.word(before - 1)
        lemma = _change_lemma(word)
        if lemma is not None:
            return _Noun(s.tokens[before - 1].text, lemma, found.last)
    return None


def _qualifier(s: _Sentence, found: _Found) -> str | None:
    """`более`, `не менее`, …, also before a preposition: «почти в 40 поселениях»,
    «почти на 42%», «более чем в 20 регионах»."""
    qualifier, _ = _skip_qualifier_words(s, found.first)
    if qualifier is None and s.word(found.first - 1) in _QUALIFIED_PREPOSITIONS:
        qualifier, _ = _skip_qualifier_words(s, found.first - 1)
    return qualifier


def _is_year(s: _Sentence, found: _Found, noun: _Noun | None) -> bool:
    """«2019 году», `2001-2004 гг.`, «в 90-х годах», «в июне 2023»."""
    value = found.low.value
    first = s.tokens[found.first]
    year_like = first.is_digits and len(first.text) == 4 and 1900 <= value <= 2100
    after = s.word(found.last + 1)
    if _is_year_word(after):
        return year_like or found.low.suffix
    if year_like and _month(s.word(found.first - 1)) is not None:
        return True
    return noun is not None and noun.lemma == "год" and year_like


def _indicator(found: _Found, noun: _Noun | None) -> tuple[str, str]:
    """(indicator, unit). An indicator must fit the unit, else it is `other`/`share_percent`."""
    if found.unit == MONEY_UNIT:
        return MONEY_INDICATOR, MONEY_UNIT
    code = indicator_for(noun.lemma if noun else None)
    if found.unit == PERCENT_UNIT:
        if indicator_unit(code) != PERCENT_UNIT:
            code = SHARE_INDICATOR
        return code, PERCENT_UNIT
    unit = indicator_unit(code)
    if unit in (PERCENT_UNIT, MONEY_UNIT) or unit is None:
        return OTHER, COUNT_UNIT
    return code, unit


def _value(number: Decimal) -> Decimal:
    """1.5 × 10⁶ is 1500000, not 1500000.0; a real fraction stays (42,5%)."""
    if number == number.to_integral_value():
        return Decimal(int(number))
    return number.normalize()


@dataclass(frozen=True)
class _Figure:
    """A counted figure of a sentence, which a later «из них» may refer to."""
    noun: str | None
    noun_lemma: str | None
    indicator: str
    unit: str
    in_phrase: bool  # after a preposition: «в 3 районах» is where, not what, was counted


def _part_of(s: _Sentence, found: _Found) -> bool:
    """«из них 30», «среди них более 20», «в том числе 12»: the number is a part of a
    figure before it."""
    _, start = _skip_qualifier_words(s, found.first)
    for marker in _PART_OF:
        first = start - len(marker)
        if first >= 0 and all(_normal(s.tokens[first + n].text) == word
                               for n, word in enumerate(marker)):
            return True
    return False


def _referent(figures: Sequence[_Figure]) -> _Figure | None:
    """The figure «них» refers to: the last one not inside a prepositional phrase
    («339 клубов в 3 районах, из них 30» are clubs), else the last one."""
    for figure in reversed(figures):
        if not figure.in_phrase:
            return figure
    return figures[-1] if figures else None


def _in_phrase(s: _Sentence, found: _Found) -> bool:
    _, start = _skip_qualifier_words(s, found.first)
    return s.word(start - 1) in _PHRASE_PREPOSITIONS


def _record(s: _Sentence, found: _Found,
            referent: _Figure | None) -> tuple[dict, int] | None:
    """The record for the number found, and the last token it used; None to skip it.
    `referent` is the figure a number after «из них» with no noun of its own counts."""
    noun: _Noun | None
    if found.unit == MONEY_UNIT:
        assert found.currency is not None
        currency = s.tokens[found.currency]
        noun = _Noun(s.span(found.currency, found.last) if currency.text != "₽" else "₽",
                     "рубль", found.last)
    elif found.unit == PERCENT_UNIT:
        noun = _change_word(s, found) or _noun_phrase(s, found.last + 1, found.low.value)
    else:
        noun = _noun_phrase(s, found.last + 1, found.low.value)
        after = s.word(found.last + 1)
        if _month(after) is not None:  # «15 марта»
            return None
    if _is_year(s, found, noun):
        return None
    record = {
        "value": _value(found.low.value),
        "value_max": _value(found.high.value) if found.high else None,
        "value_text": s.span(found.first, found.last),
        "qualifier": _qualifier(s, found),
    }
    if (found.unit is None and referent is not None and (noun is None or not noun.nominal)
            and _part_of(s, found)):
        record.update(noun=referent.noun, noun_lemma=referent.noun_lemma,
                      indicator=referent.indicator, unit=referent.unit, sentence=s.text)
        return record, found.last
    if noun is None and found.unit != PERCENT_UNIT:
        return None  # a bare number counts nothing we can name
    indicator, unit = _indicator(found, noun)
    record.update(noun=noun.text if noun else None, noun_lemma=noun.lemma if noun else None,
                  indicator=indicator, unit=unit, sentence=s.text)
    used = max(found.last, noun.last if noun else found.last)
    return record, used


def _sentence_indicators(sentence: str, before: Sequence[_Figure] = ()
                         ) -> tuple[list[dict], list[_Figure]]:
    """The indicators of one sentence, and its figures «из них» may refer to; `before`
    are those of the paragraph's previous sentence."""
    s = _Sentence(clean_text(sentence) or "")
    out: list[dict] = []
    figures: list[_Figure] = []
    i = 0
    while i < len(s):
        token = s.tokens[i]
        starts = token.is_digits or (token.is_word and (
            _cardinal(token.word) is not None or _scale(token.word) is not None
            or s.word_range_at(i) is not None))
        found = _find_number(s, i) if starts else None
        if found is None:
            i += 1
            continue
        result = _record(s, found, _referent(figures or before))
        if result is None:
            i = found.last + 1
            continue
        record, used = result
        out.append(record)
        if record["unit"] != PERCENT_UNIT:
            figures.append(_Figure(record["noun"], record["noun_lemma"], record["indicator"],
                                   record["unit"], _in_phrase(s, found)))
        i = used + 1
    return out, figures


def indicators_in_sentence(sentence: str) -> list[dict]:
    """Every number–noun indicator of one sentence, in order (no page fields, no `_row`)."""
    return _sentence_indicators(sentence)[0]


# --- sentences -------------------------------------------------------------------------------


def sentences(paragraph: str) -> list[str]:
    """A paragraph's sentences, as razdel splits them. In plain text (a slide table copied
    as text, seed 003) a tab separates cells, and each cell is read apart: the row
    `1999 ⇥ 3 ⇥ 262` holds no `3 262`."""
    out: list[str] = []
    for cell in paragraph.split("\t"):
        text = clean_text(cell)
        if text:
            out.extend(russian.sentences(text))
    return out


def extract_indicators(paragraphs: Iterable[str]) -> list[dict]:
    """Every indicator of some paragraphs of text, in order (no page fields, no `_row`)."""
    out: list[dict] = []
    for paragraph in paragraphs:
        figures: list[_Figure] = []
        for sentence in sentences(paragraph):
            records, figures = _sentence_indicators(sentence, figures)
            out.extend(records)
    return out


# --- the page --------------------------------------------------------------------------------

_BREAK = "\u2029"  # PARAGRAPH SEPARATOR: a mark no page text is made of
_BLOCKS = ("p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th",
           "table", "blockquote", "section", "article", "dd", "dt", "dl", "figcaption",
           "figure", "header", "footer", "main", "aside", "nav", "time", "pre")
_NOT_TEXT = ("script", "style", "noscript", "template", "svg", "iframe", "form", "button",
             "nav", "header", "footer", "aside", "select")
_TEXT_STRINGS = (NavigableString, CData)
_BODY_SELECTORS = ("[itemprop=articleBody]", "article", "main", ".content", "body")
_REGION_WORDS = re.compile(
    r"(?:област|кра[йя]|республик|округ|^г\.?\s*(?:москва|санкт|севастополь)|^москва$"
    r"|^санкт-петербург$|^севастополь$)",
    re.IGNORECASE,
)
_TEXT_DATE = re.compile(r"(\d{1,2})\s+([а-яё]+)\s+(\d{4})", re.IGNORECASE)
_DMY = re.compile(r"\d{1,2}\.\d{1,2}\.\d{4}")


def soup_of(body: bytes, where: str, what: str) -> BeautifulSoup:
    """The page, or a ValueError saying why it is none: empty, binary, oversized, nested
    past reading, or in no encoding we can tell (`scrapers.documents`)."""
    return html_soup(body, where, what)


def text_blocks(container: Tag, *, drop: str | None = None) -> list[str]:
    """The paragraphs of text in `container`, page furniture and scripts left out,
    and the elements the CSS selector `drop` names.

    Block elements and `<br>` end a paragraph; inline ones do not («<b>339</b>
    клубов» is one phrase), nor does a line break in the HTML source, which is
    only white space. One walk with a stack of its own, not recursion and not edits
    to a copy of the tree: the time is the page's size whatever its depth.
    """
    dropped = {id(tag) for tag in container.select(drop)} if drop else set()
    if drop and container.parent is not None and container.css.match(drop):
        return []
    pieces: list[str] = []
    # (node, True) marks where a block element ends.
    stack: list[tuple[PageElement, bool]] = [(container, False)]
    while stack:
        node, end = stack.pop()
        if end:
            pieces.append(_BREAK)
        elif isinstance(node, NavigableString):
            # Text and CDATA; not comments, doctypes or processing instructions.
            if type(node) in _TEXT_STRINGS:
                pieces.append(node)
        elif isinstance(node, Tag) and node.name not in _NOT_TEXT and id(node) not in dropped:
            if node.name == "br":
                pieces.append(_BREAK)
                continue
            if node.name in _BLOCKS:
                pieces.append(_BREAK)
                stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))
    # In HTML a tab is white space like any other (indentation), never a cell.
    return [p for p in (clean_text(p) for p in "".join(pieces).split(_BREAK)) if p]


def article_text(container: Tag, where: str) -> list[str]:
    """The paragraphs of an article (its `h1`, the page's title, left out), refusing
    (ValueError) one with no text or with more than the indicator reader takes."""
    paragraphs = text_blocks(container, drop="h1")
    if not paragraphs:
        raise ValueError(f"{where}: no article text, not a page of text to read "
                         f"indicators from")
    check_text_size(paragraphs, where)
    return paragraphs


def check_text_size(paragraphs: Iterable[str], where: str) -> None:
    """Refuse (ValueError) more text than the indicator reader takes from one page."""
    size = sum(map(len, paragraphs))
    if size > MAX_TEXT_CHARS:
        raise ValueError(f"{where}: {size:_} characters of text, more than the "
                         f"{MAX_TEXT_CHARS:_} the indicator reader takes from one page"
                         .replace("_", " "))


def _body(soup: BeautifulSoup) -> Tag:
    for selector in _BODY_SELECTORS:
        found = soup.select_one(selector)
        if found is not None:
            return found
    return soup


def _title(soup: BeautifulSoup, body: Tag) -> str | None:
    heading = body.find("h1") or soup.find("h1")
    if heading is not None and clean_text(heading.get_text(" ")):
        return clean_text(heading.get_text(" "))
    meta = soup.find("meta", attrs={"property": "og:title"})
    if meta is not None and clean_text(meta.get("content")):
        return clean_text(meta.get("content"))
    return clean_text(soup.title.get_text(" ")) if soup.title else None


def _text_date(text: str) -> date | None:
    """«15 марта 2023» or «15 марта 2023 г.»."""
    match = _TEXT_DATE.search(text)
    month = _month(_normal(match.group(2))) if match else None
    if match is None or month is None:
        return None
    return date(int(match.group(3)), month, int(match.group(1)))


def _published_raw(soup: BeautifulSoup, body: Tag) -> str | None:
    """The publication date as the page gives it: a `<time datetime>`, the article's
    published-time meta element, or the text of an element whose class names a date."""
    time = body.find("time", attrs={"datetime": True}) or soup.find("time",
                                                                   attrs={"datetime": True})
    if time is not None:
        return clean_text(time["datetime"])
    meta = soup.find("meta", attrs={"property": "article:published_time"})
    if meta is not None and meta.get("content"):
        return clean_text(meta["content"])
    # The article's own date first: a sidebar of other news has dates too.
    for scope in (body, soup):
        for tag in scope.find_all(class_=re.compile(r"date", re.IGNORECASE)):
            text = clean_text(tag.get_text(" ")) or ""
            match = _DMY.search(text)
            if match:
                return match.group()
            if _TEXT_DATE.search(text):
                return text
    return None


def _published_on(raw: str | None) -> date | None:
    if raw is None:
        return None
    if _TEXT_DATE.search(raw) and not _DMY.search(raw):
        found = _text_date(raw)
        if found is None:
            raise ValueError(f"not a date: {raw!r}")
        return found
    return parse_date(raw[:10] if re.match(r"\d{4}-\d{2}-\d{2}", raw) else raw)


def region_text(soup: BeautifulSoup, body: Tag) -> str | None:
    """The region a page names in a meta or tag element, as written.

    `<meta name="region">`, an element of the article whose class names a region
    (`tag--region`, `practice__region`; not the site's region selector in the
    header), or an `article:tag` that reads like a region (`… область`, `… край`,
    `Республика …`).
    """
    meta = soup.find("meta", attrs={"name": re.compile(r"^(?:geo\.)?region$", re.IGNORECASE)})
    if meta is not None and clean_text(meta.get("content")):
        return clean_text(meta.get("content"))
    for tag in body.find_all(class_=re.compile(r"region", re.IGNORECASE)):
        text = clean_text(tag.get_text(" "))
        if text:
            return text
    for meta in soup.find_all("meta", attrs={"property": "article:tag"}):
        text = clean_text(meta.get("content"))
        if text and _REGION_WORDS.search(text):
            return text
    return None


def parse_page(body: bytes, *, url: str = "") -> list[dict]:
    """One record per number–noun indicator in the page's article text.

    The heading (`h1`) is the page's title, not a sentence: a figure in it repeats
    one in the text and is not counted twice. `_row` is the indicator's order on
    the page, from 1.
    """
    where = url or "best-practice page"
    soup = soup_of(body, where, "a best-practice page")
    foreign = other_kind(soup, fpg.PAGE_MARKS)
    if foreign is not None:
        raise ValueError(f"{where}: {foreign}, not a best-practice page")
    container = _body(soup)
    paragraphs = article_text(container, where)
    title = _title(soup, container)
    page: dict[str, Any] = {"page_title": title}
    set_converted(page, "published_on", _published_on, _published_raw(soup, container))
    page["region_text"] = region_text(soup, container)
    records = []
    for number, found in enumerate(extract_indicators(paragraphs), start=1):
        record = {**page, **found, "_row": number}
        if page.get("_errors"):
            record["_errors"] = list(page["_errors"])
        records.append(record)
    return records
