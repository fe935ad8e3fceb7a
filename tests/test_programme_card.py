"""Programme cards: our rendering of seed 000, and cards laid out in other ways."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from schemas.base import validate
from schemas.programme_card import CARDS
from schemas.programme_card import INDICATORS as CARD_INDICATORS
from scrapers import programme_card
from scrapers.samples import sample_path
from scrapers.values import clean_text

SEEDS = Path(__file__).parents[2] / "shared" / "seeds"
(URL,) = programme_card.PROGRAMME_URLS


def _seed_000() -> str:
    (path,) = SEEDS.glob("000_*.txt")
    return path.read_text(encoding="utf-8")


def _body() -> bytes:
    return sample_path(URL).read_bytes()


def _cards(inner: str, head: str = "") -> list[dict]:
    html = f"<html><head>{head}</head><body>{inner}</body></html>"
    return programme_card.parse_card(html.encode(), url="test://card.html")


# --- the sample, against seed 000 ------------------------------------------------------------


def test_sample_lives_where_the_url_points():
    assert programme_card.HOST.endswith(".invalid")
    assert URL.startswith(f"https://{programme_card.HOST}/programmes/")
    assert sample_path(URL).is_file()
    assert programme_card.PARSER_VERSION == "programme_card/1"


def test_sample_says_it_is_our_rendering_of_the_document():
    text = _body().decode("utf-8")
    assert "Вёрстка socfund" in text
    assert "наша HTML-вёрстка документа" in text
    assert "000_2f12cfafa379ea93.txt" in text
    assert "приведён дословно" in text


def test_sample_quotes_every_line_of_seed_000_exactly():
    soup = BeautifulSoup(_body(), "lxml")
    for tag in soup(["script", "style"]):
        tag.decompose()
    page_text = clean_text(soup.get_text(" "))
    lines = [clean_text(line) for line in _seed_000().splitlines() if line.strip()]
    assert len(lines) == 12
    for line in lines:
        assert line in page_text, line
    # the seed's own typo is kept, not corrected
    assert "должно былобыть уделено" in page_text


def test_card_from_the_sample():
    (card,) = programme_card.parse_card(_body(), url=URL)
    assert card == {
        "programme": "Эффективная социальная политика",
        "funder": None,          # the document names no foundation: nothing is inferred
        "goal": "содействие реформированию социальной политики в Российской Федерации.",
        "year_start": 2004,      # «Год начала:» in one element, «2004» in the next
        "year_end": 2007,
        "regions": [],           # «на Дальнем Востоке» is text, not a labelled region
        "target_groups": [],
        "_row": 1,
    }
    seed = _seed_000()
    # Drupal's `field-label` prints a no-break space after the colon; the sample keeps it
    assert "Год начала:\xa0\n2004" in seed and "Год окончания:\xa0\n2007" in seed
    assert "Год начала:&nbsp;</div>" in _body().decode("utf-8")
    assert "Цель: " + card["goal"] in seed


def test_indicators_from_the_sample():
    (record,) = programme_card.parse_card_indicators(_body(), url=URL)
    assert (record["page_title"], record["published_on"], record["region_text"]) == (
        "Эффективная социальная политика", None, None)
    assert (record["value"], record["value_text"], record["noun"], record["indicator"]) == (
        3, "трех", "лет", "other")  # «первых трех лет»; the year fields count nothing
    assert record["sentence"].startswith("В ходе первых трех лет реализации проекта")
    assert record["_row"] == 1


def test_sample_validates():
    assert validate(programme_card.parse_card(_body(), url=URL), CARDS).quarantined == []
    records = programme_card.parse_card_indicators(_body(), url=URL)
    assert validate(records, CARD_INDICATORS).quarantined == []


# --- layouts ---------------------------------------------------------------------------------


def test_labels_as_dt_and_dd_with_lists():
    (card,) = _cards("""
      <h1>Старшее поколение</h1>
      <dl>
        <dt>Донор:</dt><dd>Фонд «Пример» (вымышленный)</dd>
        <dt>Сроки реализации</dt><dd>2010 – 2012 гг.</dd>
        <dt>Регионы:</dt><dd><ul><li>Пермский край</li><li>Республика Саха (Якутия)</li></ul></dd>
        <dt>Целевые группы:</dt><dd>пожилые люди; их семьи, волонтёры</dd>
      </dl>""")
    assert card["funder"] == "Фонд «Пример» (вымышленный)"
    assert (card["year_start"], card["year_end"]) == (2010, 2012)
    assert card["regions"] == ["Пермский край", "Республика Саха (Якутия)"]
    assert card["target_groups"] == ["пожилые люди", "их семьи", "волонтёры"]
    assert card["goal"] is None


def test_labels_as_table_header_cells():
    (card,) = _cards("""<h1>Программа</h1><table>
      <tr><th>Цель программы</th><td>помощь семьям</td></tr>
      <tr><th>Год начала</th><td>2015</td></tr>
      <tr><th>Год окончания</th><td>2018</td></tr></table>""")
    assert (card["goal"], card["year_start"], card["year_end"]) == ("помощь семьям", 2015, 2018)


def test_label_starting_a_plain_paragraph():
    (card,) = _cards("<h1>П</h1><p>Цель: развитие добровольчества.</p>"
                     "<p>География: Пермский край, Свердловская область</p>")
    assert card["goal"] == "развитие добровольчества."
    assert card["regions"] == ["Пермский край", "Свердловская область"]


def test_several_cards_in_pop_ups_on_one_page():
    cards = _cards("""
      <h1>Программы фонда</h1>
      <div class="modal"><h2 class="modal-title">Первая</h2><p><b>Цель:</b> одно.</p>
        <div class="field-label">Год начала:</div><div class="field-items">2001</div>
        <a class="close">Закрыть</a></div>
      <div class="modal"><h2 class="modal-title">Вторая</h2><p><b>Цель:</b> другое.</p>
        <div class="field-label">Год окончания:</div><div class="field-items">2009</div>
        <a class="close">Закрыть</a></div>""")
    assert [(c["programme"], c["goal"], c["year_start"], c["year_end"], c["_row"])
            for c in cards] == [("Первая", "одно.", 2001, None, 1),
                                ("Вторая", "другое.", None, 2009, 2)]


def test_indicators_carry_the_card_and_its_regions():
    html = ("<html><body><h1>Клубы</h1><div class='node'><p>Цель: клубы.</p>"
            "<p>Регионы: Пермский край; Удмуртская Республика</p>"
            "<p>Открыто 339 клубов для более 700 пожилых людей.</p></div></body></html>")
    records = programme_card.parse_card_indicators(html.encode(), url="test://card.html")
    assert [(r["value"], r["indicator"], r["_row"]) for r in records] == [
        (339, "clubs", 1), (700, "beneficiaries", 2)]
    assert {r["region_text"] for r in records} == {"Пермский край; Удмуртская Республика"}
    assert {r["page_title"] for r in records} == {"Клубы"}


def test_card_without_a_title_names_the_page():
    with pytest.raises(ValueError, match=r"test://card\.html: card 1 has no title"):
        _cards("<div class='node'><p>Цель: нет заголовка.</p></div>")


# --- the schema ------------------------------------------------------------------------------


def test_year_that_does_not_parse_is_quarantined_with_its_reason():
    records = _cards("<h1>П</h1><p>Год начала: н/д</p><p>Год окончания: 2007</p>")
    assert records[0]["year_start"] is None
    (q,) = validate(records, CARDS).quarantined
    assert any(r.startswith("year_start: not one year") for r in q.reasons)


def test_start_after_end_fails():
    records = _cards("<h1>П</h1><p>Год начала: 2009</p><p>Год окончания: 2004</p>")
    assert (records[0]["year_start"], records[0]["year_end"]) == (2009, 2004)  # as printed
    (q,) = validate(records, CARDS).quarantined
    assert any("start_not_after_end" in r for r in q.reasons)


@pytest.mark.parametrize("changes, reason", [
    ({"programme": None}, "programme"),
    ({"programme": " "}, "programme"),
    ({"year_start": 1850}, "year_start"),
    ({"regions": None}, "regions"),
    ({"regions": ["Пермский край", ""]}, "regions"),
    ({"target_groups": "пожилые люди"}, "target_groups"),
])
def test_schema_rejects_unusable_cards(changes, reason):
    (card,) = programme_card.parse_card(_body(), url=URL)
    card.update(changes)
    (q,) = validate([card], CARDS).quarantined
    assert any(reason in r for r in q.reasons), q.reasons
