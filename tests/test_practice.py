"""Best-practice pages: our two illustrative pages, every quirk of the text, the seeds,
and the golden cases recorded from the parser before it read words with pymorphy3."""

from __future__ import annotations

import csv
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.base import validate
from schemas.curated import INDICATORS as CURATED_INDICATORS
from schemas.practice import INDICATORS, QUALIFIERS, UNITS
from schemas.vocabularies.indicators import (
    INDICATOR_NOUNS_CSV,
    INDICATORS_CSV,
    controlled_indicators,
    indicator_for,
    lemma_key,
    noun_indicators,
)
from scrapers import practice, programme_card, russian
from scrapers.samples import FIXTURES_DIR, sample_path

SHARED = Path(__file__).parents[2] / "shared"
UTF8_URL, CP1251_URL = practice.PRACTICE_URLS
D = Decimal

# Seed 003, «V городского конкурса … (НЕКОТОРАЯ СТАТИСТИКА)»: each printed line and what
# it must give. Written here, apart from the seeds CSV, so the test reads the lines itself.
SEED_003_STATISTICS = {
    "269 000 человек – участников мероприятий по проектам": (269000, "participants"),
    "4 400 000 рублей привлеченных средств": (4400000, "funds"),
    "10 спортивно-игровых площадок": (10, "playgrounds"),
    "17 обустроенных территорий": (17, "territories_improved"),
    "32 издания": (32, "publications"),
    "163 сюжета в СМИ": (163, "media_stories"),
    "85 праздников": (85, "holidays"),
    "14 выставок": (14, "exhibitions"),
    "29 концертов": (29, "concerts"),
    "47 спортивных соревнований": (47, "sports_competitions"),
    "26 семинаров": (26, "seminars"),
    "149 лекций": (149, "lectures"),
    "116 мероприятий по благоустройству": (116, "improvement_events"),
}


def _one(text: str) -> dict:
    records = practice.extract_indicators([text])
    assert len(records) == 1, records
    return records[0]


def _none(text: str) -> None:
    assert practice.extract_indicators([text]) == []


def _seed(prefix: str) -> str:
    (path,) = (SHARED / "seeds").glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def club_page() -> list[dict]:
    return practice.parse_page(sample_path(UTF8_URL, FIXTURES_DIR).read_bytes(), url=UTF8_URL)


@pytest.fixture(scope="module")
def neighbours_page() -> list[dict]:
    return practice.parse_page(sample_path(CP1251_URL, FIXTURES_DIR).read_bytes(), url=CP1251_URL)


def _summary(records: list[dict]) -> list[tuple]:
    return [(r["value"], r["value_max"], r["qualifier"], r["indicator"]) for r in records]


# --- the samples -----------------------------------------------------------------------------


def test_samples_live_where_the_urls_point():
    assert practice.HOST.endswith(".invalid")  # our own name: never a real site
    assert "unverified" in practice.__doc__ and "Смартека" in practice.__doc__
    assert practice.PARSER_VERSION == "practice/2"
    for url in practice.PRACTICE_URLS:
        assert url.startswith(f"https://{practice.HOST}/practices/")
        assert sample_path(url, FIXTURES_DIR).is_file()


def test_samples_say_they_are_illustrations(club_page, neighbours_page):
    for url, encoding in ((UTF8_URL, "utf-8"), (CP1251_URL, "cp1251")):
        text = sample_path(url, FIXTURES_DIR).read_bytes().decode(encoding)
        assert "Иллюстрация socfund" in text
        assert "вымышлены" in text
    # the mark travels with every record into any table it reaches
    for record in club_page + neighbours_page:
        assert record["page_title"].endswith("(иллюстрация)")


def test_club_page_gives_every_indicator_in_order(club_page):
    assert _summary(club_page) == [
        (3, None, None, "districts"),            # «в трёх районах»
        (15, None, None, "volunteers"),          # «пятнадцать волонтёров» over a line break
        (339, None, None, "clubs"),              # «<b>339</b> клубов»
        (700, None, "более", "beneficiaries"),   # «более 700 пожилых людей»
        (42, None, None, "growth_percent"),      # «на&nbsp;42% увеличилось»
        (2000, None, "свыше", "participants"),   # «свыше двух тысяч участников»
        (2500, None, None, "participants"),      # «2&nbsp;500 человек»
        (10, 15, None, "participants"),          # «от 10 до 15 человек»
        (40, None, "почти", "other"),            # «почти в 40 сельских поселениях»
        (1000, None, "около", "families"),       # «около тысячи семей»
        (120, None, "не менее", "volunteers"),   # «порядка 30 из них» counts nothing
        (48, None, None, "trainings"),
        (12, None, None, "lectures"),
        (5, None, "примерно", "share_percent"),  # «примерно 5 % участников»
        (80, None, None, "other"),               # «старше 80 лет»: a duration, not a year
        (20, None, "менее", "share_percent"),    # «менее 20%.»: a percentage with no noun
        (1500000, None, None, "funds"),          # «1,5&nbsp;млн рублей»
        (300000, None, "до", "funds"),           # «до 300 тыс. руб.»
        (200000, None, None, "funds"),           # «двести тысяч рублей»
        (100, None, None, "other"),              # «100 лучших практик»
        (5, None, None, "districts"),            # after «3-й этап» and «к 2025 году»
    ]
    assert [r["_row"] for r in club_page] == list(range(1, 22))


