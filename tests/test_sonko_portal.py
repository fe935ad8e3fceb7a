"""The regional registries are found on the Smolensk NGO portal's page by link text and
extension (SOURCES.md §2a); a page that links none is a failed fetch naming what was missing."""

from __future__ import annotations

import pytest

from pipelines.registry import source
from scrapers import sonko
from scrapers.samples import FIXTURES_DIR, SAMPLES_DIR, sample_path
from tests.conftest import REAL

PAGE = sonko.REGISTRY_PORTAL_URL


def _page(links: str) -> bytes:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
            f"<h1>Реестр СО НКО – получателей поддержки</h1><ul>{links}</ul></body></html>"
            ).encode()


def test_the_portal_page_is_the_live_address_of_sources_md():
    assert PAGE == ("http://www.xn--67-1lclg.xn--p1ai/baza-dannyx-o-so-nko/"
                    "reestr-so-nko-poluchatelej-podderzhki/")
    declared = source("sonko")
    assert PAGE in declared.addresses and sonko.REGISTRY_PORTAL_HOST in declared.hosts
    assert declared.documents == ()  # its fetch is its own: page, then the files it links


def test_the_offline_index_page_links_the_real_registries_shipped_beside_it():
    body = sample_path(PAGE).read_bytes()
    links = sonko.find_registry_links(body, PAGE)
    assert [link.rsplit("/", 1)[1] for link in links] == [
        f"sonko_registry_smolensk_{year}.xls" for year in (2012, 2013, 2014, 2015)]
    for link in links:
        assert link.startswith(f"http://{sonko.REGISTRY_PORTAL_HOST}/")
        shipped = sample_path(link, SAMPLES_DIR)
        assert shipped.read_bytes() == (REAL / shipped.name).read_bytes()
    # The page is ours, and says so to a reader and in its source.
    text = body.decode("utf-8")
    assert "Это не страница портала" in text and "<!--" in text and "socfund" in text


def test_the_fixture_page_links_the_invented_2016_registry():
    links = sonko.find_registry_links(sample_path(PAGE, FIXTURES_DIR).read_bytes(), PAGE)
    assert links == sonko.REGISTRY2011_URLS
    assert sample_path(links[0], FIXTURES_DIR).is_file()


def test_relative_links_are_resolved_against_the_page_and_others_passed_over():
    body = _page(
        '<li><a href="../../upload/Reestr-2016.XLSX">Реестр получателей поддержки, 2016 г.</a></li>'
        '<li><a href="files/reestr_2017.xls">скачать</a> Реестр СО НКО за 2017 год</li>'
        '<li><a href="/upload/reestr_2018.pdf">Реестр СО НКО за 2018 год</a></li>'
        '<li><a href="/upload/plan.xls">План мероприятий на 2018 год</a></li>'
        '<li><a href="/upload/reestr.xls">Реестр СО НКО</a></li>'
        '<li><a href="https://other.example/r.xls?x=1" title="Реестр 2019">XLS</a></li>'
        '<li><a href="files/reestr_2017.xls">Реестр 2017 (копия ссылки)</a></li>')
    assert sonko.find_registry_links(body, PAGE) == [
        "http://www.xn--67-1lclg.xn--p1ai/upload/Reestr-2016.XLSX",
        PAGE + "files/reestr_2017.xls",
        "https://other.example/r.xls?x=1",
    ]


def test_a_page_without_a_registry_link_fails_naming_the_page_and_what_was_missing():
    body = _page('<li><a href="/upload/reestr_2018.pdf">Реестр СО НКО за 2018 год</a></li>'
                 '<li><a href="/news/">Новости</a></li>')
    with pytest.raises(ValueError) as caught:
        sonko.find_registry_links(body, PAGE)
    message = str(caught.value)
    assert PAGE in message
    assert ".xls/.xlsx" in message and "«реестр»" in message and "a year" in message
    assert "2 links on the page" in message


def test_a_body_that_is_no_page_fails_naming_the_page():
    with pytest.raises(ValueError, match="reestr-so-nko-poluchatelej-podderzhki"):
        sonko.find_registry_links(b"", PAGE)
