"""Fault injection: the ways a night's fetch or a fetched file goes wrong, on real servers.

Every fault ends in a FetchError naming the source and the URL, or in a record
quarantined with the URL, and nothing already kept is lost: last night's body is still
readable, the fetch log keeps its earlier lines, no partial body is stored and the
validators for tomorrow's conditional GET still point at the kept body.

The client's plain behaviours (one 429 then success, a declared length over the cap, one
redirect off the allow-list, one truncated body) are tested in test_http_client.py; these
tests add the faults around them. Servers are `http_server` (conftest) or the project's own
samples server.
"""

from __future__ import annotations

import gzip
import io
import itertools
import re
import socket
import struct
import time
import tracemalloc
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

import pytest

from pipelines.loading import Document
from pipelines.parsing import parse_documents
from schemas import fpg as fpg_schema
from schemas.base import validate
from scrapers import fpg, municipal, practice, programme_card, sonko, treasury, workbooks
from scrapers.http import Fetched, FetchError, HttpClient
from scrapers.rawstore import VALIDATORS_FILE, FetchRecord, RawStore
from scrapers.samples import FIXTURES_DIR, sample_path
from scrapers.samples_server import serve_samples
from scrapers.workbooks import WorkbookTooLarge
from tests.test_http_client import _send

HOST = "regional-source.test"
EVIL = "evil.test"
SOURCE = "demo"
URL = f"https://{HOST}/konkurs/itogi"
KEPT = "Итоги конкурса 2023: победители".encode()
MIB = 1 << 20


def _client(store: RawStore, addr: str, **kw) -> HttpClient:
    kw.setdefault("min_interval", 0.0)
    kw.setdefault("backoff", 0.01)
    kw.setdefault("retries", 1)
    kw.setdefault("timeout", (2.0, 2.0))
    host_map = kw.pop("host_map", {HOST: addr})
    return HttpClient(store, allowed_hosts={HOST}, host_map=host_map, **kw)


def _names(store: RawStore, source: str = SOURCE) -> list[str]:
    """The files of the source's kept bodies (and of anything half-written)."""
    folder = store.root / source
    return sorted(p.name for p in folder.iterdir()
                  if p.name != VALIDATORS_FILE) if folder.is_dir() else []


def _names_the_fetch(url: str = URL) -> str:
    return rf"^{SOURCE}: {re.escape(url)}"


@dataclass
class Night:
    """Last night's fetch of URL is kept; tonight the server answers with a fault."""

    store: RawStore
    addr: str
    kept: Fetched
    log: list[FetchRecord]
    names: list[str]
    hits: list[float]

    def client(self, **kw) -> HttpClient:
        # A new client, as a new night: it reads the validators back from the fetch log.
        return _client(self.store, self.addr, **kw)

    def assert_nothing_lost(self) -> None:
        assert self.store.get(SOURCE, self.kept.sha256) == KEPT
        log = self.store.read_log()
        assert log[: len(self.log)] == self.log
        assert all(r.sha256 is None and r.error for r in log[len(self.log):])
        assert _names(self.store) == self.names  # no partial body, no temporary file
        assert self.store.last_success()[URL].sha256 == self.kept.sha256


def _night(tmp_path: Path, http_server, fault: Callable) -> Night:
    hits: list[float] = []

    def handle(h):
        hits.append(time.monotonic())
        if len(hits) == 1:
            _send(h, body=KEPT, headers={"ETag": '"v1"'})
        else:
            fault(h)

    addr = http_server(handle)
    store = RawStore(tmp_path / "raw")
    kept = _client(store, addr).get(URL, source=SOURCE)
    return Night(store, addr, kept, store.read_log(), _names(store), hits)


def _reset(h) -> None:
    """Drop the connection with a TCP reset (SO_LINGER 0), as a crashed proxy does."""
    h.wfile.flush()
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.connection.close()
    h.close_connection = True
    h.wfile = io.BytesIO()  # the handler's own flush at the end has nowhere to go


def _headers(h, length: int | None, **extra: str) -> None:
    h.send_response(200)
    if length is not None:
        h.send_header("Content-Length", str(length))
    for name, value in extra.items():
        h.send_header(name.replace("_", "-"), value)
    h.end_headers()


