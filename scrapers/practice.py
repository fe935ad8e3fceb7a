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
- skipped, never read as indicators: dates (`15.06.2023`, «15 марта»), years
  («2019 году», `2001-2004 гг.`, a year after a month), phone numbers, numbers
  inside URLs and e-mail addresses, numbers after `№`, numbers glued to a word
  (`COVID-19`, `Ст.4`), ordinals (`5-й`, «V конкурс»: Roman numerals and ordinal
  words are never read), compound adjectives (`5-летний`), a bare number with
  no noun after it, and vague words (`тысячи людей`, «десятки»), which name no
  number. A duration («за три года», «старше 80 лет») is no date: it is kept,
  as `other`.

`noun_lemma` is rule-based, with no morphology library: lower case, `ё` as `е`,
the nominative singular of the nouns in `_NOUNS` (those of the samples, the
seeds and the controlled list), adjectives put in the head noun's gender by
their ending, and a prepositional phrase kept only where `indicator_nouns.csv`
lists it. A noun the table does not know is kept as printed (lower case): a
wrong guess would be worse than an honest unknown, and it maps to `other`.

`HOST` is a host of our own naming: the live pages (АСИ «Смартека» and regional
sites) and their URLs are unverified, so `PRACTICE_URLS` are the offline
addresses of our two illustrative pages in `samples/` (an invented practice,
marked as such on the page and in its title, so every record carries the mark).
The `.invalid` top-level domain never resolves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from bs4 import BeautifulSoup, NavigableString, Tag

from schemas.indicators import OTHER, indicator_for, indicator_unit, is_listed_lemma
from schemas.practice import QUALIFIERS
from scrapers.values import clean_text, parse_date, set_converted

HOST = "practices.socfund.invalid"
BASE_URL = f"https://{HOST}"
PRACTICE_URLS = (
    f"{BASE_URL}/practices/klub-aktivnogo-dolgoletiya.html",
    f"{BASE_URL}/practices/dobrososedstvo-v-rayonakh.html",
)
PARSER_VERSION = "practice/1"

MONEY_UNIT = "руб."
PERCENT_UNIT = "%"
COUNT_UNIT = "единиц"
MONEY_INDICATOR = "funds"
SHARE_INDICATOR = "share_percent"

# --- numbers in words ------------------------------------------------------------------------

# Cardinal numerals in every case -> (value, place): 3 hundreds, 2 tens, 1 units and
# teens. `семью` is left out: it is far more often «семью» (a family) than «seven».
_SMALL: dict[str, tuple[Decimal, int]] = {}


def _add(value: int | str, place: int, *forms: str) -> None:
    for form in forms:
        _SMALL[form] = (Decimal(value), place)


_add(1, 1, "один", "одна", "одно", "одного", "одной", "одному", "одним", "одном", "одну")
_add(2, 1, "два", "две", "двух", "двум", "двумя", "двое", "двоих")
_add(3, 1, "три", "трех", "трем", "тремя", "трое", "троих")
_add(4, 1, "четыре", "четырех", "четырем", "четырьмя", "четверо", "четверых")
for _value, _stem in ((5, "пят"), (6, "шест"), (9, "девят"), (10, "десят")):
    _add(_value, 1, _stem + "ь", _stem + "и", _stem + "ью")
_add(5, 1, "пятеро", "пятерых")
_add(6, 1, "шестеро", "шестерых")
_add(7, 1, "семь", "семи", "семеро", "семерых")
_add(8, 1, "восемь", "восьми", "восемью", "восьмью")
for _value, _stem in ((11, "одиннадцат"), (12, "двенадцат"), (13, "тринадцат"),
                      (14, "четырнадцат"), (15, "пятнадцат"), (16, "шестнадцат"),
                      (17, "семнадцат"), (18, "восемнадцат"), (19, "девятнадцат")):
    _add(_value, 1, _stem + "ь", _stem + "и", _stem + "ью")