def test_club_page_fields_from_the_page(club_page):
    assert {r["page_title"] for r in club_page} == {
        "339 клубов активного долголетия: опыт сельских поселений (иллюстрация)"}
    assert {r["published_on"] for r in club_page} == {date(2023, 3, 15)}  # <time datetime>
    # <meta name="region">, not the site's region selector («Москва») in the header
    assert {r["region_text"] for r in club_page} == {"Пермский край"}


def test_heading_figure_is_not_counted_twice(club_page):
    assert [r["value"] for r in club_page].count(339) == 1
    (clubs,) = [r for r in club_page if r["indicator"] == "clubs"]
    assert clubs["sentence"].startswith("Её придумали пятнадцать волонтёров")


def test_menus_scripts_sidebar_and_footer_are_not_read(club_page):
    values = {r["value"] for r in club_page}
    # menu «(1 250)», JSON-LD and scripts 4521, 10339, the counter, «Поделиться (87)»
    assert values.isdisjoint({1250, 4521, 10339, 10000000, 87, 214, 402})
    sentences = " ".join(r["sentence"] for r in club_page)
    for outside in ("факультетов", "выпускников", "сёлах", "JavaScript", "Популярное", "редакции"):
        assert outside not in sentences


def test_skipped_numbers_on_the_club_page(club_page):
    values = {r["value"] for r in club_page}
    # years (2019, 2022, 2024, 2025), the phone, the URL's 339 and 2022, «V конкурс», «3-й этап»,
    # the e-mail, «порядка 30 из них»
    assert values.isdisjoint({2019, 2022, 2024, 2025, 123, 45, 67, 30})
    assert [r["value"] for r in club_page if r["indicator"] == "clubs"] == [339]
    assert not any(r["value"] == 3 and r["noun"] == "этап" for r in club_page)


def test_money_on_the_club_page_is_in_rubles(club_page):
    money = [r for r in club_page if r["unit"] == "руб."]
    assert [(r["value_text"], r["noun"]) for r in money] == [
        ("1,5 млн рублей", "рублей"), ("300 тыс. руб.", "руб."), ("двести тысяч рублей", "рублей")]
    assert sum(r["value"] for r in money) == 2_000_000


def test_cp1251_page_is_decoded_from_its_meta_http_equiv(neighbours_page):
    raw = sample_path(CP1251_URL, FIXTURES_DIR).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert b'charset=windows-1251' in raw
    assert neighbours_page[0]["page_title"] == (
        "Добрососедство: как жители трёх районов помогают друг другу (иллюстрация)")


def test_neighbours_page_gives_every_indicator_in_order(neighbours_page):
    assert _summary(neighbours_page) == [
        (3, None, None, "districts"),            # «трёх районов»
        (1200, None, None, "participants"),      # «<b>1&#8239;200</b> человек» (narrow nbsp)
        (30, None, None, "growth_percent"),      # «на 30% больше»
        (3, None, None, "districts"),            # «в 3-х районах»
        (2, None, None, "districts"),            # «в двух районах»; «в 2023 г.» skipped
        (25, None, None, "volunteers"),          # «двадцать пять добровольцев»
        (147, None, None, "participants"),       # «сто сорок семь человек»
        (5, 7, None, "events"),                  # «5&ndash;7 встреч»
        (20, None, "около", "holidays"),
        (4, None, None, "concerts"),             # «4 концерта»
        (15, None, None, "decline_percent"),     # «сократилось на 15 процентов» after a <br>
        (450000, None, None, "funds"),           # «450&nbsp;000&nbsp;&#8381;»
        (120000, None, None, "funds"),           # «120 тыс. рублей»
        (12, None, None, "organisations"),       # «12 НКО»
        (2, None, None, "municipalities"),
        (7, None, None, "organisations"),        # «семь организаций»; «2022 году» skipped
    ]
    # phone 8 800 …, the URL's 2021 and 1200, «до 15 мая», 10:00–18:00, «Просмотров: 1 200»
    assert not any(r["value"] in (800, 2021, 18) for r in neighbours_page)
    assert [r["value"] for r in neighbours_page].count(1200) == 1


def test_neighbours_page_date_and_region_come_from_the_article(neighbours_page):
    # the sidebar's «01.04.2022» comes first in the file; the article's date wins
    assert {r["published_on"] for r in neighbours_page} == {date(2022, 4, 12)}
    # the `tag--region` link inside the article; the header's «Москва» selector is not it
    assert {r["region_text"] for r in neighbours_page} == {"Свердловская область"}


def test_samples_validate(club_page, neighbours_page):
    for records in (club_page, neighbours_page):
        result = validate(records, INDICATORS)
        assert result.quarantined == []
        assert len(result.valid) == len(records)


# --- the seeds and SOURCES.md ----------------------------------------------------------------


def test_seed_003_statistics_lines(shared_dir):
    lines = [line.strip() for line in _seed("003").splitlines()]
    for line, (value, indicator) in SEED_003_STATISTICS.items():
        assert line in lines, line
        record = _one(line)
        assert (record["value"], record["indicator"]) == (value, indicator), line
        assert record["sentence"] == line
    assert _one("4 400 000 рублей привлеченных средств")["unit"] == "руб."
    assert _one("269 000 человек – участников мероприятий по проектам")["noun"] == "человек"


