"""The HTTP client against real local servers: retries, caps, allow-list, conditional GET."""

from __future__ import annotations

import time

import pytest

from scrapers.http import FetchError, HttpClient
from scrapers.rawstore import RawStore

HOST = "example-source.test"


def _client(tmp_path, addr, **kw) -> HttpClient:
    kw.setdefault("min_interval", 0.0)
    kw.setdefault("backoff", 0.01)
    return HttpClient(RawStore(tmp_path / "raw"), allowed_hosts={HOST},
                      host_map={HOST: addr}, **kw)


def _send(h, status=200, body=b"", headers=None):
    h.send_response(status)
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def test_body_is_kept_by_sha256_and_logged(tmp_path, http_server):
    seen_host = []

    def handle(h):
        seen_host.append(h.headers["Host"])
        _send(h, body="привет".encode())

    client = _client(tmp_path, http_server(handle))
    got = client.get(f"https://{HOST}/page?x=1", source="demo")
    assert seen_host == [HOST]  # the real host name travels in the Host header
    assert client.store.get("demo", got.sha256) == "привет".encode()
    log = client.store.read_log()
    assert [(r.url, r.status, r.sha256) for r in log] == [
        (f"https://{HOST}/page?x=1", 200, got.sha256)
    ]


def test_user_agent_is_sent(tmp_path, http_server):
    agents = []

    def handle(h):
        agents.append(h.headers.get("User-Agent"))
        _send(h, body=b"ok")

    _client(tmp_path, http_server(handle)).get(f"https://{HOST}/", source="demo")
    assert agents[0].startswith("socfund/")


def test_retries_on_429_honouring_retry_after(tmp_path, http_server):
    hits = []

    def handle(h):
        hits.append(time.monotonic())
        if len(hits) == 1:
            _send(h, 429, headers={"Retry-After": "1"})
        else:
            _send(h, body=b"done")

    got = _client(tmp_path, http_server(handle)).get(f"https://{HOST}/", source="demo")
    assert got.body == b"done"
    assert hits[1] - hits[0] >= 0.9


def test_gives_up_after_retries_on_500_and_names_the_url(tmp_path, http_server):
    calls = []

    def handle(h):
        calls.append(1)
        _send(h, 500)

    client = _client(tmp_path, http_server(handle), retries=2)
    with pytest.raises(FetchError, match=rf"https://{HOST}/broken.*HTTP 500"):
        client.get(f"https://{HOST}/broken", source="demo")
    assert len(calls) == 3
    assert client.store.read_log()[-1].error


def test_size_cap_refuses_large_declared_body(tmp_path, http_server):
    def handle(h):
        h.send_response(200)
        h.send_header("Content-Length", str(2 * 1024**3))
        h.end_headers()

    client = _client(tmp_path, http_server(handle), max_bytes=1024)
    with pytest.raises(FetchError, match="exceeds the cap"):
        client.get(f"https://{HOST}/huge", source="demo")


def test_size_cap_refuses_large_streamed_body(tmp_path, http_server):
    def handle(h):
        h.send_response(200)
        h.end_headers()
        h.wfile.write(b"x" * 5000)

    client = _client(tmp_path, http_server(handle), max_bytes=1024)
    with pytest.raises(FetchError, match="exceeds the cap"):
        client.get(f"https://{HOST}/stream", source="demo")
    assert not list((tmp_path / "raw").glob("demo/*"))


def test_truncated_body_is_an_error(tmp_path, http_server):
    def handle(h):
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        h.wfile.write(b"short")
        h.wfile.flush()
        h.close_connection = True

    client = _client(tmp_path, http_server(handle), retries=0)
    with pytest.raises(FetchError, match=r"truncated|could not be read"):
        client.get(f"https://{HOST}/cut", source="demo")


def test_host_outside_allow_list_is_refused(tmp_path, http_server):
    client = _client(tmp_path, http_server(lambda h: _send(h, body=b"x")))
    with pytest.raises(FetchError, match="not on the allow-list"):
        client.get("https://elsewhere.test/", source="demo")


def test_redirect_to_another_host_is_refused(tmp_path, http_server):
    def handle(h):
        _send(h, 302, headers={"Location": "https://evil.test/steal"})

    client = _client(tmp_path, http_server(handle))
    with pytest.raises(FetchError, match=r"evil\.test.*allow-list"):
        client.get(f"https://{HOST}/go", source="demo")


def test_redirect_within_host_is_followed(tmp_path, http_server):
    def handle(h):
        if h.path == "/old":
            _send(h, 301, headers={"Location": "/new"})
        else:
            _send(h, body=b"moved here")

    got = _client(tmp_path, http_server(handle)).get(f"https://{HOST}/old", source="demo")
    assert got.body == b"moved here"


def test_conditional_get_reuses_kept_bytes(tmp_path, http_server):
    conditional = []

    def handle(h):
        if h.headers.get("If-None-Match") == '"v1"':
            conditional.append(True)
            _send(h, 304)
        else:
            _send(h, body=b"version one", headers={"ETag": '"v1"'})

    addr = http_server(handle)
    first = _client(tmp_path, addr).get(f"https://{HOST}/f", source="demo")
    # A new client (a new night) reads the validators back from the fetch log.
    second = _client(tmp_path, addr).get(f"https://{HOST}/f", source="demo")
    assert conditional == [True]
    assert second.not_modified and second.sha256 == first.sha256
    assert second.body == b"version one"


def test_connection_refused_is_retried_then_reported(tmp_path):
    client = HttpClient(RawStore(tmp_path / "raw"), allowed_hosts={HOST},
                        host_map={HOST: "127.0.0.1:9"}, min_interval=0, retries=1, backoff=0.01)
    with pytest.raises(FetchError, match="gave up after 2 attempts"):
        client.get(f"https://{HOST}/", source="demo")
