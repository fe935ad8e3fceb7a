"""A loopback HTTP server over a samples folder: the offline stand-in for the real sites.

It answers for every host whose folder exists under the samples root, reading
the real host from the `Host` header. Bodies come with ETag and Last-Modified
(from the file's content and mtime) and honour conditional GETs, so the offline
default exercises the same client code paths as a live night.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from scrapers.samples import SAMPLES_DIR, inside_folder, sample_path

# Data files a parse depends on: none. The files served are documents, which a load's
# input digest counts by the SHA-256 of the bytes it kept.
DATA_FILES: tuple[Path, ...] = ()


def sniff_content_type(body: bytes, name: str) -> str:
    head = body[:512].lstrip().lower()
    if body.startswith(b"PK\x03\x04"):
        if name.endswith(".zip"):
            return "application/zip"
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    if body.startswith(b"\xd0\xcf\x11\xe0"):
        return "application/vnd.ms-excel"
    if head.startswith((b"{", b"[")):
        return "application/json; charset=utf-8"
    if head.startswith((b"<!doctype html", b"<html", b"<")):
        # No charset: like the real sites, a page declares its encoding (utf-8 or
        # windows-1251) in its own <meta>, and the parsers read it from there.
        return "text/html"
    if name.endswith(".csv"):
        return "text/csv; charset=utf-8"
    return "application/octet-stream"


class _Handler(BaseHTTPRequestHandler):
    root: Path = SAMPLES_DIR
    server_version = "socfund-samples/1"

    def log_message(self, format: str, *args) -> None:
        return

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        url = f"http://{host}{self.path}"
        # Checked on the URL's own parts, not the resolved file: a folder may link another's
        # documents (tests/fixtures links the real ones of samples/), a URL may not climb out.
        if not inside_folder(url):
            self.send_error(404)
            return
        resolved = sample_path(url, self.root)
        if not resolved.is_file():
            self.send_error(404, f"no sample for {url}")
            return
        body = resolved.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        last_modified = formatdate(resolved.stat().st_mtime, usegmt=True)
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", sniff_content_type(body, resolved.name))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", last_modified)
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serve_samples(root: Path = SAMPLES_DIR) -> Iterator[dict[str, str]]:
    """Serve `root` on 127.0.0.1; yields the host map {real host: "127.0.0.1:port"}."""
    handler = type("SamplesHandler", (_Handler,), {"root": Path(root)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    hosts = sorted(p.name for p in Path(root).iterdir() if p.is_dir())
    try:
        yield {host: f"127.0.0.1:{port}" for host in hosts}
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
