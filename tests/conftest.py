from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
REAL = SHARED / "data" / "real"
REFERENCE = SHARED / "data" / "reference"
CHROMIUM = "/usr/bin/chromium"  # Debian's (`make browser`); Playwright downloads nothing
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync",
                 # Belt and braces: no host name but loopback resolves.
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


@pytest.fixture(scope="session")
def fixture_build(tmp_path_factory) -> Path:
    """One build from the invented documents (tests/fixtures), shared by every module that
    only reads it: a test that changes a warehouse copies it or builds its own."""
    from pipelines.cli import main
    from scrapers.samples import FIXTURES_DIR

    warehouse = tmp_path_factory.mktemp("fixture_build")
    assert main(["build", "--warehouse", str(warehouse), "--samples", str(FIXTURES_DIR)]) == 0
    return warehouse


@pytest.fixture(scope="session")
def real_build(tmp_path_factory) -> Path:
    """One build of the offline default (`make run`: samples/, real documents only), shared
    by every module that only reads it."""
    from pipelines.cli import main

    warehouse = tmp_path_factory.mktemp("real_build")
    assert main(["build", "--warehouse", str(warehouse)]) == 0
    return warehouse


@pytest.fixture(scope="session")
def chromium() -> Iterator:
    """One headless Chromium for the session's browser tests (Playwright allows one driver
    per thread, so every module shares this one and opens its own contexts)."""
    if not Path(CHROMIUM).is_file():
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Every row of one query over a warehouse file opened read-only (values as parameters)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@contextmanager
def serving(root: Path) -> Iterator[str]:
    """socfund's own server over a warehouse folder, on a free loopback port: its base URL."""
    from pipelines.serve import make_server

    server = make_server(root, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"../shared is expected beside the checkout at {SHARED}")
    return SHARED


Handler = Callable[[BaseHTTPRequestHandler], None]


@pytest.fixture
def http_server() -> Iterator[Callable[[Handler], str]]:
    """Start a real HTTP server on 127.0.0.1 whose GET is the given function.

    Yields a function that starts one and returns its `host:port`.
    """
    servers: list[ThreadingHTTPServer] = []

    def start(handle: Handler) -> str:
        class _H(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                handle(self)

            def log_message(self, *args) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