_add(20, 2, "двадцать", "двадцати", "двадцатью")
_add(30, 2, "тридцать", "тридцати", "тридцатью")
_add(40, 2, "сорок", "сорока")
_add(50, 2, "пятьдесят", "пятидесяти", "пятьюдесятью")
_add(60, 2, "шестьдесят", "шестидесяти", "шестьюдесятью")
_add(70, 2, "семьдесят", "семидесяти", "семьюдесятью")
_add(80, 2, "восемьдесят", "восьмидесяти", "восемьюдесятью")
_add(90, 2, "девяносто", "девяноста")
_add(100, 3, "сто", "ста")
_add(200, 3, "двести", "двухсот", "двумстам", "двумястами", "двухстах")
_add(300, 3, "триста", "трехсот", "тремстам", "тремястами", "трехстах")
_add(400, 3, "четыреста", "четырехсот", "четыремстам", "четырьмястами", "четырехстах")
for _value, _nom, _stem, _instr in ((500, "пятьсот", "пят", "пятьюстами"),
                                    (600, "шестьсот", "шест", "шестьюстами"),
                                    (700, "семьсот", "сем", "семьюстами"),
                                    (800, "восемьсот", "восьм", "восьмьюстами"),
                                    (900, "девятьсот", "девят", "девятьюстами")):
    _add(_value, 3, _nom, _stem + "исот", _stem + "истам", _instr, _stem + "истах")
_add(800, 3, "восемьюстами")
# «полтора» is a whole group by itself: «полтора миллиона», «полторы тысячи».
_add("1.5", 1, "полтора", "полторы", "полутора")

# Scale words. A bare scale with no numeral before it is a number only in the
# singular («тысяча участников», «около тысячи», «миллион рублей»); a plural
# («тысячи людей», «тысяч», «миллионы») is vague and names no number.
_SCALES: dict[str, Decimal] = {}
_BARE_SCALE: set[str] = set()
_BARE_AFTER_QUALIFIER: set[str] = set()  # genitive singular = nominative plural: `тысячи`
for _scale, _singular, _genitive, _plural in (
    (1000, ("тысяча", "тысячу", "тысяче", "тысячей", "тысячью"), ("тысячи",),
     ("тысяч", "тысячам", "тысячами", "тысячах", "тыс")),
    (1_000_000, ("миллион", "миллиону", "миллионом", "миллионе"), ("миллиона",),
     ("миллионов", "миллионы", "миллионам", "миллионами", "миллионах", "млн")),
    (1_000_000_000, ("миллиард", "миллиарду", "миллиардом", "миллиарде"), ("миллиарда",),
     ("миллиардов", "миллиарды", "миллиардам", "миллиардами", "миллиардах", "млрд")),
):
    for _form in (*_singular, *_genitive, *_plural):
        _SCALES[_form] = Decimal(_scale)
    _BARE_SCALE.update(_singular)
    _BARE_AFTER_QUALIFIER.update(_genitive)
# «два десятка», «полторы сотни»: a number only with a numeral before it.
for _form in ("десяток", "десятка", "десятку", "десятком", "десятков"):
    _SCALES[_form] = Decimal(10)
for _form in ("сотня", "сотни", "сотню", "сотней", "сотен"):
    _SCALES[_form] = Decimal(100)
_ABBREVIATED_SCALES = frozenset({"тыс", "млн", "млрд"})

# Case endings written after digits: `3-х`, `5-ти`, `7-ми`, `2-ух`, `3-ех`.
_CARDINAL_SUFFIXES = frozenset({"х", "ти", "ми", "ух", "ех", "и", "ю", "ью"})

# --- words around a number -------------------------------------------------------------------

_PERCENT_WORDS = frozenset({"процент", "процента", "процентов", "процентам", "процентами",
                            "процентах", "проц"})
_CURRENCY_WORDS = frozenset({"руб", "рубль", "рубля", "рублей", "рублю", "рублем", "рублям",
                             "рублями", "рублях", "р", "₽"})
