"""Hostile documents: every parse kind parses or refuses them, fast, and says why.

What an attacker (or a broken site) can hand a parser: HTML nested 50 000 elements
deep, random bytes (1 MB, and 200 MB: the HTTP client's size cap), an empty file, a
workbook or another kind's page where a page is expected, a windows-1251 page that
declares no encoding. A refusal is a ValueError naming the document and the reason
(`socfund parse` exits 2 on it; a nightly load quarantines the document); nothing may
take more than a few seconds. `budget` holds each call to its time with a signal, so a
parser that hangs fails its test instead of the run.
"""

from __future__ import annotations

import logging
import random
import re
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pipelines.registry import EntityDecl, parse_kinds, source
from schemas.base import validate
from scrapers import documents, fpg, practice, programme_card
from scrapers.samples import FIXTURES_DIR, SAMPLES_DIR, sample_path

KINDS = parse_kinds()
HTML_KINDS = ("fpg.list", "fpg.card", "municipal.winners", "practice.page", "programme.info",
              "programme.card")
WORKBOOK_KINDS = ("fpg.xlsx", "operators.allocations", "sonko.registry2011", "sonko.federal",
                  "treasury.0503317")
SECONDS = 5.0
FPG_CARD_URL = f"{fpg.BASE_URL}/public/application/item?id=1e822e44-a4bc-4aa2-921b-b5c626386e22"
FPG_XLSX_URL = f"{fpg.BASE_URL}/upload/opendata/projects.xlsx"


def document(url: str) -> Path:
    """The kept document of this URL: a real one in samples/, else an invented fixture."""
    for root in (SAMPLES_DIR, FIXTURES_DIR):
        path = sample_path(url, root)
        if path.is_file():
            return path
    raise FileNotFoundError(f"no document kept for {url}")


class OverBudget(BaseException):
    """A parser ran past its time. Not an Exception: no parser's handler may swallow it."""


