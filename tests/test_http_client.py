"""The HTTP client against real local servers: retries, caps, allow-list, conditional GET."""

from __future__ import annotations

import json
import time

import pytest

from scrapers import http
from scrapers.http import FetchError, HttpClient
from scrapers.rawstore import FetchRecord, RawStore

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
    # A new client (a new night); the first was never closed, so the validators it learnt
    # are read back from the fetch log.
    second = _client(tmp_path, addr).get(f"https://{HOST}/f", source="demo")
    assert conditional == [True]
    assert second.not_modified and second.sha256 == first.sha256
    assert second.body == b"version one"


def test_connection_refused_is_retried_then_reported(tmp_path):
    client = HttpClient(RawStore(tmp_path / "raw"), allowed_hosts={HOST},
                        host_map={HOST: "127.0.0.1:9"}, min_interval=0, retries=1, backoff=0.01)
    with pytest.raises(FetchError, match="gave up after 2 attempts"):
        client.get(f"https://{HOST}/", source="demo")


LAST_MODIFIED = "Sun, 01 Mar 2026 00:00:00 GMT"


def _versioned(requests_seen: list[dict]):
    """A server of one page with an ETag and a Last-Modified; 304 to a request naming both."""

    def handle(h):
        requests_seen.append({k: h.headers.get(k) for k in ("If-None-Match",
                                                             "If-Modified-Since")})
        if (h.headers.get("If-None-Match") == '"v1"'
                and h.headers.get("If-Modified-Since") == LAST_MODIFIED):
            _send(h, 304)
        else:
            _send(h, body=b"version one",
                  headers={"ETag": '"v1"', "Last-Modified": LAST_MODIFIED})

    return handle


def _no_log(store):
    raise AssertionError("the fetch log was read")


def test_validators_are_kept_per_source_and_read_without_the_log(tmp_path, http_server,
                                                                  monkeypatch):
    seen: list[dict] = []
    addr = http_server(_versioned(seen))
    url = f"https://{HOST}/f"
    with _client(tmp_path, addr) as client:
        first = client.get(url, source="demo")
    kept = client.store.validators_path("demo")
    assert kept == tmp_path / "raw" / "demo" / "validators.json"
    entry = json.loads(kept.read_text(encoding="utf-8"))[url]
    assert entry["etag"] == '"v1"' and entry["last_modified"] == LAST_MODIFIED
    assert entry["sha256"] == first.sha256 and entry["fetched_at"] == first.fetched_at

    monkeypatch.setattr(RawStore, "read_log", _no_log)
    with _client(tmp_path, addr) as client:
        second = client.get(url, source="demo")
    assert seen[-1] == {"If-None-Match": '"v1"', "If-Modified-Since": LAST_MODIFIED}
    assert second.not_modified and second.body == b"version one"
    assert second.sha256 == first.sha256


def test_an_older_store_reads_the_log_once_and_writes_the_validators(tmp_path, http_server,
                                                                     monkeypatch):
    seen: list[dict] = []
    addr = http_server(_versioned(seen))
    url = f"https://{HOST}/f"
    store = RawStore(tmp_path / "raw")
    sha = store.put("demo", b"version one")
    store.log(FetchRecord(source="demo", url=url, fetched_at="2026-03-01T00:00:00+00:00",
                          status=200, sha256=sha, bytes=11, etag='"v1"',
                          last_modified=LAST_MODIFIED))
    assert not store.validators_path("demo").exists()
    reads = []
    read_log = RawStore.read_log
    monkeypatch.setattr(RawStore, "read_log", lambda s: reads.append(1) or read_log(s))
    with _client(tmp_path, addr) as client:
        assert client.get(url, source="demo").not_modified
    assert seen == [{"If-None-Match": '"v1"', "If-Modified-Since": LAST_MODIFIED}]
    assert store.validators_path("demo").exists()
    before = len(reads)
    with _client(tmp_path, addr) as client:
        assert client.get(url, source="demo").not_modified
    assert len(reads) == before, "the log is read once, then the validators file"


def test_a_long_fetch_saves_its_validators_before_it_ends(tmp_path, http_server, monkeypatch):
    monkeypatch.setattr(http, "SAVE_AT_LEAST", 2)

    def handle(h):
        _send(h, body=h.path.encode(), headers={"ETag": f'"{h.path}"'})

    client = _client(tmp_path, http_server(handle))
    for page in ("/1", "/2", "/3"):
        client.get(f"https://{HOST}{page}", source="demo")
    saved = json.loads(client.store.validators_path("demo").read_text(encoding="utf-8"))
    assert set(saved) == {f"https://{HOST}/1", f"https://{HOST}/2"}  # /3 waits for close
    client.close()
    saved = json.loads(client.store.validators_path("demo").read_text(encoding="utf-8"))
    assert saved[f"https://{HOST}/3"]["etag"] == '"/3"'