def test_seed_003_whole_text_gives_figures_and_never_a_date_year_or_number(shared_dir):
    records = practice.extract_indicators(_seed("003").splitlines())
    assert [(r["value_text"], r["indicator"]) for r in records] == [
        ("269 000", "participants"), ("4 400 000 рублей", "funds"), ("10", "playgrounds"),
        ("17", "territories_improved"), ("32", "publications"), ("163", "media_stories"),
        ("85", "holidays"), ("14", "exhibitions"), ("29", "concerts"),
        ("47", "sports_competitions"), ("26", "seminars"), ("149", "lectures"),
        ("116", "improvement_events"),
        ("5", "other"), ("4", "other"),                    # «5 номинаций», «4 номинации»
        ("30 тыс.руб.", "funds"), ("150 тыс.руб.", "funds"), ("15 тыс.руб.", "funds"),
        ("30 тыс.руб.", "funds"),
        ("293", "projects"),                               # «с 293 проектами победителями»
        ("155, 990 тыс.руб.", "funds"),                    # a space after the decimal comma
        ("100,0 тыс.руб.", "funds"), ("17,990 тыс.руб.", "funds"), ("20,0 тыс.руб.", "funds"),
        ("20, 0 тыс.руб.", "funds"),
        ("11", "projects"), ("6", "projects"),
        ("222, 66 тыс.руб.", "funds"),                     # after the date «На 06.11.04»
    ]
    # the 1999–2001 table (tab-separated cells), «31.10.2000», «№103», «2001-2004 гг.»,
    # «VI конкурс 2004 год» and «Ст.4» give nothing
    assert not {1999, 2000, 2001, 2004, 103, 186, 3262, 31} & {r["value"] for r in records}
    kirov = [r["value"] for r in records if "тыс.руб." in r["value_text"]][4:]
    assert kirov == [155990, 100000, 17990, 20000, 20000, 222660]


def test_seed_000_and_001_figures(shared_dir):
    (years,) = practice.extract_indicators(_seed("000").splitlines())
    assert (years["value"], years["noun"], years["noun_lemma"], years["indicator"]) == (
        3, "лет", "год", "other")  # «первых трех лет»; «(четвертого) года» is an ordinal
    records = practice.extract_indicators(_seed("001").splitlines())
    assert [(r["value_text"], r["indicator"]) for r in records] == [
        ("11", "municipalities"), ("одиннадцати", "municipalities")]


def test_sources_section_5_examples(shared_dir):
    text = (shared_dir / "SOURCES.md").read_text(encoding="utf-8")
    start = text.index("Best-practice news pages")
    quoted = re.findall(r"«([^«»]+)»", text[start:text.index("\n- ", start)])
    examples = [q for q in quoted if any(c.isdigit() for c in q)]
    assert examples == ["более 700 пожилых людей", "339 клубов", "на 42% увеличилось"]
    elderly, clubs, growth = (_one(e) for e in examples)
    assert (elderly["value"], elderly["qualifier"], elderly["noun"], elderly["noun_lemma"],
            elderly["indicator"], elderly["unit"]) == (
        700, "более", "пожилых людей", "пожилой человек", "beneficiaries", "человек")
    assert (clubs["value"], clubs["qualifier"], clubs["indicator"]) == (339, None, "clubs")
    assert (growth["value"], growth["unit"], growth["noun"], growth["indicator"]) == (
        42, "%", "увеличилось", "growth_percent")
    thousands = _one("двух тысяч участников")
    assert (thousands["value"], thousands["value_text"], thousands["indicator"]) == (
        2000, "двух тысяч", "participants")


# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text, value", [
    ("в трёх районах", 3), ("в трех районах", 3), ("пятнадцать волонтёров", 15),
    ("двух тысяч участников", 2000), ("двух тысяч пятисот участников", 2500),
    ("трём тысячам участников", 3000), ("ста двадцати пяти семей", 125),
    ("двумястами волонтёрами", 200), ("девятистах участниках", 900), ("сорока клубов", 40),
    ("девяноста семей", 90), ("семи лекций", 7), ("одиннадцатью клубами", 11),
    ("одну заявку", 1), ("трое волонтёров", 3), ("пятерых волонтёров", 5),
    ("полтора миллиона рублей", 1500000), ("полторы тысячи участников", 1500),
    ("полутора тысяч участников", 1500), ("тысяча участников", 1000),
    ("около тысячи человек", 1000), ("миллион рублей", 1000000), ("два десятка клубов", 20),
    ("полтора десятка клубов", 15), ("двести тысяч рублей", 200000),
    ("четыреста восемьдесят семь участников", 487),
])
def test_numbers_in_words_in_every_case(text, value):
    record = _one(text)
    assert record["value"] == value
    assert record["value_text"] in text


@pytest.mark.parametrize("text", [
    "тысячи людей пришли", "несколько тысяч участников", "десятки волонтёров",
    "сотни семей", "миллионы рублей", "ни одной заявки", "одна из лучших практик",
    "помогли каждую семью",  # «семью» is a family, not «seven»
    "две трети участников",
])
def test_vague_numerals_and_words_that_are_no_number(text):
    _none(text)