# --- timeouts, resets, truncation: retried, then a clear error ---------------------------------


def _sleep_before_headers(h):
    time.sleep(1.5)


def _sleep_in_body(h):
    _headers(h, 100)
    h.wfile.write(b"x" * 10)
    h.wfile.flush()
    time.sleep(1.5)


def _reset_before_response(h):
    _reset(h)


def _reset_in_body(h):
    _headers(h, 10_000)
    h.wfile.write(b"x" * 4_000)
    _reset(h)


def _truncated(h):
    _headers(h, 1000)
    h.wfile.write(b"short")
    h.close_connection = True


def _server_error(h):
    _send(h, 500, b"<h1>Internal Server Error</h1>")


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (_sleep_before_headers, r"gave up after 2 attempts \(ReadTimeout"),
        (_sleep_in_body, r"gave up after 2 attempts \(.*body could not be read"),
        (_reset_before_response, r"gave up after 2 attempts \(ConnectionError"),
        (_reset_in_body, r"gave up after 2 attempts \(.*body could not be read"),
        (_truncated, r"gave up after 2 attempts \(.*(truncated|could not be read)"),
        (_server_error, r"HTTP 500"),
    ],
    ids=["timeout-headers", "timeout-body", "reset", "reset-in-body", "truncated", "http-500"],
)
def test_fault_is_retried_then_named_and_nothing_kept_is_lost(tmp_path, http_server, fault,
                                                              reason):
    night = _night(tmp_path, http_server, fault)
    client = night.client(timeout=(2.0, 0.3))
    with pytest.raises(FetchError, match=_names_the_fetch() + ".*" + reason):
        client.get(URL, source=SOURCE)
    assert len(night.hits) == 1 + 2  # last night, then both attempts tonight
    night.assert_nothing_lost()


def test_body_broken_once_is_fetched_whole_on_the_retry(tmp_path, http_server):
    fresh = "Итоги конкурса 2024: победители".encode()
    broken = []

    def fault(h):
        if not broken:
            broken.append(True)
            _reset_in_body(h)
        else:
            _send(h, body=fresh)

    night = _night(tmp_path, http_server, fault)
    got = night.client().get(URL, source=SOURCE)
    assert got.body == fresh and not got.not_modified
    assert night.store.get(SOURCE, got.sha256) == fresh
    assert night.store.get(SOURCE, night.kept.sha256) == KEPT
    assert [r.status for r in night.store.read_log()] == [200, 200]
    assert len(_names(night.store)) == 2  # the two whole bodies, nothing partial


# --- 429 and Retry-After ---------------------------------------------------------------------


def test_429_every_time_waits_as_told_then_gives_up_naming_the_url(tmp_path, http_server):
    night = _night(tmp_path, http_server, lambda h: _send(h, 429, headers={"Retry-After": "1"}))
    with pytest.raises(FetchError, match=_names_the_fetch() + r": HTTP 429"):
        night.client(retries=2).get(URL, source=SOURCE)
    tonight = night.hits[1:]
    assert len(tonight) == 3
    assert all(b - a >= 0.9 for a, b in itertools.pairwise(tonight))
    assert night.store.read_log()[-1].error == "HTTP 429"
    night.assert_nothing_lost()


def test_retry_after_as_an_http_date_without_a_zone_is_honoured(tmp_path, http_server):
    # `formatdate` without usegmt writes the zone as `-0000`, which Python reads as a naive
    # datetime: it must still be a wait, not a TypeError out of the client.
    answers = iter([
        lambda h: _send(h, 429, headers={"Retry-After": formatdate(time.time() + 2)}),
        lambda h: _send(h, body=b"after the wait"),
    ])
    night = _night(tmp_path, http_server, lambda h: next(answers)(h))
    got = night.client().get(URL, source=SOURCE)
    assert got.body == b"after the wait"
    assert night.hits[2] - night.hits[1] >= 0.9


# --- compressed bodies -----------------------------------------------------------------------