_MONTHS = frozenset({
    "января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
    "октября", "ноября", "декабря", "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь", "январе", "феврале",
    "марте", "апреле", "мае", "июне", "июле", "августе", "сентябре", "октябре", "ноябре",
    "декабре",
})
_YEAR_WORDS = frozenset({"год", "года", "году", "годом", "годе", "годы", "годов", "годам",
                         "годами", "годах", "г", "гг"})
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

# --- nouns and lemmas ------------------------------------------------------------------------

# Form -> (lemma, gender: m f n p). Generated from the declension of each lemma,
# for the nouns of the samples, the seeds and the controlled list.
_NOUNS: dict[str, tuple[str, str]] = {}


def _noun(lemma: str, gender: str, *forms: str) -> None:
    for form in (lemma, *forms):
        _NOUNS[form] = (lemma, gender)


def _hard_m(lemma: str, *, soft_plural: bool = False, gen_plural: str | None = None) -> None:
    """клуб: клуба, клубу, клубом, клубе, клубы, клубов, клубам, клубами, клубах."""
    plural = "и" if soft_plural else "ы"
    _noun(lemma, "m", lemma + "а", lemma + "у", lemma + "ом", lemma + "е", lemma + plural,
          gen_plural or lemma + "ов", lemma + "ам", lemma + "ами", lemma + "ах")


def _soft_m(lemma: str) -> None:
    """житель: жителя, жителю, жителем, жителе, жители, жителей, жителям, …"""
    stem = lemma[:-1]
    _noun(lemma, "m", stem + "я", stem + "ю", stem + "ем", stem + "е", stem + "и",
          stem + "ей", stem + "ям", stem + "ями", stem + "ях")


def _f_a(lemma: str, gen_plural: str, *, soft_plural: bool = False) -> None:
    """выставка: выставки, выставке, выставку, выставкой, выставок, выставкам, …"""
    stem = lemma[:-1]
    plural = "и" if soft_plural else "ы"
    _noun(lemma, "f", stem + plural, stem + "е", stem + "у", stem + "ой", gen_plural,
          stem + "ам", stem + "ами", stem + "ах")


def _f_ia(lemma: str) -> None:
    """лекция: лекции, лекцию, лекцией, лекций, лекциям, лекциями, лекциях."""
    stem = lemma[:-2]
    _noun(lemma, "f", stem + "ии", stem + "ию", stem + "ией", stem + "ий", stem + "иям",
          stem + "иями", stem + "иях")


def _n_ie(lemma: str) -> None:
    """мероприятие: мероприятия, мероприятию, мероприятием, мероприятии, мероприятий, …"""
    stem = lemma[:-2]
    _noun(lemma, "n", stem + "ия", stem + "ию", stem + "ием", stem + "ии", stem + "ий",
          stem + "иям", stem + "иями", stem + "иях")


for _lemma in ("клуб", "концерт", "семинар", "вебинар", "сюжет", "проект", "район",
               "пенсионер", "волонтер", "грант", "муниципалитет", "час", "процент"):
    _hard_m(_lemma)
for _lemma in ("участник", "праздник", "тренинг", "благополучатель"):
    if _lemma.endswith("ь"):
        _soft_m(_lemma)
    else:
        _hard_m(_lemma, soft_plural=True)
_hard_m("мастер-класс")
_soft_m("житель")
_soft_m("получатель")
_soft_m("победитель")
_soft_m("рубль")
_noun("кружок", "m", "кружка", "кружку", "кружком", "кружке", "кружки", "кружков",
      "кружкам", "кружками", "кружках")
_noun("доброволец", "m", "добровольца", "добровольцу", "добровольцем", "добровольце",
      "добровольцы", "добровольцев", "добровольцам", "добровольцами", "добровольцах")
_noun("человек", "m", "человека", "человеку", "человеком", "человеке", "люди", "людей",
      "людям", "людьми", "людях")
_noun("ребенок", "m", "ребенка", "ребенку", "ребенком", "ребенке", "дети", "детей", "детям",
      "детьми", "детях")
