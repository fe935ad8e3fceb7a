"""`socfund serve`: only the page and the release files, no listings, bounded threads,
idle connections closed. Everything on 127.0.0.1."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.serve import make_server

PRIVATE = ("/raw/fpg/0a1b2c", "/raw/fetch_log.jsonl", "/parsed/fpg__cards/2020.parquet",
           "/store.duckdb", "/.store.lock", "/site/kept-document")
FOLDERS = ("/exports/", "/exports/2025-01-01/", "/exports", "/raw/", "/parsed/",
           "/site/charts/")


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A warehouse folder as a build leaves it, each file holding its own name."""
    root = tmp_path / "warehouse"
    files = ("site/index.html", "site/charts/a.svg", "exports/2025-01-01/grants.csv",
             "exports/latest", "raw/fpg/0a1b2c", "raw/fetch_log.jsonl",
             "parsed/fpg__cards/2020.parquet", "store.duckdb", ".store.lock",
             "socfund.duckdb")
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"file {name}\n", encoding="utf-8")
    # A link inside the page's folder to a kept document: served only what lies in site/.
    (root / "site" / "kept-document").symlink_to(root / "raw" / "fpg" / "0a1b2c")
    return root


@pytest.fixture
def port(warehouse: Path) -> Iterator[int]:
    server = make_server(warehouse, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _get(port: int, path: str) -> tuple[int, bytes]:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        con.request("GET", path)
        response = con.getresponse()
        return response.status, response.read()
    finally:
        con.close()


def test_the_page_and_the_release_files_are_served(port):
    assert _get(port, "/site/index.html") == (200, b"file site/index.html\n")
    assert _get(port, "/site/") == (200, b"file site/index.html\n")
    assert _get(port, "/exports/2025-01-01/grants.csv")[0] == 200
    assert _get(port, "/exports/latest")[0] == 200
    # The page links the published warehouse when no release carries a snapshot of it.
    assert _get(port, "/socfund.duckdb") == (200, b"file socfund.duckdb\n")


@pytest.mark.parametrize("path", PRIVATE)
def test_the_raw_store_parsed_documents_store_and_fetch_log_are_not_served(port, path):
    status, body = _get(port, path)
    assert status in (403, 404), path
    assert b"file " not in body


@pytest.mark.parametrize("path", FOLDERS)
def test_a_folder_without_index_is_404_with_no_listing(port, path):
    status, body = _get(port, path)
    assert status == 404, path
    for name in (b"grants.csv", b"latest", b"2025-01-01", b"a.svg", b"0a1b2c", b"fpg"):
        assert name not in body, (path, name)


def _half_request(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(b"GET /site/index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never ends
    return sock


def test_a_half_sent_request_neither_blocks_others_nor_holds_on_for_ever(port):
    stalled = _half_request(port)
    try:
        started = time.monotonic()
        assert _get(port, "/site/index.html")[0] == 200
        assert time.monotonic() - started < 5
        # The server closes the stalled connection after its idle timeout (10 s).
        stalled.settimeout(30)
        assert stalled.recv(1024) == b""
        assert time.monotonic() - started < 20
    finally:
        stalled.close()


def test_many_idle_connections_take_a_bounded_number_of_threads(port):
    before = threading.active_count()
    idle = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(60)]
    try:
        time.sleep(1.0)
        assert threading.active_count() - before <= 16
    finally:
        for sock in idle:
            sock.close()