def test_gzip_body_with_its_wire_length_is_kept_unpacked(tmp_path, http_server):
    page = ("<html><body>" + "Победители конкурса. " * 500 + "</body></html>").encode()
    packed = gzip.compress(page)
    night = _night(tmp_path, http_server,
                   lambda h: (_headers(h, len(packed), Content_Encoding="gzip"),
                              h.wfile.write(packed)))
    got = night.client().get(URL, source=SOURCE)
    assert got.body == page  # Content-Length counts the packed bytes: not a truncation


def test_gzip_bomb_is_refused_by_the_cap_in_bounded_memory(tmp_path, http_server):
    def bomb(h):
        _headers(h, None, Content_Encoding="gzip")
        packer = zlib.compressobj(9, zlib.DEFLATED, 31)
        try:
            for _ in range(2048):  # 2 GiB of zeros, some 2 MB on the wire
                h.wfile.write(packer.compress(bytes(MIB)))
            h.wfile.write(packer.flush())
        except OSError:
            pass

    night = _night(tmp_path, http_server, bomb)
    client = night.client(max_bytes=8 * MIB)
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(FetchError, match=_names_the_fetch() + r": response exceeds the cap"):
            client.get(URL, source=SOURCE)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 10
    assert peak < 64 * MIB
    night.assert_nothing_lost()


# --- a 2 GB response -------------------------------------------------------------------------


def _stream(declared: int | None, sent: list[int]) -> Callable:
    def handle(h):
        _headers(h, declared)
        block = bytes(64 * 1024)
        try:
            while sent[0] < 2 * 1024**3:
                h.wfile.write(block)
                sent[0] += len(block)
        except OSError:
            pass

    return handle


@pytest.mark.parametrize(("declared", "cap"), [(2 * 1024**3, None), (None, 8 * MIB)],
                         ids=["declared-2GB", "endless-stream"])
def test_two_gigabyte_response_is_refused_without_reading_it(tmp_path, http_server, declared,
                                                            cap):
    sent = [0]
    night = _night(tmp_path, http_server, _stream(declared, sent))
    client = night.client() if cap is None else night.client(max_bytes=cap)
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(FetchError, match=_names_the_fetch() + r": response (of \d+ bytes )?"
                                             r"exceeds the cap"):
            client.get(URL, source=SOURCE)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 10
    # Declared: refused on the header, the body never read. Streamed: read up to the cap.
    assert peak < (2 * MIB if cap is None else 3 * cap)
    assert sent[0] < 256 * MIB
    night.assert_nothing_lost()


# --- redirects and links off the allow-list ----------------------------------------------------


@pytest.fixture
def evil(http_server) -> tuple[str, list[str]]:
    """A server standing for another host: it must never be reached."""
    hits: list[str] = []
    return http_server(lambda h: (hits.append(h.path), _send(h, body=b"stolen"))), hits


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        (f"https://{HOST}/hop2", r"evil\.test'? is not on the allow-list"),  # a chain
        ("http://127.0.0.1:{port}/admin", r"'127\.0\.0\.1' is not on the allow-list"),
        (f"//{EVIL}/relative-scheme", r"evil\.test'? is not on the allow-list"),
        (f"https://{HOST}@{EVIL}/userinfo", r"user info or a backslash"),
        ("file:///etc/passwd", r"scheme 'file' is not http or https"),
        (f"ftp://{HOST}/file", r"scheme 'ftp' is not http or https"),
    ],
    ids=["chain", "loopback", "scheme-relative", "userinfo", "file", "ftp"],
)
def test_redirect_off_the_allow_list_is_refused(tmp_path, http_server, evil, location, reason):
    evil_addr, evil_hits = evil
    target = location.format(port=evil_addr.rsplit(":", 1)[1])

    def fault(h):
        if h.path == "/hop2":
            _send(h, 302, headers={"Location": f"https://{EVIL}/steal"})
        else:
            _send(h, 301, headers={"Location": target})

    night = _night(tmp_path, http_server, fault)
    client = night.client(host_map={HOST: night.addr, EVIL: evil_addr})
    with pytest.raises(FetchError, match=rf"^{SOURCE}: .*{reason}"):
        client.get(URL, source=SOURCE)
    assert evil_hits == []
    night.assert_nothing_lost()