_noun("год", "m", "года", "году", "годом", "годе", "годы", "лет", "годам", "годами", "годах")
_f_a("выставка", "выставок", soft_plural=True)
_f_a("площадка", "площадок", soft_plural=True)
_f_a("заявка", "заявок", soft_plural=True)
_f_a("встреча", "встреч", soft_plural=True)
_f_a("брошюра", "брошюр")
_f_a("практика", "практик", soft_plural=True)
_noun("семья", "f", "семьи", "семье", "семью", "семьей", "семей", "семьям", "семьями",
      "семьях")
for _lemma in ("лекция", "акция", "организация", "территория", "публикация", "номинация",
               "экскурсия"):
    _f_ia(_lemma)
for _lemma in ("мероприятие", "соревнование", "издание", "событие", "занятие", "учреждение",
               "образование", "объединение", "поселение", "увеличение", "снижение",
               "сокращение", "уменьшение"):
    _n_ie(_lemma)
_noun("рост", "m", "роста", "росту", "ростом", "росте")
# Indeclinable abbreviations.
for _lemma in ("нко", "сонко", "сми", "тос"):
    _noun(_lemma, "p")

# Words of change a percentage modifies: «на 42% увеличилось», «выросло на 30%».
_CHANGE_WORDS: dict[str, str] = {}
for _lemma, _forms in (
    ("увеличиться", ("увеличилось", "увеличился", "увеличилась", "увеличились", "увеличится",
                     "увеличатся")),
    ("увеличить", ("увеличили", "увеличил", "увеличила", "увеличено", "увеличена", "увеличен",
                   "увеличены")),
    ("вырасти", ("выросло", "вырос", "выросла", "выросли", "вырастет", "вырастут")),
    ("возрасти", ("возросло", "возрос", "возросла", "возросли")),
    ("повыситься", ("повысилось", "повысился", "повысилась", "повысились")),
    ("снизиться", ("снизилось", "снизился", "снизилась", "снизились", "снизится")),
    ("снизить", ("снизили", "снизил", "снизила", "снижено", "снижена")),
    ("сократиться", ("сократилось", "сократился", "сократилась", "сократились")),
    ("сократить", ("сократили", "сократил", "сократила", "сокращено", "сокращена")),
    ("уменьшиться", ("уменьшилось", "уменьшился", "уменьшилась", "уменьшились")),
    ("больше", ("больше",)),
    ("меньше", ("меньше",)),
):
    for _form in _forms:
        _CHANGE_WORDS[_form] = _lemma
for _form, (_lemma, _) in list(_NOUNS.items()):
    if _lemma in ("рост", "увеличение", "снижение", "сокращение", "уменьшение"):
        _CHANGE_WORDS[_form] = _lemma

# Adjective endings, longest first. `-ий`, `-ие`, `-ее`, `-ей`, `-ом`, `-ем` are left
# out: «мероприятий», «занятие», «людей», «годом» are nouns.
_ADJECTIVE_ENDINGS = ("ыми", "ими", "ого", "его", "ому", "ему", "ых", "их", "ым", "им", "ый",
                      "ой", "ая", "яя", "ое", "ую", "юю", "ые")
# Stems of end-stressed adjectives (-ой, not -ый/-ий in the masculine).
_END_STRESSED = frozenset({"пожил", "молод", "игров", "городск", "трудов", "мужск", "больш",
                           "дорог", "деловит"})
_HUSHING = tuple("гкхжшчщ")


def _is_adjective(word: str) -> bool:
    return (word not in _NOUNS and len(word) > 3
            and any(word.endswith(e) for e in _ADJECTIVE_ENDINGS))


def _adjective_lemma(word: str, gender: str) -> str:
    """`пожилых` + m -> `пожилой`; `спортивно-игровых` + f -> `спортивно-игровая`."""
    head, _, last = word.rpartition("-")
    stem = last
    for ending in _ADJECTIVE_ENDINGS:
        if last.endswith(ending):
            stem = last[: -len(ending)]
            break
    if gender == "f":
        ending = "ая"
    elif gender == "n":
        ending = "ее" if stem.endswith(tuple("жшчщ")) else "ое"
    elif gender == "p":
        ending = "ие" if stem.endswith(_HUSHING) else "ые"
    elif stem in _END_STRESSED:
        ending = "ой"
    else:
        ending = "ий" if stem.endswith(_HUSHING) else "ый"
    return (head + "-" if head else "") + stem + ending


