"""The raw store keeps bodies compressed, addressed by the SHA-256 of the bytes as they came."""

from __future__ import annotations

import gzip
import hashlib
import os

import pytest

from scrapers import rawstore
from scrapers.rawstore import RawStore

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