@pytest.mark.parametrize("separator", [" ", "\u00a0", "\u202f"])
def test_digits_grouped_by_spaces_nbsp_and_narrow_nbsp(separator):
    record = _one(f"собрали 2{separator}500 человек")
    assert (record["value"], record["value_text"]) == (2500, "2 500")
    assert _one(f"1{separator}000{separator}000 рублей")["value"] == 1_000_000


def test_digits_grouped_in_html_entities():
    body = "<html><body><article><p>Пришли 2&nbsp;500 человек и 1&#8239;200 волонтёров.</p>" \
           "</article></body></html>"
    records = practice.parse_page(body.encode())
    assert [r["value"] for r in records] == [2500, 1200]


def test_decimal_comma_and_the_space_after_it():
    assert _one("42,5% участников")["value"] == D("42.5")
    assert _one("1,5 млн рублей")["value"] == 1500000
    assert _one("155, 990 тыс.руб.")["value"] == 155990
    # without a scale or currency word after it, «3, 5» is a list, never 3.5
    records = practice.extract_indicators(["в 3, 5 и 7 классах"])
    assert [r["value"] for r in records] == [7]


def test_digits_with_a_case_ending_are_cardinals():
    record = _one("в 3-х районах")
    assert (record["value"], record["value_text"], record["indicator"]) == (3, "3-х", "districts")
    assert _one("5-ти клубов")["value"] == 5


@pytest.mark.parametrize("text, low, high, printed", [
    ("от 10 до 15 человек", 10, 15, "от 10 до 15"),
    ("10–15 человек", 10, 15, "10–15"),
    ("10 - 15 человек", 10, 15, "10 - 15"),
    ("пять-шесть встреч", 5, 6, "пять-шесть"),
    ("от двух до трёх тысяч участников", 2000, 3000, "от двух до трёх тысяч"),
    ("10–15 тыс. рублей", 10000, 15000, "10–15 тыс. рублей"),
    ("от 500 до 2 тысяч участников", 500, 2000, "от 500 до 2 тысяч"),
])
def test_ranges_keep_the_lower_bound_in_value(text, low, high, printed):
    record = _one(text)
    assert (record["value"], record["value_max"], record["value_text"]) == (low, high, printed)
    assert record["qualifier"] is None  # a range's «от … до» is part of the number


def test_range_after_a_qualifier_keeps_it():
    record = _one("около 10–15 человек")
    assert (record["qualifier"], record["value"], record["value_max"]) == ("около", 10, 15)


@pytest.mark.parametrize("qualifier", sorted(QUALIFIERS))
def test_every_qualifier_is_kept(qualifier):
    record = _one(f"Итог: {qualifier} 5 клубов")
    assert (record["qualifier"], record["value"], record["indicator"]) == (qualifier, 5, "clubs")


def test_qualifier_at_a_capital_or_before_a_preposition():
    assert _one("Более 700 пожилых людей")["qualifier"] == "более"
    assert _one("почти в 40 районах")["qualifier"] == "почти"
    assert _one("более чем в 20 районах")["qualifier"] == "более чем"
    assert _one("выросло почти на 42%")["qualifier"] == "почти"
    assert _one("339 клубов")["qualifier"] is None


@pytest.mark.parametrize("text, noun, indicator", [
    ("на 42% увеличилось", "увеличилось", "growth_percent"),
    ("выросло на 30%", "выросло", "growth_percent"),
    ("рост на 15 процентов", "рост", "growth_percent"),
    ("на 30% больше", "больше", "growth_percent"),
    ("сократилось на 10 %", "сократилось", "decline_percent"),
    ("на 20% меньше", "меньше", "decline_percent"),
    ("42% участников", "участников", "share_percent"),
    ("доля составила 20%.", None, "share_percent"),
])
def test_percentages_and_the_word_they_modify(text, noun, indicator):
    record = _one(text)
    assert (record["unit"], record["noun"], record["indicator"]) == ("%", noun, indicator)


@pytest.mark.parametrize("text, value, noun", [
    ("1,5 млн рублей", 1500000, "рублей"),
    ("1,5 млн. руб.", 1500000, "руб."),
    ("30 тыс.руб.", 30000, "руб."),
    ("300 тыс. руб.", 300000, "руб."),
    ("450 000 ₽", 450000, "₽"),
    ("2 млрд рублей", 2_000_000_000, "рублей"),
    ("4 400 000 рублей", 4400000, "рублей"),
])
def test_money_is_scaled_to_rubles(text, value, noun):
    record = _one(text)
    assert (record["value"], record["unit"], record["noun"], record["noun_lemma"],
            record["indicator"]) == (value, "руб.", noun, "рубль", "funds")
    assert record["value_text"] == text


def test_thousands_of_people_are_not_money():
    record = _one("2 тыс. человек")
    assert (record["value"], record["unit"], record["indicator"]) == (2000, "человек",
                                                                       "participants")