def _normal(word: str) -> str:
    return word.lower().replace("ё", "е")


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
        if token.is_word and (token.word in _SMALL or token.word in _SCALES):
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
        return word is not None and (word in _SCALES or word in _CURRENCY_WORDS)

    def _scaled(self, number: _Number) -> _Number:
        """A scale word after a number: `2 тысячи`, `1,5 млн`, `30 тыс.` (with its dot)."""
        k = number.last + 1
        word = self.word(k)
        if word in _SCALES and self.spaced(k) and not self.tokens[k].masked:
            number.scale = _SCALES[word]
            number.value = number.base * number.scale
            number.last = k
            if word in _ABBREVIATED_SCALES and self.is_dot(k + 1):
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
            if word in _SMALL:
                value, place = _SMALL[word]
                # «полтора» stands alone in its group: «двадцать полтора» is no number.
                if place >= last_place or (value == Decimal("1.5") and in_group):
                    break
                group += value
                in_group = True
                last_place = place if value != Decimal("1.5") else 0
            elif word in _SCALES:
                scale = _SCALES[word]
                if last_scale is not None and scale >= last_scale:
                    break
                if not in_group:
                    bare = word in _BARE_SCALE or (qualified and word in _BARE_AFTER_QUALIFIER)
                    if j != i or not bare:
                        return None
                    group = Decimal(1)
                total += group * scale
                first_scale = first_scale or scale
                group, in_group, last_place, last_scale = Decimal(0), False, 4, scale
                if word in _ABBREVIATED_SCALES and self.is_dot(j + 1):
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
        if len(parts) != 2 or not all(p in _SMALL for p in parts):
            return None
        low, high = (_SMALL[p][0] for p in parts)
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
    elif word in _PERCENT_WORDS and s.spaced(k):
        found.unit, found.last = PERCENT_UNIT, k + (1 if word == "проц" and s.is_dot(k + 1) else 0)
    elif (token.text in _CURRENCY_WORDS or word in _CURRENCY_WORDS) and (
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


def _noun_phrase(s: _Sentence, k: int) -> _Noun | None:
    """Adjectives and the counted noun from token k: «пожилых людей», «сюжета в СМИ»."""
    words: list[int] = []
    j = k
    while j < len(s) and len(words) < 4 and s.spaced(j):
        word = s.word(j)
        if (word is None or not _CYRILLIC.search(word) or word in _NOT_NOUNS
                or word in _SMALL or word in _SCALES):  # «2019 семь …» counts no «семь»
            break
        words.append(j)
        if not _is_adjective(word):
            break
        j += 1
    if not words:
        return None
    head = s.tokens[words[-1]].word
    if head in _NOUNS:
        lemma_of_head, gender = _NOUNS[head]
        lemma_words = [_adjective_lemma(s.tokens[w].word, gender) for w in words[:-1]]
        lemma_words.append(lemma_of_head)
    elif _is_adjective(head):  # «700 пожилых»: the adjective is the noun
        lemma_words = [_adjective_lemma(s.tokens[w].word, "m") for w in words]
    else:  # a noun we do not know: its phrase as printed, not a guess
        lemma_words = [s.tokens[w].word for w in words]
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
    return _Noun(s.span(words[0], last), lemma, last)


def _change_word(s: _Sentence, found: _Found) -> _Noun | None:
    """The word of change a percentage modifies: after it, or before its «на»."""
    k = found.last + 1
    word = s.word(k)
    if word in _CHANGE_WORDS and s.spaced(k):
        return _Noun(s.tokens[k].text, _CHANGE_WORDS[word], k)
    j = found.first - 1
    _, j_start = _skip_qualifier_words(s, j + 1)
    j = j_start - 1
    if s.word(j) == "на":
        _, before = _skip_qualifier_words(s, j)
        word = s.word(before - 1)
        if word in _CHANGE_WORDS:
            return _Noun(s.tokens[before - 1].text, _CHANGE_WORDS[word], found.last)
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
    if after in _YEAR_WORDS:
        return year_like or found.low.suffix
    if year_like and s.word(found.first - 1) in _MONTHS:
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


def _record(s: _Sentence, found: _Found) -> tuple[dict, int] | None:
    """The record for the number found, and the last token it used; None to skip it."""
    noun: _Noun | None
    if found.unit == MONEY_UNIT:
        assert found.currency is not None
        currency = s.tokens[found.currency]
        noun = _Noun(s.span(found.currency, found.last) if currency.text != "₽" else "₽",
                     "рубль", found.last)
    elif found.unit == PERCENT_UNIT:
        noun = _change_word(s, found) or _noun_phrase(s, found.last + 1)
    else:
        noun = _noun_phrase(s, found.last + 1)
        after = s.word(found.last + 1)
        if after in _MONTHS:  # «15 марта»
            return None
    if _is_year(s, found, noun):
        return None
    if noun is None and found.unit != PERCENT_UNIT:
        return None  # a bare number counts nothing we can name
    indicator, unit = _indicator(found, noun)
    record = {
        "value": _value(found.low.value),
        "value_max": _value(found.high.value) if found.high else None,
        "value_text": s.span(found.first, found.last),
        "qualifier": _qualifier(s, found),
        "noun": noun.text if noun else None,
        "noun_lemma": noun.lemma if noun else None,
        "indicator": indicator,
        "unit": unit,
        "sentence": s.text,
    }
    used = max(found.last, noun.last if noun else found.last)
    return record, used


def indicators_in_sentence(sentence: str) -> list[dict]:
    """Every number–noun indicator of one sentence, in order (no page fields, no `_row`)."""
    s = _Sentence(clean_text(sentence) or "")
    out: list[dict] = []
    i = 0
    while i < len(s):
        token = s.tokens[i]
        starts = token.is_digits or (token.is_word and (
            token.word in _SMALL or token.word in _SCALES or s.word_range_at(i) is not None))
        found = _find_number(s, i) if starts else None
        if found is None:
            i += 1
            continue
        result = _record(s, found)
        if result is None:
            i = found.last + 1
            continue
        record, used = result
        out.append(record)
        i = used + 1
    return out


# --- sentences -------------------------------------------------------------------------------

# Abbreviations after which a full stop never ends a sentence («г. Пермь», «им. Горького»,
# «ул. Ленина», initials); the others («тыс.», «руб.», «т.д.») end one before a capital.
_NON_TERMINAL = frozenset({"г", "им", "ул", "д", "пр", "ст", "с", "п", "см", "тел", "т", "н",
                           "ок", "св", "пос", "обл", "р-н", "напр"})
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[«\"„(]?[А-ЯЁA-Z0-9])")
_WORD_BEFORE_DOT = re.compile(r"([A-Za-zА-Яа-яЁё-]+)\.$")
# «и т.д.», «и т. п.», «и др.» end a list, and often the sentence.
_ENDS_LIST = re.compile(r"(?:\bт\.\s?[дп]|\bдр)\.$")


def sentences(paragraph: str) -> list[str]:
    """A paragraph's sentences. In plain text (a slide table copied as text, seed 003) a
    tab separates cells, and each cell is read apart: the row `1999 ⇥ 3 ⇥ 262` holds no `3 262`."""
    out: list[str] = []
    for cell in paragraph.split("\t"):
        text = clean_text(cell)
        if not text:
            continue
        start = 0
        for match in _SENTENCE_END.finditer(text):
            before = _WORD_BEFORE_DOT.search(text[start:match.start()])
            if before and not _ENDS_LIST.search(text[start:match.start()]):
                word = before.group(1)
                following = text[match.end()]
                if (len(word) == 1 and word.isupper()) or _normal(word) in _NON_TERMINAL:
                    continue
                if following.isdigit() and _normal(word) in {"тыс", "руб", "млн", "млрд",
                                                               "гг", "чел"}:
                    continue
            out.append(text[start:match.start()])
            start = match.end()
        out.append(text[start:])
    return [s for s in out if s]


def extract_indicators(paragraphs: Iterable[str]) -> list[dict]:
    """Every indicator of some paragraphs of text, in order (no page fields, no `_row`)."""
    out: list[dict] = []
    for paragraph in paragraphs:
        for sentence in sentences(paragraph):
            out.extend(indicators_in_sentence(sentence))
    return out


# --- the page --------------------------------------------------------------------------------

_BREAK = "\u2029"  # PARAGRAPH SEPARATOR: a mark no page text is made of
_BLOCKS = ("p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th",
           "table", "blockquote", "section", "article", "dd", "dt", "dl", "figcaption",
           "figure", "header", "footer", "main", "aside", "nav", "time", "pre")
_NOT_TEXT = ("script", "style", "noscript", "template", "svg", "iframe", "form", "button",
             "nav", "header", "footer", "aside", "select")
_BODY_SELECTORS = ("[itemprop=articleBody]", "article", "main", ".content", "body")
_REGION_WORDS = re.compile(
    r"(?:област|кра[йя]|республик|округ|^г\.?\s*(?:москва|санкт|севастополь)|^москва$"
    r"|^санкт-петербург$|^севастополь$)",
    re.IGNORECASE,
)
_RU_MONTHS = {m: i for i, m in enumerate(
    ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
     "октября", "ноября", "декабря"), start=1)}