def test_backslash_host_trick_reaches_no_other_host(tmp_path, evil):
    # urlsplit reads `http://127.0.0.1:port\@allowed/` as host `allowed`, urllib3 connects
    # to 127.0.0.1:port; with no host map (a live night) the request would leave the list.
    evil_addr, evil_hits = evil
    client = _client(RawStore(tmp_path / "raw"), evil_addr, host_map={})
    url = f"http://{evil_addr}\\@{HOST}/konkurs"
    with pytest.raises(FetchError, match=r"user info or a backslash"):
        client.get(url, source=SOURCE)
    assert evil_hits == []


FPG_LIST_URL = fpg.list_page_url(1)


def _fpg_root(tmp_path: Path, url: str, rewrite: Callable[[str], str]) -> Path:
    """A samples root holding the ФПГ samples, with one page rewritten."""
    root = tmp_path / "samples"
    for path in (FIXTURES_DIR / fpg.HOST).rglob("*"):
        if path.is_file():
            target = root / path.relative_to(FIXTURES_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    page = sample_path(url, root)
    page.write_text(rewrite(page.read_text(encoding="utf-8")), encoding="utf-8")
    return root


def test_fpg_card_links_to_other_hosts_are_never_followed(tmp_path, evil):
    evil_addr, evil_hits = evil
    ids = re.findall(r'href="/public/application/item\?id=([0-9a-f-]+)"',
                     sample_path(FPG_LIST_URL, FIXTURES_DIR).read_text(encoding="utf-8"))
    unicode_host = fpg.HOST.encode("ascii").decode("idna")  # президентскиегранты.рф
    hrefs = [
        f"https://{EVIL}/public/application/item?id={ids[0]}",
        f"//{EVIL}/public/application/item?id={ids[1]}",
        f"https://{fpg.HOST}@{EVIL}/public/application/item?id={ids[2]}",
        f"https://{unicode_host}/public/application/item?id={ids[3]}",  # the same host
    ]

    def rewrite(text: str) -> str:
        for card_id, href in zip(ids, hrefs, strict=False):
            text = text.replace(f'href="/public/application/item?id={card_id}"',
                                f'href="{href}"')
        return text

    root = _fpg_root(tmp_path, FPG_LIST_URL, rewrite)
    with serve_samples(root) as host_map:
        client = HttpClient(RawStore(tmp_path / "raw"), allowed_hosts={fpg.HOST},
                            host_map={**host_map, EVIL: evil_addr}, min_interval=0, retries=0)
        listing = client.get(FPG_LIST_URL, source="fpg")
        card_urls = [item["card_url"] for item in fpg.parse_list(listing.body, url=FPG_LIST_URL)]
        refused, fetched = [], []
        for card_url in card_urls:
            try:
                fetched.append(client.get(card_url, source="fpg"))
            except FetchError as exc:
                refused.append(str(exc))
    assert len(refused) == 3 and len(fetched) == len(card_urls) - 3
    assert all(re.match(rf"^fpg: \S+{EVIL}", message) for message in refused)
    assert any(f.url.startswith(f"https://{unicode_host}/") for f in fetched)
    assert evil_hits == []


def test_fpg_bulk_file_on_another_host_is_refused(tmp_path, evil):
    evil_addr, evil_hits = evil
    root = _fpg_root(tmp_path, fpg.OPEN_DATA_URL, lambda text: text.replace(
        'href="/upload/opendata/projects.xlsx"',
        f'href="https://{EVIL}/upload/opendata/projects.xlsx"'))
    with serve_samples(root) as host_map:
        client = HttpClient(RawStore(tmp_path / "raw"), allowed_hosts={fpg.HOST},
                            host_map={**host_map, EVIL: evil_addr}, min_interval=0, retries=0)
        catalogue = client.get(fpg.OPEN_DATA_URL, source="fpg")
        bulk_url = fpg.find_bulk_url(catalogue.body, fpg.OPEN_DATA_URL)
        with pytest.raises(FetchError, match=rf"^fpg: https://{EVIL}/.*not on the allow-list"):
            client.get(bulk_url, source="fpg")
    assert evil_hits == []


# --- windows-1251 pages served without a charset ------------------------------------------------

_META_CHARSET = re.compile(r"<meta[^>]*charset[^>]*>", re.IGNORECASE)
CP1251_PAGES = [
    (municipal.parse_winners, f"{municipal.BASE_URL}/perm/konkurs/2023/pobediteli.html"),
    (municipal.parse_winners, f"{municipal.BASE_URL}/perm/rayon/2022/itogi.html"),
    (practice.parse_page, practice.PRACTICE_URLS[0]),
    (practice.parse_page, practice.PRACTICE_URLS[1]),
    (programme_card.parse_card, programme_card.PROGRAMME_URLS[0]),
]


def _as_cp1251(sample: bytes, declared: bool) -> bytes:
    """The page in windows-1251, declaring it in its <meta> or declaring nothing at all."""
    head = sample[:2048].lower()
    encoding = "cp1251" if b"windows-1251" in head else "utf-8"
    text = _META_CHARSET.sub("", sample.decode(encoding))
    if declared:
        text = re.sub(r"(<head[^>]*>)", r'\1<meta charset="windows-1251">', text, count=1)
    # A character windows-1251 lacks (₽, a narrow no-break space) becomes a character
    # reference, as an old CMS writes it.
    return text.encode("cp1251", errors="xmlcharrefreplace")


@pytest.mark.parametrize("declared", [True, False], ids=["meta-charset", "no-declaration"])
def test_windows_1251_pages_without_a_charset_header_are_read_right(tmp_path, declared):
    root = tmp_path / "samples"
    expected = {}
    for parse, url in CP1251_PAGES:
        sample = sample_path(url, FIXTURES_DIR).read_bytes()
        expected[url] = parse(sample, url=url)
        page = sample_path(url, root)
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_bytes(_as_cp1251(sample, declared))
    with serve_samples(root) as host_map:
        client = HttpClient(RawStore(tmp_path / "raw"), allowed_hosts=set(host_map),
                            host_map=host_map, min_interval=0)
        for parse, url in CP1251_PAGES:
            got = client.get(url, source="pages")
            assert got.content_type == "text/html"  # no charset in the HTTP header
            with pytest.raises(UnicodeDecodeError):
                got.body.decode("utf-8")
            records = parse(got.body, url=url)
            assert records and records == expected[url], url


# --- a ФПГ card whose layout changed ----------------------------------------------------------


def test_fpg_card_with_a_changed_layout_is_quarantined_naming_its_url(tmp_path):
    ids = re.findall(r'href="/public/application/item\?id=([0-9a-f-]+)"',
                     sample_path(FPG_LIST_URL, FIXTURES_DIR).read_text(encoding="utf-8"))
    healthy, changed = (f"{fpg.BASE_URL}/public/application/item?id={i}" for i in ids[:2])
    # The site renamed its blocks: every class the parser reads is gone.
    root = _fpg_root(tmp_path, changed, lambda text: text.replace("winner", "project-card")
                     .replace("circle-bar", "money-bar"))
    store = RawStore(tmp_path / "raw")
    with serve_samples(root) as host_map:
        client = HttpClient(store, allowed_hosts={fpg.HOST}, host_map=host_map, min_interval=0)
        docs = [Document.of("card", client.get(u, source="fpg")) for u in (healthy, changed)]
    records, rejected = parse_documents(store, "fpg", docs, fpg.parse_card,
                                        per_document_errors=True)
    result = validate(records, fpg_schema.CARDS)
    assert rejected == []
    assert [r["_source_url"] for r in result.valid] == [healthy]
    (held,) = result.quarantined
    assert held.meta["_source_url"] == changed
    assert any(changed in reason and "not found on the card page" in reason
               for reason in held.reasons)
    # The kept bytes stay, for a re-parse once the parser follows the new layout.
    assert b"project-card" in store.get("fpg", docs[1].sha256)


def test_fpg_list_page_with_a_changed_layout_is_one_quarantined_entry(tmp_path):
    root = _fpg_root(tmp_path, FPG_LIST_URL, lambda text: text.replace("table--projects",
                                                                       "table--grants"))
    store = RawStore(tmp_path / "raw")
    with serve_samples(root) as host_map:
        client = HttpClient(store, allowed_hosts={fpg.HOST}, host_map=host_map, min_interval=0)
        doc = Document.of("list", client.get(FPG_LIST_URL, source="fpg"))
    records, rejected = parse_documents(store, "fpg", [doc], fpg.parse_list,
                                        per_document_errors=True)
    assert records == []
    (held,) = rejected
    assert held.record == {"url": FPG_LIST_URL}
    assert held.reasons[0].startswith(f"{FPG_LIST_URL}: ") and "no project table" in (
        held.reasons[0])


# --- spreadsheets that are not spreadsheets, zip bombs, range bombs --------------------------

XLSX_READERS = [
    pytest.param(fpg.parse_xlsx, id="fpg.parse_xlsx"),
    pytest.param(sonko.parse_federal, id="sonko.parse_federal"),
    pytest.param(sonko.parse_registry2011, id="sonko.parse_registry2011"),
    pytest.param(treasury.parse_0503317, id="treasury.parse_0503317"),
]
ERROR_PAGE = ("<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
              "<body><h1>Сервис временно недоступен</h1></body></html>").encode()


def test_html_error_page_saved_as_xlsx_stops_the_load_naming_the_url(tmp_path, http_server):
    addr = http_server(lambda h: _send(h, body=ERROR_PAGE, headers={
        "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}))
    store = RawStore(tmp_path / "raw")
    url = f"https://{HOST}/upload/opendata/projects.xlsx"
    doc = Document.of("xlsx", _client(store, addr).get(url, source="fpg"))
    with pytest.raises(ValueError, match=rf"^fpg: {re.escape(url)}: .*not a readable XLSX"):
        parse_documents(store, "fpg", [doc], fpg.parse_xlsx)
    assert store.get("fpg", doc.sha256) == ERROR_PAGE


@pytest.mark.parametrize("parse", XLSX_READERS)
def test_every_spreadsheet_reader_names_the_url_of_a_file_that_is_not_one(parse):
    url = f"https://{HOST}/files/report.xlsx"
    with pytest.raises(ValueError, match=rf"^{re.escape(url)}: not a readable XLS"):
        parse(ERROR_PAGE, url=url)


_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
    b'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    b'"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
    b'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
    b'worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    b'spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    b'.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    b'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/'
    b'workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    b'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    b'.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    b'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/'
    b'sheet1.xml"/></Relationships>'
)
SHEET = "xl/worksheets/sheet1.xml"


def _deflated(name: str, data: bytes) -> tuple[str, bytes, int, int]:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return name, packer.compress(data) + packer.flush(), zlib.crc32(data), len(data)


def _zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip of (name, raw deflate data, CRC-32, unpacked size), written by hand so that a
    member of gigabytes costs only its compressed bytes to make."""
    out, directory = bytearray(), bytearray()
    for name, data, crc, size in members:
        offset, encoded = len(out), name.encode()
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data),
                           size, len(encoded), 0) + encoded + data
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc,
                                 len(data), size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                      len(directory), len(out), 0)
    return bytes(out + directory + end)


def _xlsx(sheet: tuple[str, bytes, int, int]) -> bytes:
    return _zip([_deflated("[Content_Types].xml", _CONTENT_TYPES), _deflated("_rels/.rels", _RELS),
                 _deflated("xl/workbook.xml", _WORKBOOK),
                 _deflated("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS), sheet])


def _zeros_member(name: str, mib: int) -> tuple[str, bytes, int, int]:
    """A member that unpacks to `mib` MiB: one fully flushed deflate run of a MiB of zeros
    (it refers to nothing before it), repeated. Its CRC is left 0: a reader that checks it
    does so only after unpacking everything."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(bytes(MIB)) + packer.flush(zlib.Z_FULL_FLUSH)
    return name, block * mib + packer.flush(), 0, mib * MIB


def _sheet_xml(cells: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
            f'openxmlformats.org/spreadsheetml/2006/main"><sheetData>{cells}</sheetData>'
            "</worksheet>").encode()


def test_zip_bomb_made_here_really_unpacks_to_what_it_declares():
    _, data, _, size = _zeros_member(SHEET, 3)
    assert size == 3 * MIB
    assert zlib.decompressobj(-15).decompress(data) == bytes(3 * MIB)


@pytest.mark.parametrize("parse", XLSX_READERS)
def test_zip_bomb_is_refused_at_once_naming_the_url(parse):
    bomb = _xlsx(_zeros_member(SHEET, 2048))  # 2 GiB of sheet in some 2 MB
    url = f"https://{HOST}/files/bomb.xlsx"
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(WorkbookTooLarge, match=rf"^{re.escape(url)}: XLSX unpacks to "
                                                   r"2,147,\d{3},\d{3} bytes.*zip bomb"):
            parse(bomb, url=url)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 2
    assert peak < 2 * len(bomb) + 4 * MIB


def test_zip_bomb_under_the_total_limit_is_refused_by_its_ratio():
    bomb = _xlsx(_zeros_member(SHEET, 64))  # 64 MiB from some 64 KB: over 200 : 1
    with pytest.raises(WorkbookTooLarge, match=r"unpacks \d[\d,]* bytes to 67,108,864.*200:1"):
        fpg.parse_xlsx(bomb, url="https://example.test/bomb.xlsx")


def _hwm_bytes() -> int:
    """The process's peak resident memory (VmHWM)."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024


@pytest.mark.parametrize("parse", XLSX_READERS)
def test_range_bomb_is_refused_without_the_reader_allocating_it(parse):
    # Two cells, A1 and XFD1048576: calamine would allocate all 17 billion cells between
    # them and abort the process. The sheet's XML is looked through first, in this process.
    bomb = _xlsx(_deflated(SHEET, _sheet_xml(
        '<row r="1"><c r="A1" t="n"><v>1</v></c></row>'
        '<row r="1048576"><c r="XFD1048576" t="n"><v>2</v></c></row>')))
    assert len(bomb) < 2000
    url = f"https://{HOST}/files/range.xlsx"
    before = _hwm_bytes()
    started = time.monotonic()
    with pytest.raises(WorkbookTooLarge, match=rf"^{re.escape(url)}: sheet 'Sheet1' takes the "
                                               r"workbook past 20,000,000 cells"):
        parse(bomb, url=url)
    assert time.monotonic() - started < 30
    assert _hwm_bytes() - before < 256 * MIB


@pytest.mark.parametrize("cells", [
    # The far cell placed below its own row, under a dimension that says A1:B2.
    '<row r="1"><c r="A1"><v>1</v></c><c r="XFD1048576"><v>2</v></c></row>',
    # Cells and rows without `r`, placed by counting: 16 384 columns, then 2 000 rows.
    '<row><c><v>1</v></c>' + '<c/>' * 16382 + '<c><v>2</v></c></row>'
    + '<row/>' * 1998 + '<row><c><v>3</v></c></row>',
    # Cells placed by counting after a far cell in the same stretch of the sheet.
    '<row r="1048576"><c r="A1048576"><v>1</v></c></row><row r="1"><c r="A1"><v>1</v></c>'
    + '<c><v>1</v></c>' * 16383 + '</row>',
])
def test_range_bomb_in_disguise_is_refused_in_this_process(cells):
    xml = _sheet_xml(cells).replace(b"<sheetData>", b'<dimension ref="A1:B2"/><sheetData>')
    bomb = _xlsx(_deflated(SHEET, xml))
    url = "https://example.test/disguised.xlsx"
    before = _hwm_bytes()
    with pytest.raises(WorkbookTooLarge, match=rf"^{re.escape(url)}: sheet 'Sheet1' takes the "
                                               r"workbook past 20,000,000 cells"):
        fpg.parse_xlsx(bomb, url=url)
    assert _hwm_bytes() - before < 256 * MIB


def test_sheet_past_the_cell_limit_is_refused_before_it_becomes_lists(monkeypatch):
    # The limit lowered, so the child lays out a small sheet rather than 20 million cells.
    monkeypatch.setattr(workbooks, "MAX_CELLS", 1_000)
    bomb = _xlsx(_deflated(SHEET, _sheet_xml(
        '<row r="1"><c r="A1" t="n"><v>1</v></c></row>'
        '<row r="40"><c r="AN40" t="n"><v>2</v></c></row>')))  # 40 × 40 = 1 600 cells
    with pytest.raises(WorkbookTooLarge, match=r"sheet 'Sheet1' takes the workbook past "
                                               r"1,000 cells"):
        sonko.parse_federal(bomb, url="https://example.test/wide.xlsx")