@pytest.mark.parametrize("text", [
    "15.06.2023", "15 марта 2023 года", "с 20 по 21 августа", "в 2019 году", "в 2019 г.",
    "на 2001-2004 гг.", "в 2019–2021 годах", "в 90-х годах", "в июне 2023 провели",
    "+7 (342) 212-34-56 волонтёров", "8 800 555-35-35", "тел. 212-34-56",
    "https://x.ru/339-klubov", "www.site.ru/2021/1200-chelovek", "пишите на club339@mail.ru",
    "V конкурс", "5-й конкурс", "3-го этапа", "5-летний опыт", "по приказу №103 клубы",
    "приказ № 7 волонтёрам", "COVID-19 волонтёров", "с 10:00 до 18:00", "Ст.4 клубов",
    "их стало 339.",
])
def test_dates_years_phones_urls_ordinals_and_bare_numbers_are_skipped(text):
    _none(text)


@pytest.mark.parametrize("text", [
    "Звоните по номеру 8 800 200 12 34 волонтёрам фонда",  # not «34 волонтёрам»
    "телефон +7 342 212 34 56 участникам",
])
def test_phone_numbers_written_with_spaces_are_not_counts(text):
    _none(text)


def test_a_date_with_a_two_digit_year_is_not_a_number():
    record = _one("встреча 05.06.23 15 участников")
    assert (record["value"], record["value_text"]) == (15, "15")


def test_superscripts_are_not_digits():
    records = practice.extract_indicators(["зал площадью 100 м² для 20 человек"])
    assert [(r["value"], r["indicator"]) for r in records] == [(100, "other"),
                                                               (20, "participants")]


def test_a_duration_in_years_is_kept_apart_from_a_year():
    record = _one("за три года")
    assert (record["value"], record["noun_lemma"], record["indicator"]) == (3, "год", "other")


_PIECES = ["1", "10", "500", "2019", "000", ",", ".", "-", "–", "%", "₽", "тыс", "млн", "руб",
           "от", "до", "более", "на", "почти", "двух", "тысяч", "тысячи", "полтора",
           "пять-шесть", "клубов", "человек", "года", "марта", "№", "+7", "(", ")", "х", "й",
           "увеличилось", "ни", "одной", "сто", "семь", "г", "²", "«", "https://a.ru/1", "Ст"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_PIECES), st.sampled_from(["", " ", "\u00a0"])),
                max_size=14))
def test_any_mix_of_numbers_and_words_reads_without_error(pieces):
    text = "".join(piece + space for piece, space in pieces)
    for record in practice.extract_indicators([text]):
        assert record["value_text"] in record["sentence"]
        assert record["noun"] is None or record["noun"] in record["sentence"]
        assert record["value"] >= 0
        assert record["value_max"] is None or record["value_max"] >= record["value"]


# --- nouns -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text, noun, lemma, indicator", [
    ("700 пожилых людей", "пожилых людей", "пожилой человек", "beneficiaries"),
    ("10 спортивно-игровых площадок", "спортивно-игровых площадок", "спортивно-игровая площадка",
     "playgrounds"),
    ("47 спортивных соревнований", "спортивных соревнований", "спортивное соревнование",
     "sports_competitions"),
    ("116 мероприятий по благоустройству", "мероприятий по благоустройству",
     "мероприятие по благоустройству", "improvement_events"),
    ("116 мероприятий по профилактике", "мероприятий", "мероприятие", "events"),
    ("163 сюжета в СМИ", "сюжета в СМИ", "сюжет в сми", "media_stories"),
    ("5 молодёжных клубов", "молодёжных клубов", "молодежный клуб", "clubs"),
    ("5 городских клубов", "городских клубов", "городской клуб", "clubs"),
    ("15 волонтёров", "волонтёров", "волонтер", "volunteers"),
    ("12 человек с инвалидностью", "человек с инвалидностью", "человек с инвалидностью",
     "beneficiaries"),
    ("20 детей", "детей", "ребенок", "other"),
    ("12 скворечников", "скворечников", "скворечник", "other"),  # in the dictionary
    ("12 хакатонов", "хакатонов", "хакатонов", "other"),  # not: kept as printed, no guess
    ("30 благополучателей", "благополучателей", "благополучатель",  # a guess the list
     "beneficiaries"),                                              # confirms
    ("100 лучших практик", "лучших практик", "лучшая практика", "other"),  # not `практик`
    ("2 кружка", "кружка", "кружок", "clubs"),  # not `кружка`, a mug
    ("5 обустроенных территорий", "обустроенных территорий", "обустроенная территория",
     "territories_improved"),  # a participle stays one
    ("12 региональных НКО", "региональных НКО", "региональные нко", "organisations"),
    ("40 НКО", "НКО", "нко", "organisations"),
    ("32 издания", "издания", "издание", "publications"),
])
def test_noun_and_its_lemma(text, noun, lemma, indicator):
    record = _one(text)
    assert (record["noun"], record["noun_lemma"], record["indicator"]) == (noun, lemma, indicator)


def test_unit_follows_the_indicator():
    assert _one("15 волонтёров")["unit"] == "человек"
    assert _one("339 клубов")["unit"] == "единиц"
    assert _one("12 скворечников")["unit"] == "единиц"


# --- sentences -------------------------------------------------------------------------------


def test_sentence_is_the_whole_sentence_it_came_from():
    text = "Первое. В проекте 339 клубов, в них 700 пожилых людей! Итоги подведены г. Пермь."
    records = practice.extract_indicators([text])
    assert {r["sentence"] for r in records} == {
        "В проекте 339 клубов, в них 700 пожилых людей!"}


