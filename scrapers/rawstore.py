"""Content-addressed store of every response body, and the fetch log.

`<root>/<source>/<sha256>.zst` holds the bytes as they came, compressed with
Zstandard (`.gz`, gzip, where the `zstandard` package is missing); the name is
always the SHA-256 of the bytes as they came, so content addressing, manifests
and lineage columns never see the compression. A store written before bodies
were compressed keeps plain `<root>/<source>/<sha256>` files: they are read as
they are, and never rewritten.

`<root>/fetch_log.jsonl` has one line per request (url, time, status, sha256,
bytes, etag, last-modified): the full history, which the pipelines load into
`raw.fetch_log`. `<root>/<source>/validators.json` holds, per URL of the source, what
a conditional GET sends (ETag, Last-Modified) and the kept body a 304 stands for: the
HTTP client reads that small file instead of the whole log.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from scrapers.files import write_bytes_atomic, write_text_atomic

try:
    import zstandard
except ImportError:  # the store still works, with gzip, on an install without it
    zstandard = None

ZSTD_SUFFIX = ".zst"
GZIP_SUFFIX = ".gz"
# Level 3, zstd's default: a 60 KB card page compresses to about a tenth in well under a
# millisecond; higher levels cost several times the time for a few per cent.
ZSTD_LEVEL = 3
GZIP_LEVEL = 6
# Searched in this order; a plain file is a blob from before compression.
_SUFFIXES = (ZSTD_SUFFIX, GZIP_SUFFIX, "")
VALIDATORS_FILE = "validators.json"
# Data files a parse depends on: none. The store reads kept documents and the fetch log,
# which a load's input digest counts as its documents, by their SHA-256.
DATA_FILES: tuple[Path, ...] = ()


@dataclass(frozen=True)
class FetchRecord:
    source: str
    url: str
    fetched_at: str
    status: int
    sha256: str | None
    bytes: int
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    not_modified: bool = False
    error: str | None = None


@dataclass(frozen=True)
class Validators:
    """One URL's version as kept: what a conditional GET sends, and the body a 304 means.

    `fetched_at` is when that body was downloaded.
    """

    sha256: str
    fetched_at: str
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None

    def same_version(self, other: Validators | None) -> bool:
        """The same body under the same validators (when it was fetched aside)."""
        return other is not None and (
            self.sha256, self.etag, self.last_modified, self.content_type) == (
            other.sha256, other.etag, other.last_modified, other.content_type)


_VALIDATOR_FIELDS = frozenset(f.name for f in fields(Validators))


class RawStore:
    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.log_path = self.root / "fetch_log.jsonl"
        self._lock = threading.Lock()
        # zstd contexts are not safe to share between threads: one pair per thread.
        self._codecs = threading.local()

    def path_for(self, source: str, sha256: str) -> Path:
        """The file on disk holding the blob (compressed or, from an older store, plain);
        for a blob not stored yet, the file `put` would write."""
        folder = self.root / source
        for suffix in _SUFFIXES:
            path = folder / (sha256 + suffix)
            if path.exists():
                return path
        return folder / (sha256 + self._write_suffix())

    def has(self, source: str, sha256: str) -> bool:
        folder = self.root / source
        return any((folder / (sha256 + suffix)).exists() for suffix in _SUFFIXES)

    def put(self, source: str, body: bytes) -> str:
        """Keep the bytes under the SHA-256 of the bytes as given (not as compressed).

        Writing is atomic (a temporary file, then a rename, so a reader or a killed run
        never leaves a half-written blob under its name) and idempotent (a blob already
        kept, compressed or plain, is not written again).
        """
        digest = hashlib.sha256(body).hexdigest()
        if self.has(source, digest):
            return digest
        write_bytes_atomic(self.root / source / (digest + self._write_suffix()),
                           self._compress(body))
        return digest

    def get(self, source: str, sha256: str) -> bytes:
        """The bytes exactly as they came."""
        path = self.path_for(source, sha256)
        data = path.read_bytes()
        if path.name.endswith(ZSTD_SUFFIX):
            return self._zstd_decompressor().decompress(data)
        if path.name.endswith(GZIP_SUFFIX):
            return gzip.decompress(data)
        return data

    def _write_suffix(self) -> str:
        return ZSTD_SUFFIX if zstandard is not None else GZIP_SUFFIX

    def _compress(self, body: bytes) -> bytes:
        if zstandard is None:
            return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
        compressor = getattr(self._codecs, "compressor", None)
        if compressor is None:
            # The content size goes in the frame header, so `decompress` knows how much
            # to allocate.
            compressor = self._codecs.compressor = zstandard.ZstdCompressor(
                level=ZSTD_LEVEL, write_content_size=True)
        return compressor.compress(body)

    def _zstd_decompressor(self):
        if zstandard is None:
            raise RuntimeError(
                f"{self.root}: a blob is compressed with Zstandard; install the `zstandard` "
                "package to read it")
        decompressor = getattr(self._codecs, "decompressor", None)
        if decompressor is None:
            decompressor = self._codecs.decompressor = zstandard.ZstdDecompressor()
        return decompressor

    def log(self, record: FetchRecord) -> None:
        line = json.dumps(asdict(record), ensure_ascii=False)
        with self._lock, self.log_path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")

    def read_log(self) -> list[FetchRecord]:
        if not self.log_path.exists():
            return []
        out = []
        with self.log_path.open(encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    out.append(FetchRecord(**json.loads(line)))
                except (json.JSONDecodeError, TypeError):
                    continue  # a line cut by a killed run: the next fetch logs again
        return out

    def last_success(self) -> dict[str, FetchRecord]:
        """The newest kept body per URL, of every source, from the whole fetch log."""
        latest: dict[str, FetchRecord] = {}
        for rec in self.read_log():
            if rec.sha256 and rec.status in (200, 304):
                latest[rec.url] = rec
        return latest

    # -- validators ---------------------------------------------------------------
    def validators_path(self, source: str) -> Path:
        return self.root / source / VALIDATORS_FILE

    def validators(self, source: str) -> dict[str, Validators]:
        """Every URL of `source` with a kept body, and its validators.

        A store from before the validators file has only the fetch log: it is read once,
        and the file written from it (when the log knows any version of the source).
        """
        kept = self._read_validators(source)
        if kept is not None:
            return kept
        from_log = self._validators_from_log(source)
        if not from_log:
            return {}  # nothing kept for the source yet: no file to write
        with self._source_locked(source):
            kept = self._read_validators(source)  # another process may have written it
            if kept is None:
                kept = from_log
                self._write_validators(source, kept)
        return kept

    def update_validators(self, source: str, changed: Mapping[str, Validators]) -> None:
        """Merge newly fetched versions into the source's validators file.

        Several processes may fetch one source (the ФПГ contests in parallel): each merges
        under a lock on the source's folder, so none overwrites another's versions.
        """
        if not changed:
            return
        with self._source_locked(source):
            kept = self._read_validators(source)
            if kept is None:
                kept = self._validators_from_log(source)
            kept.update(changed)
            self._write_validators(source, kept)

    def _read_validators(self, source: str) -> dict[str, Validators] | None:
        """The file's versions; None when there is no file, or one that cannot be read."""
        try:
            data = json.loads(self.validators_path(source).read_text(encoding="utf-8"))
            return {url: Validators(**{k: v for k, v in entry.items()
                                       if k in _VALIDATOR_FIELDS})
                    for url, entry in data.items()}
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, AttributeError):
            return None  # rebuilt from the log, which is the full history

    def _write_validators(self, source: str, kept: Mapping[str, Validators]) -> None:
        # One URL a line: small to write, and readable with grep.
        lines = (f"{json.dumps(url, ensure_ascii=False)}: "
                 f"{json.dumps(asdict(version), ensure_ascii=False)}"
                 for url, version in sorted(kept.items()))
        write_text_atomic(self.validators_path(source), "{\n" + ",\n".join(lines) + "\n}\n")

    def _validators_from_log(self, source: str) -> dict[str, Validators]:
        kept: dict[str, Validators] = {}
        for rec in self.read_log():
            if rec.source != source or not rec.sha256 or rec.status not in (200, 304):
                continue
            previous = kept.get(rec.url)
            if rec.status == 304 and previous is not None and previous.sha256 == rec.sha256:
                continue  # the same body, confirmed: it was downloaded when first logged
            kept[rec.url] = Validators(sha256=rec.sha256, fetched_at=rec.fetched_at,
                                       etag=rec.etag, last_modified=rec.last_modified,
                                       content_type=rec.content_type)
        return kept

    @contextmanager
    def _source_locked(self, source: str) -> Iterator[None]:
        """One writer of the source's validators at a time, across threads and processes."""
        folder = self.root / source
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor drops the lock
