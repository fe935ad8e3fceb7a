"""`socfund serve`: the warehouse folder over HTTP, for the static site and its downloads.

Binds 127.0.0.1 unless told otherwise. Serves only what lies inside the root: a path with
`..` or a hidden segment (`.build`, lock files) is refused, and so is anything a symbolic
link would lead outside the root. `/` goes to the site.
"""

from __future__ import annotations

import html
import logging
import os
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote, unquote, urlsplit

log = logging.getLogger(__name__)

EXTRA_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".parquet": "application/vnd.apache.parquet",
    ".duckdb": "application/octet-stream",
    ".jsonl": "application/x-ndjson",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".svg": "image/svg+xml",
    "": "text/plain; charset=utf-8",
}


class WarehouseHandler(SimpleHTTPRequestHandler):
    """Static files from the root folder, never from outside it."""

    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map, **EXTRA_TYPES}

    def send_head(self):  # type: ignore[override]
        url_path = urlsplit(self.path).path
        if url_path == "/" and (Path(self.directory) / "site" / "index.html").is_file():
            self.send_response(HTTPStatus.FOUND)
            self.send_header("Location", "/site/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if not self._inside_root(url_path):
            self.send_error(HTTPStatus.FORBIDDEN, "Path outside the served folder")
            return None
        return super().send_head()

    def _inside_root(self, url_path: str) -> bool:
        segments = unquote(url_path).split("/")
        if any(s.startswith(".") or "\\" in s or "\x00" in s for s in segments):
            return False
        root = Path(self.directory).resolve()
        target = Path(self.translate_path(url_path)).resolve()
        return target == root or target.is_relative_to(root)

    def list_directory(self, path: str | os.PathLike[str]):  # type: ignore[override]
        """A listing without hidden entries; names escaped."""
        try:
            names = sorted(n for n in os.listdir(path) if not n.startswith("."))
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "No permission to list directory")
            return None
        shown = html.escape(unquote(urlsplit(self.path).path))
        items = []
        for name in names:
            link = name + ("/" if os.path.isdir(os.path.join(path, name)) else "")
            items.append(f'<li><a href="{html.escape(quote(link))}">{html.escape(link)}</a></li>')
        body = (f'<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8">'
                f"<title>{shown}</title></head><body><h1>{shown}</h1><ul>{''.join(items)}"
                "</ul></body></html>").encode()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return BytesIO(body)

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), format % args)


def make_server(root: Path, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """A server for `root`, bound but not yet serving (port 0 picks a free one)."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"socfund serve: {root} is not a folder")
    handler = partial(WarehouseHandler, directory=str(root))
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


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