def test_abbreviations_do_not_end_a_sentence_but_lists_do():
    assert practice.sentences("Работали в г. Пермь с А. С. Ивановым. Всего 30 тыс. руб. Итог.") == [
        "Работали в г. Пермь с А. С. Ивановым.", "Всего 30 тыс. руб.", "Итог."]
    assert practice.sentences("Внедрены проекты и т.д. Их 5.") == [
        "Внедрены проекты и т.д.", "Их 5."]


def test_tab_separated_cells_are_read_apart():
    _none("1999\t3\t262\tнет\tнет\t751,9")
    assert [r["value"] for r in practice.extract_indicators(["Проект\t150 тыс.руб.\tЗаявка"])] == [
        150000]


def test_sentences_are_razdels_with_numbered_items_kept_whole():
    # The hand-written splitter cut «1.» from its item; razdel keeps each item whole.
    assert practice.sentences("1. Создание условий для партнёрства; 2. Решение проблем.") == [
        "1. Создание условий для партнёрства;", "2. Решение проблем."]


# --- a part of a figure: «из них», «среди них», «в том числе» ---------------------------------


def _parts(text: str) -> list[tuple]:
    return [(r["value"], r["qualifier"], r["noun"], r["noun_lemma"], r["indicator"], r["unit"],
             r["sentence"]) for r in practice.extract_indicators([text])]


HOLIDAYS = ("праздников", "праздник", "holidays", "единиц")


@pytest.mark.parametrize("text, value, qualifier", [
    ("Провели 85 праздников, из них 30 — в районах.", 30, None),
    ("Провели 85 праздников, из них 30 в районах.", 30, None),
    ("Провели 85 праздников, среди них более 20 — в сёлах.", 20, "более"),
    ("Провели 85 праздников, в том числе 12 в районах.", 12, None),
    ("Провели 85 праздников, в т.ч. 12 — в районах.", 12, None),
    ("Провели 85 праздников, из которых около 30 прошли в районах.", 30, "около"),
    ("Провели 85 праздников, из них тридцать — в районах.", 30, None),
])
def test_a_number_after_iz_nikh_counts_the_noun_of_its_figure(text, value, qualifier):
    assert _parts(text) == [(85, None, *HOLIDAYS, text), (value, qualifier, *HOLIDAYS, text)]


def test_iz_nikh_in_the_next_sentence_has_its_own_sentence():
    records = practice.extract_indicators(["Провели 85 праздников. Из них 30 прошли в районах."])
    assert [(r["value"], r["noun_lemma"], r["indicator"], r["sentence"]) for r in records] == [
        (85, "праздник", "holidays", "Провели 85 праздников."),
        (30, "праздник", "holidays", "Из них 30 прошли в районах.")]
    # a new paragraph is a new context: «них» refers to nothing there
    assert practice.extract_indicators(["Провели 85 праздников.", "Из них 30 — в районах."]) == [
        practice.extract_indicators(["Провели 85 праздников."])[0]]


def test_iz_nikh_refers_to_the_figure_not_to_a_place_in_it():
    text = "Открыто 339 клубов в 3 районах, из них 30 — в сёлах."
    assert [(r["value"], r["indicator"]) for r in practice.extract_indicators([text])] == [
        (339, "clubs"), (3, "districts"), (30, "clubs")]
    # with only a place before it, the place is what «них» counts
    text = "Праздники прошли в 12 районах, из них 5 — сельские."
    assert [(r["value"], r["indicator"]) for r in practice.extract_indicators([text])] == [
        (12, "districts"), (5, "districts")]


def test_iz_nikh_keeps_money_in_rubles_and_a_noun_of_its_own():
    text = "Собрали 1,5 млн рублей, из них 300 тыс. — от жителей."
    assert [(r["value"], r["value_text"], r["indicator"], r["unit"])
            for r in practice.extract_indicators([text])] == [
        (1500000, "1,5 млн рублей", "funds", "руб."), (300000, "300 тыс.", "funds", "руб.")]
    text = "Провели 85 праздников, из них 30 концертов."
    assert [r["indicator"] for r in practice.extract_indicators([text])] == ["holidays",
                                                                             "concerts"]


@pytest.mark.parametrize("text, values", [
    ("Из них 30 — в районах.", []),                           # nothing before it
    ("Пришли 42% участников, из них 10 — впервые.", [42]),    # a share counts no one
    ("Пришли 120 волонтёров, порядка 30 из них — студенты.", [120]),  # «из них» after it
    ("Провели 85 праздников, и 30 — в районах.", [85]),       # no «из них»
])
def test_a_bare_number_without_iz_nikh_before_it_still_counts_nothing(text, values):
    assert [r["value"] for r in practice.extract_indicators([text])] == values


# --- words through pymorphy3 -------------------------------------------------------------------


def test_one_analyzer_made_on_first_use_and_word_analyses_cached():
    assert russian.analyzer() is russian.analyzer()
    assert russian.analyzer.cache_info().currsize == 1
    russian.analysis("клубов")
    hits = russian.analysis.cache_info().hits
    assert russian.parses("клубов")[0].normal_form == "клуб"
    assert russian.analysis.cache_info().hits == hits + 1


