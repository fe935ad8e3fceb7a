"""The raw store keeps bodies compressed, addressed by the SHA-256 of the bytes as they came."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import threading

import pytest

from scrapers import rawstore
from scrapers.rawstore import FetchRecord, RawStore, Validators

CARD = ("<html><body>" + "<li class='winner-info__list-item'>Конкурс</li>" * 400
        + "</body></html>").encode("utf-8")


def test_round_trip_gives_the_bytes_back_under_their_own_digest(tmp_path):
    store = RawStore(tmp_path)
    sha = store.put("fpg", CARD)
    assert sha == hashlib.sha256(CARD).hexdigest()
    assert store.get("fpg", sha) == CARD
    on_disk = store.path_for("fpg", sha)
    assert on_disk.exists() and on_disk.name.startswith(sha)
    assert on_disk.stat().st_size < len(CARD) / 5, "kept compressed"


def test_empty_and_binary_bodies_round_trip(tmp_path):
    store = RawStore(tmp_path)
    for body in (b"", bytes(range(256)) * 50, gzip.compress(b"already compressed")):
        assert store.get("demo", store.put("demo", body)) == body


def test_put_is_idempotent(tmp_path):
    store = RawStore(tmp_path)
    sha = store.put("fpg", CARD)
    path = store.path_for("fpg", sha)
    mtime = path.stat().st_mtime_ns
    assert store.put("fpg", CARD) == sha
    assert path.stat().st_mtime_ns == mtime, "an existing blob is not written again"
    assert [p.name for p in (tmp_path / "fpg").iterdir()] == [path.name]


def test_blob_from_an_uncompressed_store_is_still_read(tmp_path):
    sha = hashlib.sha256(CARD).hexdigest()
    legacy = tmp_path / "fpg" / sha
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(CARD)
    store = RawStore(tmp_path)
    assert store.path_for("fpg", sha) == legacy
    assert store.get("fpg", sha) == CARD
    assert store.put("fpg", CARD) == sha
    assert sorted(p.name for p in legacy.parent.iterdir()) == [sha], "not written twice"


def test_gzip_blob_is_read_when_zstandard_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(rawstore, "zstandard", None)
    store = RawStore(tmp_path)
    sha = store.put("fpg", CARD)
    assert store.path_for("fpg", sha).name == sha + rawstore.GZIP_SUFFIX
    assert store.get("fpg", sha) == CARD


def test_half_written_temporary_file_is_ignored(tmp_path):
    store = RawStore(tmp_path)
    sha = hashlib.sha256(CARD).hexdigest()
    folder = tmp_path / "fpg"
    folder.mkdir()
    # What a run killed in the middle of a write leaves behind.
    partial = folder / f".{sha}{rawstore.ZSTD_SUFFIX}.4242.1.tmp"
    partial.write_bytes(b"\x28\xb5\x2f\xfd truncated")
    assert not store.has("fpg", sha)
    with pytest.raises(FileNotFoundError):
        store.get("fpg", sha)
    assert store.put("fpg", CARD) == sha
    assert store.get("fpg", sha) == CARD


def test_failed_write_leaves_no_blob_and_no_temporary_file(tmp_path, monkeypatch):
    store = RawStore(tmp_path)

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        store.put("fpg", CARD)
    assert not store.has("fpg", hashlib.sha256(CARD).hexdigest())
    assert list((tmp_path / "fpg").iterdir()) == []


# --- validators -------------------------------------------------------------------------------

def _version(n: int) -> Validators:
    return Validators(sha256=f"{n:064x}", fetched_at="2026-03-01T00:00:00+00:00",
                      etag=f'"{n}"')


def test_a_source_never_fetched_has_no_validators_and_no_file(tmp_path):
    store = RawStore(tmp_path)
    assert store.validators("demo") == {}
    assert not (tmp_path / "demo").exists()


def test_writers_in_parallel_lose_no_version(tmp_path):
    """Each writer is its own store object, as the processes fetching one source are."""

    def write(writer: int) -> None:
        store = RawStore(tmp_path)
        for n in range(20):
            store.update_validators("fpg", {f"https://h.test/{writer}/{n}": _version(n)})

    threads = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    kept = RawStore(tmp_path).validators("fpg")
    assert len(kept) == 6 * 20
    assert kept["https://h.test/5/19"] == _version(19)
    assert [p.name for p in (tmp_path / "fpg").iterdir()] == ["validators.json"]


def test_an_unreadable_validators_file_is_rebuilt_from_the_log(tmp_path):
    store = RawStore(tmp_path)
    sha = store.put("demo", b"body")
    url = "https://h.test/a"
    store.log(FetchRecord(source="demo", url=url, fetched_at="2026-03-01T00:00:00+00:00",
                          status=200, sha256=sha, bytes=4, etag='"a"'))
    store.log(FetchRecord(source="demo", url=url, fetched_at="2026-03-02T00:00:00+00:00",
                          status=304, sha256=sha, bytes=4, etag='"a"', not_modified=True))
    store.log(FetchRecord(source="other", url="https://h.test/b", fetched_at="2026-03-02",
                          status=200, sha256=sha, bytes=4))
    store.validators_path("demo").write_text('{"cut off', encoding="utf-8")
    kept = store.validators("demo")
    # The body's download time, not the 304 that confirmed it; another source's URL apart.
    assert kept == {url: Validators(sha256=sha, fetched_at="2026-03-01T00:00:00+00:00",
                                    etag='"a"')}
    rewritten = json.loads(store.validators_path("demo").read_text(encoding="utf-8"))
    assert rewritten == {url: {"sha256": sha, "fetched_at": "2026-03-01T00:00:00+00:00",
                               "etag": '"a"', "last_modified": None, "content_type": None}}
