"""`socfund serve`: the page and the release files of a warehouse folder over HTTP.

Binds 127.0.0.1 unless told otherwise. Serves the page (`site/`), the releases (`exports/`)
and the published `socfund.duckdb` the page links when no release carries a snapshot;
nothing else of the folder (the raw store, parsed documents, the store, the fetch log) and
no folder listings. A path with `..` or a hidden segment (`.build`, lock files) is refused,
and so is anything a symbolic link would lead outside what is served. `/` goes to the page.

A small pool of threads answers; each connection is closed after `idle_timeout` seconds
without a byte from the client, so a client that sends half a request and waits holds one
worker for that long, not for ever, and many such clients wait in the kernel's queue
instead of taking a thread each.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from http import HTTPStatus
from http.server import HTTPServer, SimpleHTTPRequestHandler
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

EXTRA_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".parquet": "application/vnd.apache.parquet",
    ".duckdb": "application/octet-stream",
    ".jsonl": "application/x-ndjson",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".svg": "image/svg+xml",
    # The explorer's engine (site/vendor/duckdb-wasm-*): a browser compiles WebAssembly as
    # it streams only when it comes as application/wasm, and runs a worker's script only
    # when it comes as JavaScript; stated here, not left to the system's MIME table.
    ".wasm": "application/wasm",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    "": "text/plain; charset=utf-8",
}
# What the server hands out: folders served whole, and single files.
SERVED_FOLDERS = ("site", "exports")
SERVED_FILES = ("socfund.duckdb",)
WORKERS = 16
IDLE_TIMEOUT = 10.0


class ServeError(Exception):
    """`socfund serve` cannot start; the message names the cause and the remedy."""


class WarehouseHandler(SimpleHTTPRequestHandler):
    """The page and the release files from the root folder, never anything else of it."""

    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map, **EXTRA_TYPES}
    server: WarehouseServer

    def setup(self) -> None:
        self.timeout = self.server.idle_timeout  # the socket timeout of this connection
        super().setup()

    def send_head(self):  # type: ignore[override]
        url_path = urlsplit(self.path).path
        root = Path(self.directory)
        if url_path == "/":
            if not (root / "site" / "index.html").is_file():
                self.send_error(HTTPStatus.NOT_FOUND, "No page yet: run `socfund build`")
                return None
            self.send_response(HTTPStatus.FOUND)
            self.send_header("Location", "/site/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if not self._inside_root(url_path):
            self.send_error(HTTPStatus.FORBIDDEN, "Path outside the served folder")
            return None
        target = Path(self.translate_path(url_path))
        if not self._served(target) or (target.is_dir() and not self._has_index(target)):
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        return super().send_head()

    def _inside_root(self, url_path: str) -> bool:
        segments = unquote(url_path).split("/")
        if any(s.startswith(".") or "\\" in s or "\x00" in s for s in segments):
            return False
        root = Path(self.directory).resolve()
        target = Path(self.translate_path(url_path)).resolve()
        return target == root or target.is_relative_to(root)

    def _served(self, target: Path) -> bool:
        """The page, a release file or the published warehouse, after symbolic links."""
        root = Path(self.directory).resolve()
        real = target.resolve()
        return (any(real == root / name for name in SERVED_FILES)
                or any(real.is_relative_to(root / name) for name in SERVED_FOLDERS))

    def _has_index(self, folder: Path) -> bool:
        return any((folder / index).is_file() for index in ("index.html", "index.htm"))

    def list_directory(self, path: str | os.PathLike[str]):  # type: ignore[override]
        """Folders are not listed."""
        self.send_error(HTTPStatus.NOT_FOUND)
        return None

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), format % args)


class WarehouseServer(HTTPServer):
    """Requests answered by a bounded pool of threads, idle connections timed out."""

    # Clients beyond the busy workers wait here, in the kernel, until one is free.
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], handler: partial, *, workers: int,
                 idle_timeout: float) -> None:
        self.idle_timeout = idle_timeout
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="socfund-serve")
        self._free = threading.BoundedSemaphore(workers)
        super().__init__(address, handler)

    def process_request(self, request: socket.socket, client_address: tuple) -> None:  # type: ignore[override]
        # Accept no more connections than there are free workers.
        self._free.acquire()
        try:
            self._pool.submit(self._answer, request, client_address)
        except RuntimeError:  # the pool was shut down with the server
            self._free.release()
            self.shutdown_request(request)

    def _answer(self, request: socket.socket, client_address: tuple) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            self._free.release()

    def handle_error(self, request: object, client_address: tuple) -> None:  # type: ignore[override]
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            # A client that went away or stalled mid-download: its loss, not a fault here.
            log.info("%s: connection dropped (%s)", client_address[0], type(error).__name__)
            return
        log.error("%s: request failed: %r", client_address[0], error, exc_info=error)

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)


def make_server(root: Path, host: str = "127.0.0.1", port: int = 8000, *,
                workers: int = WORKERS, idle_timeout: float = IDLE_TIMEOUT) -> WarehouseServer:
    """A server for `root`, bound but not yet serving (port 0 picks a free one).

    Raises ServeError when `root` is not a folder or the address cannot be bound."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise ServeError(f"{root} is not a folder; build the warehouse first (`socfund build`) "
                         f"or name its folder with --warehouse")
    handler = partial(WarehouseHandler, directory=str(root))
    try:
        return WarehouseServer((host, port), handler, workers=workers,
                               idle_timeout=idle_timeout)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"cannot listen on {host}:{port}: the port is in use (by another "
                             f"`socfund serve`?); choose another with --port") from None
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose "
                         f"another --host or --port") from None


def serve(root: Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve `root` (the warehouse folder) until interrupted."""
    server = make_server(root, host, port)
    bound_host, bound_port = server.server_address[:2]
    log.info("serving %s on http://%s:%s/site/ (Ctrl+C stops)", Path(root).resolve(),
             bound_host, bound_port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
