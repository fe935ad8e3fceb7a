"""ФПГ list pages: page count, every card link kept (the last, shorter page too), amounts."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from scrapers import fpg
from scrapers.samples import FIXTURES_DIR, sample_path

CARD_DIR = FIXTURES_DIR / fpg.HOST / "public" / "application"


def _page(n: int) -> bytes:
    return sample_path(fpg.list_page_url(n), FIXTURES_DIR).read_bytes()


def _soup_links(body: bytes) -> list:
    """Card links as BeautifulSoup finds them: the independent reading of the page."""
    soup = BeautifulSoup(body, "html.parser")
    table = soup.select_one("div.table.table--p-present.table--projects")
    return table.select("a[href*='public/application/item']")


def _crawl() -> list[dict]:
    """What the fetch asset does: page 1, its page count, then every page up to it."""
    first = _page(1)
    records = fpg.parse_list(first, url=fpg.list_page_url(1))
    for n in range(2, fpg.parse_page_count(first) + 1):
        records += fpg.parse_list(_page(n), url=fpg.list_page_url(n))
    return records


def test_list_page_url_maps_to_a_sample():
    url = fpg.list_page_url(2)
    assert url == f"https://{fpg.HOST}/public/application/cards?page=2"
    assert sample_path(url, FIXTURES_DIR).name == "cards@page=2"
    assert sample_path(url, FIXTURES_DIR).is_file()
    with pytest.raises(ValueError):
        fpg.list_page_url(0)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_page_count_is_the_last_pagination_item(n):
    body = _page(n)
    items = BeautifulSoup(body, "html.parser").select("li.pagination__item")
    assert items[-1].get_text(strip=True) == "3"
    assert fpg.parse_page_count(body) == 3


def test_page_without_pagination_has_one_page():
    body = re.sub(rb'<ul class="pagination">.*?</ul>', b"", _page(3), flags=re.S)
    assert b"pagination__item" not in body
    assert fpg.parse_page_count(body) == 1


def test_a_page_that_is_not_a_list_page_is_refused():
    not_a_list = sample_path(fpg.OPEN_DATA_URL, FIXTURES_DIR).read_bytes()
    with pytest.raises(ValueError, match="neither pagination nor a project table"):
        fpg.parse_page_count(not_a_list)
    with pytest.raises(ValueError, match="open-data"):
        fpg.parse_list(not_a_list, url=fpg.OPEN_DATA_URL)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_one_record_per_card_link_in_page_order(n):
    body = _page(n)
    links = _soup_links(body)
    records = fpg.parse_list(body, url=fpg.list_page_url(n))
    assert len(records) == len(links) > 0
    assert [r["_row"] for r in records] == list(range(1, len(links) + 1))
    for record, link in zip(records, links, strict=True):
        assert record["card_url"] == f"https://{fpg.HOST}{link['href']}"
        assert record["card_id"] == parse_qs(urlsplit(link["href"]).query)["id"][0].lower()
        assert record["title"] == " ".join(link.select_one(".projects__title").get_text().split())


def test_the_last_shorter_page_is_kept_and_every_card_is_linked():
    sizes = [len(fpg.parse_list(_page(n))) for n in (1, 2, 3)]
    assert sizes[-1] < sizes[0]  # the last page is the short one
    records = _crawl()
    assert len(records) == sum(sizes)
    linked = {r["card_id"] for r in records}
    saved = {p.name.removeprefix("item@id=") for p in CARD_DIR.glob("item@id=*")}
    assert linked == saved  # every link has its sample, every sample is linked
    assert len(saved) >= 12
    assert all(sample_path(r["card_url"], FIXTURES_DIR).is_file() for r in records)


def test_relative_links_resolve_against_the_page_or_the_site():
    body = _page(1)
    on_site = fpg.parse_list(body)[0]["card_url"]
    assert on_site.startswith(f"https://{fpg.HOST}/public/application/item?id=")
    mirrored = fpg.parse_list(body, url="http://127.0.0.1:8000/public/application/cards?page=1")
    assert mirrored[0]["card_url"].startswith("http://127.0.0.1:8000/public/application/item?id=")


def test_application_number_is_taken_out_of_its_label():
    body = _page(1)
    raw = [el.get_text() for el in BeautifulSoup(body, "html.parser")
           .select(".projects__str-no-wrap")]
    assert raw[0].startswith("№\u00a0")  # `№` and a no-break space before the number
    records = fpg.parse_list(body)
    assert [r["application_number"] for r in records] == [t.split()[-1] for t in raw]
    assert all(re.fullmatch(r"\d{2}-\d-\d{6}", r["application_number"]) for r in records)


def test_fond_price_is_the_grant_and_not_the_requested_amount():
    """`.projects__price--fond` is also a `.projects__price`: the requested amount is the other."""
    body = _page(1)
    soup = BeautifulSoup(body, "html.parser")
    first = soup.select("a[href*='public/application/item']")[0]
    prices = first.select(".projects__price")
    assert len(prices) == 2 and "projects__price--fond" in prices[1]["class"]
    assert "\u00a0₽" in prices[0].get_text()  # no-break space and the ruble sign
    (winner,) = [r for r in fpg.parse_list(body) if r["application_number"] == "17-1-004518"]
    assert winner["status"] == "победитель конкурса"
    assert winner["amount_requested"] == Decimal("1600000.00")
    assert winner["amount_awarded"] == Decimal("1515679.40")


def test_only_winners_rows_carry_a_grant():
    records = _crawl()
    for record in records:
        if record["status"] == "победитель конкурса":
            assert record["amount_awarded"] is not None
            assert record["amount_awarded"] <= record["amount_requested"]
        else:
            assert record["amount_awarded"] is None
        assert record["amount_requested"] > 0
    assert {r["status"] for r in records} >= {"победитель конкурса", "проект не получил поддержку"}


def test_list_amounts_agree_with_the_cards_they_link():
    for record in _crawl():
        (card,) = fpg.parse_card(sample_path(record["card_url"], FIXTURES_DIR).read_bytes(),
                                 url=record["card_url"])
        assert card["application_number"] == record["application_number"]
        assert card["title"] == record["title"]
        assert card["contest"] == record["contest"]
        if record["status"] == "победитель конкурса":
            assert card["amount_awarded"] == record["amount_awarded"]
        else:
            assert card["amount_requested"] == record["amount_requested"]


def test_region_contest_direction_status_as_the_row_shows_them():
    records = {r["application_number"]: r for r in _crawl()}
    first = records["17-1-004518"]
    assert first["region"] == "Нижегородская обл."
    assert first["contest"] == "Первый конкурс 2017"
    assert first["direction"] == "Социальное обслуживание, социальная поддержка и защита граждан"
    assert records["18-2-019044"]["region"] == "Санкт-Петербург"
    assert records["19-2-013580"]["region"] == "Ханты-Мансийский автономный округ — Югра"
    assert records["17-2-011372"]["status"] == "проект не получил поддержку"
    assert len({r["contest"] for r in records.values()}) >= 8
    assert len({r["direction"] for r in records.values()}) >= 10


def test_a_price_that_does_not_parse_is_an_error_not_a_guess():
    body = _page(1).replace("1\u00a0600\u00a0000,00".encode(), "1\u00a0600\u00a0ООО,00".encode())
    (broken,) = [r for r in fpg.parse_list(body) if r["application_number"] == "17-1-004518"]
    assert broken["amount_requested"] is None
    assert any(e.startswith("amount_requested:") for e in broken["_errors"])
