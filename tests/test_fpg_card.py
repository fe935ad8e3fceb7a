"""ФПГ project cards: every label matched by its text, every quirk of the page handled."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from lxml import etree

from pipelines.loading import Document
from pipelines.parsing import parse_documents
from schemas.base import validate
from schemas.fpg import CARDS
from schemas.identifiers import is_valid_inn, is_valid_ogrn
from scrapers import fpg
from scrapers.samples import FIXTURES_DIR

CARD_FILES = sorted((FIXTURES_DIR / fpg.HOST / "public" / "application").glob("item@id=*"))
LATIN_C_LABEL = "Cофинансирование"  # as the site writes it: a Latin C, then Cyrillic


def _url(path) -> str:
    return f"https://{fpg.HOST}/public/application/item?id={path.name.removeprefix('item@id=')}"


def _card(number: str) -> tuple[str, bytes]:
    """The card sample showing this application number (found by its text, not the parser)."""
    for path in CARD_FILES:
        body = path.read_bytes()
        if f"Заявка №\u00a0{number}<".encode() in body:
            return _url(path), body
    raise LookupError(number)


def _parse(number: str) -> dict:
    url, body = _card(number)
    (record,) = fpg.parse_card(body, url=url)
    return record


def _soup_box(body: bytes, box_id: str):
    return BeautifulSoup(body, "html.parser").find("div", id=box_id)


def _squash(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("path", CARD_FILES, ids=lambda p: p.name[8:16])
def test_every_card_yields_one_clean_record(path):
    body = path.read_bytes()
    records = fpg.parse_card(body, url=_url(path))
    assert len(records) == 1
    (record,) = records
    assert "_errors" not in record
    assert record["_row"] == 1
    assert record["card_id"] == path.name.removeprefix("item@id=")
    soup = BeautifulSoup(body, "html.parser")
    crumb = soup.select("li.breadcrumbs__item")[-1].get_text()
    assert record["application_number"] == crumb.split()[-1]
    assert record["title"] == _squash(soup.select_one("h2.winner-info__title").get_text())
    assert record["status"] == soup.select_one("p.winner-info__status span").get_text()
    assert record["contest_year"] == int(record["contest"][-4:])
    assert record["summary"] and record["aims"] and record["social_significance"]
    assert record["tasks"] and record["target_groups"] and record["geography"]


def test_enough_variety_in_the_samples():
    records = [fpg.parse_card(p.read_bytes(), url=_url(p))[0] for p in CARD_FILES]
    assert len(records) >= 12
    assert {r["contest_year"] for r in records} >= set(range(2017, 2026))
    assert len({r["direction"] for r in records}) >= 10
    statuses = [r["status"] for r in records]
    assert statuses.count("победитель конкурса") >= 5
    assert statuses.count("проект не получил поддержку") >= 4
    assert all(len(p.read_bytes()) > 20_000 for p in CARD_FILES)  # pages of realistic size


def test_latin_c_cofinancing_label_and_its_cyrillic_twin():
    url, body = _card("18-2-019044")
    assert LATIN_C_LABEL.encode() in body and LATIN_C_LABEL[0] == "C"  # U+0043, not U+0421
    (latin,) = fpg.parse_card(body, url=url)
    assert latin["cofinancing"] == Decimal("5200000.00")
    cyrillic = body.replace(LATIN_C_LABEL.encode(), "Софинансирование".encode())
    assert LATIN_C_LABEL.encode() not in cyrillic
    (record,) = fpg.parse_card(cyrillic, url=url)
    assert record["cofinancing"] == Decimal("5200000.00")


def test_no_break_spaces_in_labels_and_values_and_the_ruble_sign():
    _, body = _card("18-2-019044")
    assert b"\xd0\xa0\xd0\xb0\xd0\xb7\xd0\xbc\xd0\xb5\xd1\x80&nbsp;" in body  # `Размер&nbsp;`
    assert "9\u00a0484\u00a0487,00\u00a0<span class=\"rubl\">₽</span>".encode() in body
    record = _parse("18-2-019044")
    assert record["amount_awarded"] == Decimal("9484487.00")
    assert record["amount_transferred"] == Decimal("9484487.00")
    _, plain_sign = _card("25-2-000871")
    assert "1\u00a0870\u00a0000,00\u00a0₽</span>".encode() in plain_sign  # a bare sign
    assert _parse("25-2-000871")["amount_awarded"] == Decimal("1870000.00")


def test_rating_has_a_decimal_comma():
    _, body = _card("18-2-019044")
    assert b">88,67<" in body
    assert _parse("18-2-019044")["rating"] == Decimal("88.67")
    assert _parse("25-2-000871")["rating"] == Decimal("88.25")


def test_period_is_split_into_start_and_end():
    _, body = _card("18-2-019044")
    assert "01.07.2018\u00a0- 30.06.2020".encode() in body
    record = _parse("18-2-019044")
    assert (record["start_date"], record["end_date"]) == (date(2018, 7, 1), date(2020, 6, 30))
    assert record["submitted_on"] == date(2018, 4, 4)


def test_a_period_that_is_not_one_is_an_error():
    url, body = _card("18-2-019044")
    broken = body.replace("01.07.2018\u00a0- 30.06.2020".encode(), "с 01.07.2018".encode())
    (record,) = fpg.parse_card(broken, url=url)
    assert record["start_date"] is None and record["end_date"] is None
    assert any("start_date" in e and "end_date" in e for e in record["_errors"])


def test_geography_drops_the_leading_count_of_regions():
    _, body = _card("18-2-019044")
    text = _squash(_soup_box(body, "winner-geography").get_text())
    summary = re.search(r"География проекта (\d+) регионов:", text)
    assert summary, text
    regions = _parse("18-2-019044")["geography"]
    assert len(regions) == int(summary.group(1)) == 12
    assert not any("регион" in r for r in regions)
    assert regions[0] == "Алтайский край"
    assert "Ханты-Мансийский автономный округ — Югра" in regions
    assert _parse("22-2-005612")["geography"] == ["г. Москва", "Московская обл."]
    assert _parse("17-1-004518")["geography"] == ["Нижегородская обл."]


def test_tasks_and_target_groups_are_lists_of_their_items():
    _, body = _card("17-1-004518")
    tasks = [_squash(li.get_text()) for li in _soup_box(body, "winner-tasks").find_all("li")]
    targets = [_squash(li.get_text()) for li in _soup_box(body, "winner-target").find_all("li")]
    record = _parse("17-1-004518")
    assert record["tasks"] == tasks and len(tasks) == 4
    assert record["target_groups"] == targets == [
        "Пожилые люди", "Одиноко проживающие граждане", "Волонтёры"]
    assert record["aims"].startswith("Повышение качества жизни")
    assert "Краткое описание" not in record["summary"]  # the heading is not the text
    assert "\u00a0" not in record["summary"]


def test_website_none_when_the_site_says_so():
    _, body = _card("17-2-011372")
    assert "Веб-сайт: нет".encode() in body
    assert _parse("17-2-011372")["website"] is None
    assert _parse("25-2-000871")["website"] is None
    assert _parse("17-1-004518")["website"] == "http://perekrestok-nn.ru"
    assert _parse("17-1-004518")["address"].startswith("603005, Нижегородская обл.")


def test_winner_labels_give_grant_cofinancing_and_transfer():
    _, body = _card("25-2-000871")
    for label in ("Размер&nbsp;гранта", LATIN_C_LABEL,
                  "Перечислено Фондом на&nbsp;реализацию проекта"):
        assert label.encode() in body
    record = _parse("25-2-000871")
    assert record["status"] == "победитель конкурса"
    assert record["amount_awarded"] == Decimal("1870000.00")
    assert record["cofinancing"] == Decimal("640000.00")
    assert record["amount_transferred"] == Decimal("1122000.00")  # a project still running
    assert record["amount_requested"] is None and record["total_cost"] is None


def test_non_winner_labels_give_requested_cofinancing_and_total():
    _, body = _card("17-2-011372")
    for label in ("Запрашиваемая&nbsp;сумма", LATIN_C_LABEL,
                  "Общая сумма расходов на&nbsp;реализацию проекта"):
        assert label.encode() in body
    record = _parse("17-2-011372")
    assert record["amount_requested"] == Decimal("2994812.00")
    assert record["cofinancing"] == Decimal("450000.00")
    assert record["total_cost"] == record["amount_requested"] + record["cofinancing"]
    assert record["amount_awarded"] is None and record["amount_transferred"] is None


def test_a_card_without_an_ogrn_item():
    _, body = _card("19-2-013580")
    assert "ОГРН".encode() not in body
    record = _parse("19-2-013580")
    assert record["ogrn"] is None and "_errors" not in record
    assert is_valid_inn(record["inn"])
    assert validate([record], CARDS).valid[0]["ogrn_valid"] is None


def test_a_card_without_a_cofinancing_item():
    _, body = _card("20-2-008765")
    assert "офинансирование".encode() not in body
    record = _parse("20-2-008765")
    assert record["cofinancing"] is None
    assert record["amount_awarded"] == record["amount_transferred"] == Decimal("745000.00")


def test_an_inn_failing_its_check_digit_is_kept_as_shown():
    _, body = _card("19-1-002211")
    shown = BeautifulSoup(body, "html.parser").find(
        "span", string="ИНН").find_next_sibling("span").get_text()
    record = _parse("19-1-002211")
    assert record["inn"] == shown
    assert len(shown) == 10 and not is_valid_inn(shown)
    assert is_valid_ogrn(record["ogrn"])


def test_labels_are_matched_by_text_not_position():
    url, body = _card("18-2-019044")
    expected = fpg.parse_card(body, url=url)[0]
    doc = etree.fromstring(body, etree.HTMLParser())
    lists = doc.xpath("//ul[contains(@class, 'winner-info__list')]"
                      " | //ul[contains(@class, 'circle-bar__info')]")
    for ul in lists:  # reverse every list's items
        items = list(ul)
        for item in items:
            ul.remove(item)
        for item in reversed(items):
            ul.append(item)
    shuffled = etree.tostring(doc, encoding="utf-8", method="html")
    assert shuffled != body
    assert fpg.parse_card(shuffled, url=url)[0] == expected


def test_card_id_comes_from_the_page_when_no_url_is_given():
    url, body = _card("23-1-010455")
    (record,) = fpg.parse_card(body)
    assert record["card_id"] == url.rsplit("=", 1)[1]


def test_a_block_page_is_a_quarantined_record_not_a_crash():
    page = "<html><body><h1>Доступ временно ограничен</h1><script>check()</script></body></html>"
    (record,) = fpg.parse_card(page.encode(), url=_url(CARD_FILES[0]))
    assert record["title"] is None and record["application_number"] is None
    assert any(e.startswith("title:") for e in record["_errors"])
    assert any(e.startswith("application_number:") for e in record["_errors"])
    result = validate([record], CARDS)
    assert not result.valid and len(result.quarantined) == 1


class _Kept:
    """A raw store holding one body, whatever its digest."""

    def __init__(self, body: bytes):
        self.body = body

    def get(self, source: str, sha256: str) -> bytes:
        return self.body


@pytest.mark.parametrize("body, reason", [(b"", "empty document"), (b"   ", "empty document"),
                                          (b"\x00\x01", "binary data")])
def test_an_empty_or_broken_body_is_refused_and_a_night_quarantines_it(body, reason):
    url = _url(CARD_FILES[0])
    with pytest.raises(ValueError, match=rf"^{re.escape(url)}: {reason}.*not a ФПГ project card"):
        fpg.parse_card(body, url=url)
    # A night's load keeps going: the document is one quarantined entry naming its URL.
    doc = Document("card", url, "0" * 64, "2024-01-01T00:00:00+00:00")
    records, rejected = parse_documents(_Kept(body), "fpg", [doc], fpg.parse_card,
                                        per_document_errors=True)
    assert records == []
    (held,) = rejected
    assert held.record == {"url": url} and held.reasons[0].startswith(f"{url}: ")
    assert reason in held.reasons[0]


def test_a_card_missing_its_title_is_quarantined():
    url, body = _card("17-1-004518")
    broken = re.sub(rb'<h2 class="winner-info__title">.*?</h2>', b"", body, flags=re.S)
    (record,) = fpg.parse_card(broken, url=url)
    assert record["title"] is None and record["application_number"] == "17-1-004518"
    assert any(url in e for e in record["_errors"])
    (held,) = validate([record], CARDS).quarantined
    assert any("title" in reason for reason in held.reasons)


def test_renamed_amount_labels_are_noticed():
    url, body = _card("17-1-004518")
    renamed = body.replace(b'circle-bar__info-item-title">',
                           "circle-bar__info-item-title\">Новая метка ".encode())
    (record,) = fpg.parse_card(renamed, url=url)
    assert record["amount_awarded"] is None
    assert any(e.startswith("amounts:") for e in record["_errors"])