_TEXT_DATE = re.compile(r"(\d{1,2})\s+([а-яё]+)\s+(\d{4})", re.IGNORECASE)
_DMY = re.compile(r"\d{1,2}\.\d{1,2}\.\d{4}")


def soup_of(body: bytes) -> BeautifulSoup:
    """Bytes, not text: BeautifulSoup then honours `<meta charset>` and the old
    `<meta http-equiv="Content-Type" content="…; charset=windows-1251">`."""
    return BeautifulSoup(body, "lxml")


def text_blocks(container: Tag, *, drop: str | None = None) -> list[str]:
    """The paragraphs of text in `container`, page furniture and scripts left out,
    and the elements the CSS selector `drop` names.

    Block elements and `<br>` end a paragraph; inline ones do not («<b>339</b>
    клубов» is one phrase), nor does a line break in the HTML source, which is
    only white space. The container is copied, so the caller's tree is not changed.
    """
    copy = BeautifulSoup(str(container), "lxml")
    for tag in copy.find_all(_NOT_TEXT):
        tag.decompose()
    for tag in copy.select(drop) if drop else ():
        tag.decompose()
    for br in copy.find_all("br"):
        br.replace_with(NavigableString(_BREAK))
    for tag in copy.find_all(_BLOCKS):
        tag.insert_before(NavigableString(_BREAK))
        tag.append(NavigableString(_BREAK))
    text = copy.get_text("")
    # In HTML a tab is white space like any other (indentation), never a cell.
    return [p for p in (clean_text(p) for p in text.split(_BREAK)) if p]


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
    if not match or _normal(match.group(2)) not in _RU_MONTHS:
        return None
    return date(int(match.group(3)), _RU_MONTHS[_normal(match.group(2))], int(match.group(1)))


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
    soup = soup_of(body)
    container = _body(soup)
    title = _title(soup, container)
    page: dict[str, Any] = {"page_title": title}
    set_converted(page, "published_on", _published_on, _published_raw(soup, container))
    page["region_text"] = region_text(soup, container)
    records = []
    for number, found in enumerate(extract_indicators(text_blocks(container, drop="h1")),
                                   start=1):
        record = {**page, **found, "_row": number}
        if page.get("_errors"):
            record["_errors"] = list(page["_errors"])
        records.append(record)
    return records