def test_a_giant_word_is_not_analysed():
    giant = "а" * (russian.MAX_WORD + 1)
    assert russian.parses(giant) == () and not russian.is_known(giant)
    assert russian.cardinal(giant) is None and russian.noun(giant) is None
    assert _one(f"5 {giant}")["noun_lemma"] == giant  # kept as printed


def test_only_words_of_the_dictionary_are_analysed():
    # pymorphy3 would guess `хакатон` from the ending; a guess costs forty times a look-up
    assert russian.parses("хакатонов") == () and russian.noun("хакатонов") is None
    # a hyphenated word is analysed by its last part, the first kept as printed
    assert russian.noun("онлайн-клубов", Decimal(5)) == ("онлайн-клуб", "masc")
    assert russian.adjective_lemma("культурно-массовых", "neut") == "культурно-массовое"
    # a noun of the controlled list the dictionary lacks has its forms all the same
    assert russian.paradigm("благополучатель")["благополучателей"] == (
        "благополучатель", "masc")
    assert russian.paradigm("нко") == {"нко": ("нко", russian.PLURAL)}


@pytest.mark.parametrize("word, value", [
    ("двух", 2), ("трёх", 3), ("одну", 1), ("пятерых", 5), ("полутора", D("1.5")),
    ("двумястами", 200), ("сорока", 40), ("ста", 100), ("девятистах", 900),
    ("пятый", None), ("семья", None), ("клубов", None),
])
def test_cardinal_numerals_by_lemma(word, value):
    assert russian.cardinal(russian.normal(word)) == value


@pytest.mark.parametrize("word, alone", [
    ("тысяча", russian.ALONE), ("тысячу", russian.ALONE), ("миллионом", russian.ALONE),
    ("тысячи", russian.AFTER_QUALIFIER), ("миллиона", russian.AFTER_QUALIFIER),
    ("тысяч", russian.NEVER), ("миллионы", russian.NEVER), ("тыс", russian.NEVER),
    ("десятка", russian.NEVER), ("сотни", russian.NEVER),
])
def test_scale_words_name_a_number_alone_only_in_the_singular(word, alone):
    found = russian.scale(word)
    assert found is not None and found[1] == alone


# --- golden cases: the parser before pymorphy3 and razdel --------------------------------------

GOLDEN = Path(__file__).parent / "golden"
# Where the parser reads a golden case differently on purpose: (input, record, field) ->
# (before, now). A noun the dictionary holds is lemmatised now; the hand-written tables
# knew only the nouns of the samples, the seeds and the controlled list.
CHANGED_RECORDS: dict[tuple[str, int, str], tuple[str, str]] = {
    ("в 3, 5 и 7 классах", 0, "noun_lemma"): ("классах", "класс"),
    ("12 скворечников", 0, "noun_lemma"): ("скворечников", "скворечник"),
}
# razdel keeps a numbered item whole («1. Создание …») and ends a sentence at «; Удмуртская».
CHANGED_SPLITS: dict[str, list[str]] = {
    "Регионы: Пермский край; Удмуртская Республика": [
        "Регионы: Пермский край;", "Удмуртская Республика"],
}


def _golden(name: str) -> dict:
    return json.loads((GOLDEN / name).read_text(encoding="utf-8"))