@contextmanager
def budget(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds` (SIGALRM), restoring any timer set before
    (pytest-timeout's), so a hang fails one test and no more."""
    def over(signum, frame):
        raise OverBudget(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, over)
    outer_left, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left:
            signal.setitimer(signal.ITIMER_REAL,
                             max(outer_left - (time.monotonic() - started), 0.001))


def url_of(decl: EntityDecl) -> str:
    """An address the kind's documents have: some parsers read the file's name."""
    declared = [url for kind, url in source(decl.entity.source).documents
                if kind == decl.document_kind]
    if decl.cli_name == "operators.winners":
        return next(url for url in declared if url.endswith(".csv"))
    return declared[0] if declared else f"https://{decl.entity.source}.test/document"


def run(kind: str, body: bytes, seconds: float = SECONDS) -> tuple[list[dict] | ValueError, float]:
    """The kind's records (or its refusal) and the seconds it took, within `seconds`."""
    decl = KINDS[kind]
    started = time.monotonic()
    with budget(seconds):
        try:
            records: list[dict] | ValueError = decl.parse(body, url=url_of(decl))
        except ValueError as exc:
            records = exc
    return records, time.monotonic() - started


def refused(kind: str, body: bytes, seconds: float = SECONDS) -> str:
    """The reason `kind` refuses `body`, which it must do within `seconds`."""
    got, took = run(kind, body, seconds)
    assert isinstance(got, ValueError), f"{kind} accepted it: {str(got)[:300]}"
    assert took < seconds
    return str(got)


# --- 1. deeply nested HTML ---------------------------------------------------------------------


def nested_page(depth: int, before: str = "") -> bytes:
    return ("<html><head><title>Глубокая страница</title></head><body>"
            f"{before}<h1>Практика</h1>" + "<div>" * depth
            + "<p>Более 700 пожилых людей посетили 339 клубов.</p>"
            + "</div>" * depth + "</body></html>").encode()


@pytest.mark.parametrize("kind", HTML_KINDS)
def test_html_nested_50_000_deep_is_refused_within_seconds(kind):
    page = nested_page(50_000)
    assert 500_000 < len(page) < 600_000
    assert "deep" in refused(kind, page)


@pytest.mark.parametrize("kind", ["practice.page", "programme.card"])
def test_html_nested_200_deep_is_still_read(kind):
    page = nested_page(200, before="<p>Цель: клубы.</p>")  # a label makes it a card too
    records, took = run(kind, page)
    assert not isinstance(records, ValueError), records
    assert [(r["value"], r["indicator"]) for r in records] == [(700, "beneficiaries"),
                                                                (339, "clubs")]
    assert took < SECONDS


# --- 2. what is not a document of the kind -----------------------------------------------------

RANDOM_MB = random.Random(14).randbytes(1 << 20)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("body", [b"", b" \r\n\t ", RANDOM_MB], ids=["empty", "blank", "random"])
def test_empty_blank_and_random_bytes_are_refused_by_every_kind(kind, body):
    reason = refused(kind, body)
    assert reason.strip()


@pytest.mark.parametrize("kind", [k for k in KINDS if k not in WORKBOOK_KINDS
                                  and k != "operators.winners"])
def test_a_workbook_is_refused_where_a_page_or_text_is_expected(kind):
    reason = refused(kind, document(FPG_XLSX_URL).read_bytes())
    assert reason.strip()


@pytest.mark.parametrize("kind", WORKBOOK_KINDS)
def test_a_page_is_refused_where_a_workbook_is_expected(kind):
    assert "not a readable XLS" in refused(kind, document(FPG_CARD_URL).read_bytes())


@pytest.mark.parametrize("kind", HTML_KINDS)
def test_binary_reasons_name_what_the_bytes_are(kind):
    assert "ZIP" in refused(kind, document(FPG_XLSX_URL).read_bytes())
    assert "binary" in refused(kind, RANDOM_MB)
    assert "empty" in refused(kind, b"")


def test_practice_page_refuses_the_fpg_workbook_instead_of_reading_zip_bytes():
    reason = refused("practice.page", document(FPG_XLSX_URL).read_bytes())
    assert "XLSX" in reason and "PK" not in reason


@pytest.mark.parametrize("kind", ["practice.page", "programme.info", "programme.card"])
def test_a_fpg_card_is_not_read_as_a_practice_or_a_programme(kind):
    reason = refused(kind, document(FPG_CARD_URL).read_bytes())
    assert "ФПГ project card" in reason and "fpg.card" in reason


def test_practice_page_refuses_a_page_without_article_text():
    page = ("<html><head><title>Меню</title></head><body><nav>Главная · О нас</nav>"
            "<script>var n = 700;</script></body></html>").encode()
    assert "no article text" in refused("practice.page", page)


def test_practice_page_accepts_any_html_article_with_text():
    page = "<html><body><article><p>Практика без единого числа.</p></article></body></html>"
    records, _ = run("practice.page", page.encode())
    assert records == []
    page = "<p>Открыто 339 клубов.</p>"  # a fragment, no html, head or body
    records, _ = run("practice.page", page.encode())
    assert [(r["value"], r["indicator"]) for r in records] == [(339, "clubs")]


@pytest.mark.parametrize("kind", ["programme.info", "programme.card"])
def test_programme_kinds_refuse_a_page_that_is_no_programme_card(kind):
    page = document(practice.PRACTICE_URLS[0]).read_bytes()
    assert "not a programme card" in refused(kind, page)


def test_practice_text_is_bounded():
    sentence = "Открыто 339 клубов для более 700 пожилых людей. "
    page = ("<html><body><article><p>"
            + sentence * (practice.MAX_TEXT_CHARS // len(sentence) + 1)
            + "</p></article></body></html>").encode()
    reason = refused("practice.page", page)
    assert "characters" in reason and f"{practice.MAX_TEXT_CHARS:_}".replace("_", " ") in reason


def test_page_with_too_many_elements_is_refused():
    page = b"<html><body>" + b"<p>x</p>" * (documents.MAX_ELEMENTS + 1) + b"</body></html>"
    assert "elements" in refused("municipal.winners", page)


# --- 3. 200 MB of junk -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def junk_200mb() -> bytes:
    return random.Random(200).randbytes(200 << 20)


@pytest.fixture(scope="module")
def page_then_junk() -> bytes:
    """A page's head and 8 MB of junk: a check of the first bytes alone would pass it."""
    head = document(practice.PRACTICE_URLS[0]).read_bytes()[:4000]
    return head + RANDOM_MB * 8


@pytest.mark.parametrize("kind", KINDS)
def test_200_mb_of_junk_is_refused_within_seconds_by_every_kind(kind, junk_200mb):
    assert refused(kind, junk_200mb).strip()


@pytest.mark.parametrize("kind", HTML_KINDS)
def test_junk_behind_a_real_page_head_is_refused(kind, page_then_junk):
    assert refused(kind, page_then_junk).strip()


# --- 6. encoding -------------------------------------------------------------------------------

_META_CHARSET = re.compile(r"\s*<meta[^>]*charset=[\"']?utf-8[^>]*>", re.IGNORECASE)


def cp1251_without_charset(page: bytes) -> bytes:
    text, found = _META_CHARSET.subn("", page.decode("utf-8"))
    assert found == 1
    # ₽ and the like have no windows-1251 byte: an old CMS writes a character reference.
    return text.encode("cp1251", errors="xmlcharrefreplace")


def test_fpg_card_in_cp1251_without_a_charset_is_read_as_the_utf8_card(caplog):
    page = document(FPG_CARD_URL).read_bytes()
    expected = fpg.parse_card(page, url=FPG_CARD_URL)
    assert not validate(expected, KINDS["fpg.card"].entity).quarantined
    cp1251 = cp1251_without_charset(page)
    with pytest.raises(UnicodeDecodeError):
        cp1251.decode("utf-8")
    with caplog.at_level(logging.INFO, logger="scrapers.documents"):
        got = fpg.parse_card(cp1251, url=FPG_CARD_URL)
    assert got == expected
    assert any(FPG_CARD_URL in r.getMessage() and "windows-1251" in r.getMessage()
               for r in caplog.records)


def test_fpg_list_in_cp1251_without_a_charset_is_read_as_the_utf8_list():
    url = f"{fpg.LIST_URL}?page=1"
    page = document(url).read_bytes()
    assert fpg.parse_list(cp1251_without_charset(page), url=url) == fpg.parse_list(page, url=url)


@pytest.mark.parametrize("parse, url", [
    (practice.parse_page, practice.PRACTICE_URLS[0]),
    (programme_card.parse_card, programme_card.PROGRAMME_URLS[0]),
])
def test_pages_in_cp1251_without_a_charset_say_the_encoding_they_were_read_in(parse, url,
                                                                             caplog):
    page = document(url).read_bytes()
    with caplog.at_level(logging.INFO, logger="scrapers.documents"):
        assert parse(cp1251_without_charset(page), url=url) == parse(page, url=url)
    assert any(url in r.getMessage() and "windows-1251" in r.getMessage()
               for r in caplog.records)


def test_a_page_in_neither_utf8_nor_cyrillic_windows_1251_is_refused_not_misread():
    page = ("<html><body><table><tr><th>Organisation</th><th>Montant</th></tr>"
            "<tr><td>Société générale à Besançon</td><td>1 000</td></tr></table>"
            "</body></html>").encode("latin-1")
    reason = refused("municipal.winners", page)
    assert "UTF-8" in reason and "windows-1251" in reason


def test_a_page_with_a_few_broken_bytes_is_still_read_as_utf8():
    page = document(practice.PRACTICE_URLS[0]).read_bytes()
    page = _META_CHARSET.sub("", page.decode("utf-8")).encode()
    broken = page.replace("клубов".encode(), "клуб".encode() + b"\xff", 1)
    records, _ = run("practice.page", broken)
    assert not isinstance(records, ValueError), records
    assert records and all("Р" not in r["page_title"] for r in records)


def test_encodings_declared_or_guessed():
    assert documents.page_encoding(b'<meta charset="windows-1251"><p>x', "p") == (
        "cp1251", True)
    assert documents.page_encoding(
        b'<meta http-equiv="Content-Type" content="text/html; charset=utf-8">', "p") == (
        "utf-8", True)
    assert documents.page_encoding(b'<?xml version="1.0" encoding="KOI8-R"?><html>', "p") == (
        "koi8-r", True)
    assert documents.page_encoding(b"\xef\xbb\xbf<p>x", "p") == ("utf-8", True)
    assert documents.page_encoding("<p>Привет, мир</p>".encode(), "p") == ("utf-8", False)
    assert documents.page_encoding("<p>Привет, мир</p>".encode("cp1251"), "p") == (
        "cp1251", False)


def test_sample_pages_are_read_exactly_as_declared():
    for path in document(FPG_CARD_URL).parent.iterdir():
        encoding, declared = documents.page_encoding(path.read_bytes(), str(path))
        assert (encoding, declared) == ("utf-8", True), path


def test_a_charset_declared_after_cyrillic_text_is_still_honoured():
    # libxml2 looks for `<meta charset>` only before the first non-ASCII byte: a Cyrillic
    # comment ahead of it must not have the page read as Latin-1.
    from scrapers.documents import html_soup, html_tree

    page = ('<html><head><!-- Реестр --><meta charset="utf-8"><title>Т</title></head>'
            '<body><p>Привет мир</p></body></html>').encode()
    assert html_tree(page, "page", "a page").xpath("string(//p)") == "Привет мир"
    assert html_soup(page, "page", "a page").p.get_text() == "Привет мир"
