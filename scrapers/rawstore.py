"""Content-addressed store of every response body, and the fetch log.

`<root>/<source>/<sha256>` holds the bytes exactly as they came;
`<root>/fetch_log.jsonl` has one line per request (url, time, status, sha256,
bytes, etag, last-modified). The pipelines load the log into `raw.fetch_log`;
the HTTP client reads it back for conditional GETs.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path


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


class RawStore:
    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.log_path = self.root / "fetch_log.jsonl"
        self._lock = threading.Lock()

    def path_for(self, source: str, sha256: str) -> Path:
        return self.root / source / sha256

    def put(self, source: str, body: bytes) -> str:
        """Keep the bytes under their SHA-256; writing is atomic and idempotent."""
        digest = hashlib.sha256(body).hexdigest()
        target = self.path_for(source, digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{digest}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_bytes(body)
            os.replace(tmp, target)
        return digest

    def get(self, source: str, sha256: str) -> bytes:
        return self.path_for(source, sha256).read_bytes()

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
        """The newest stored body per URL, for conditional GETs."""
        latest: dict[str, FetchRecord] = {}
        for rec in self.read_log():
            if rec.sha256 and rec.status in (200, 304):
                latest[rec.url] = rec
        return latest