def _plain(value):
    """A record as the golden files hold it: Decimal and date as text."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def test_golden_sentences_read_as_before():
    cases = _golden("practice_sentences.json")["paragraphs"]
    assert len(cases) > 150
    changed = set()
    for case in cases:
        key = "\n".join(case["paragraphs"])
        expected = case["records"]
        for (text, row, field), (before, now) in CHANGED_RECORDS.items():
            if text == key:
                assert expected[row][field] == before
                expected[row][field] = now
                changed.add(text)
        assert _plain(practice.extract_indicators(case["paragraphs"])) == expected, key
    assert changed == {text for text, _, _ in CHANGED_RECORDS}


def test_golden_generated_mixes_read_as_before_but_for_sentence_bounds():
    # Nonsense text: where razdel ends a sentence in it is no contract, every other field is.
    for case in _golden("practice_sentences.json")["generated"]:
        got = _plain(practice.extract_indicators([case["text"]]))
        assert [{**r, "sentence": None} for r in got] == [
            {**r, "sentence": None} for r in case["records"]], case["text"]


def test_golden_sentence_splits():
    for case in _golden("practice_sentences.json")["sentences"]:
        paragraph, expected = case["paragraph"], case["sentences"]
        if re.match(r"\d\. ", paragraph) and expected[0] == paragraph[:2]:
            expected = [paragraph]
        expected = CHANGED_SPLITS.get(paragraph, expected)
        assert practice.sentences(paragraph) == expected, paragraph


def test_golden_sample_pages():
    parsers = {"parse_page": practice.parse_page, "parse_card": programme_card.parse_card,
               "parse_card_indicators": programme_card.parse_card_indicators}
    pages = _golden("practice_pages.json")["pages"]
    assert set(pages) == {*practice.PRACTICE_URLS, *programme_card.PROGRAMME_URLS}
    for url, outputs in pages.items():
        body = sample_path(url, FIXTURES_DIR).read_bytes()
        for name, records in outputs.items():
            assert _plain(parsers[name](body, url=url)) == records, (url, name)


# --- the page --------------------------------------------------------------------------------


def _page(article: str, head: str = "") -> list[dict]:
    html = f"<html><head>{head}</head><body><article>{article}</article></body></html>"
    return practice.parse_page(html.encode(), url="test://practice.html")


def test_page_without_h1_takes_og_title_and_dates_in_words():
    records = _page('<div class="date">15 марта 2023 г.</div><p>339 клубов</p>',
                    head='<meta property="og:title" content="Практика"><title>Сайт</title>')
    assert (records[0]["page_title"], records[0]["published_on"]) == ("Практика", date(2023, 3, 15))


def test_region_from_an_article_tag_meta():
    records = _page("<p>339 клубов</p>",
                    head='<meta property="article:tag" content="дети">'
                         '<meta property="article:tag" content="Республика Коми">')
    assert records[0]["region_text"] == "Республика Коми"
    assert _page("<p>339 клубов</p>")[0]["region_text"] is None


def test_a_date_that_does_not_parse_is_quarantined_not_dropped():
    records = _page('<time datetime="2023-02-31">31 февраля</time><p>339 клубов</p>')
    assert records[0]["published_on"] is None
    (q,) = validate(records, INDICATORS).quarantined
    assert any("published_on" in reason for reason in q.reasons)


def test_line_breaks_in_html_source_do_not_split_a_phrase():
    assert [r["value"] for r in _page("<p>придумали пятнадцать\n\t\tволонтёров</p>")] == [15]
    # a <br> does end a paragraph: «5<br>клубов» is a bare number and a heading
    assert _page("<p>итого 5<br>клубов</p>") == []


# --- the schema ------------------------------------------------------------------------------


def _valid_record(**changes) -> dict:
    record = _one("более 700 пожилых людей")
    record.update(page_title="T", published_on=None, region_text=None, _row=1)
    record.update(changes)
    return record


@pytest.mark.parametrize("changes, reason", [
    ({"value": D(-1)}, "value"),
    ({"value": None}, "value"),
    ({"value": D("0.0001")}, "value"),
    ({"sentence": None}, "sentence"),
    ({"sentence": "  "}, "sentence"),
    ({"indicator": "pensioners"}, "indicator"),
    ({"unit": "штук"}, "unit"),
    ({"qualifier": "вроде"}, "qualifier"),
    ({"value_max": D(5)}, "range_upper_not_below_value"),
    ({"unit": "%"}, "unit_fits_indicator"),
])
def test_schema_rejects_unusable_indicators(changes, reason):
    (q,) = validate([_valid_record(**changes)], INDICATORS).quarantined
    assert any(reason in r for r in q.reasons), q.reasons


def test_schema_accepts_other_with_any_unit():
    result = validate([_valid_record(indicator="other", unit="единиц")], INDICATORS)
    assert result.quarantined == []


# --- the controlled list ---------------------------------------------------------------------


def test_controlled_list_has_the_required_codes_and_units():
    codes = controlled_indicators()
    required = {"participants", "beneficiaries", "volunteers", "events", "clubs",
                "organisations", "municipalities", "publications", "media_stories", "projects",
                "growth_percent", "funds", "holidays", "exhibitions", "concerts",
                "sports_competitions", "seminars", "lectures", "improvement_events",
                "playgrounds", "territories_improved"}
    assert required <= set(codes)
    assert {row["unit"] for row in codes.values()} <= UNITS
    assert codes["growth_percent"]["unit"] == "%" and codes["funds"]["unit"] == "руб."
    assert all(row["source"] and row["description"] for row in codes.values())


def test_codes_shared_with_the_curated_vocabulary_are_spelled_the_same():
    # every indicator seed 003's statistics give is a curated code too, so the two sources add up
    needed = {indicator for _, indicator in SEED_003_STATISTICS.values()}
    assert needed <= set(controlled_indicators())
    assert needed <= CURATED_INDICATORS


def test_noun_seed_maps_only_to_listed_codes_and_has_no_duplicates():
    with INDICATOR_NOUNS_CSV.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    keys = [lemma_key(r["noun_lemma"]) for r in rows]
    assert len(keys) == len(set(keys))
    assert {r["indicator"] for r in rows} <= set(controlled_indicators())
    assert len(noun_indicators()) == len(rows)
    with INDICATORS_CSV.open(encoding="utf-8", newline="") as f:
        assert list(csv.DictReader(f).fieldnames or []) == [
            "indicator", "unit", "description", "source"]


@pytest.mark.parametrize("lemma, indicator", [
    ("человек", "participants"), ("участник", "participants"),
    ("пожилой человек", "beneficiaries"), ("клуб", "clubs"), ("праздник", "holidays"),
    ("Мастер класс", "trainings"), ("молодёжный клуб", "clubs"),
    ("мероприятие по профилактике", "events"), ("площадка", "other"),
    ("детская игровая площадка", "playgrounds"), ("скворечник", "other"), (None, "other"),
])
def test_indicator_for(lemma, indicator):
    assert indicator_for(lemma) == indicator


def test_lemma_key():
    assert lemma_key(" Сюжет в  СМИ ") == "сюжет в сми"
    assert lemma_key("мастер-класс") == lemma_key("мастер класс") == "мастер класс"
    assert lemma_key("Ёлка") == "елка"
    assert lemma_key(" - ") is None
