"""Where a URL lives in `samples/`: laid out by host and path, as the site serves it.

`https://host/a/b?x=1` is kept at `samples/host/a/b@x=1`; a path ending in `/`
is kept as `index.html` inside it. The same mapping serves the loopback server
and the tests, so a sample is found exactly where the live URL points.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "samples"


def sample_relpath(url: str) -> Path:
    parts = urlsplit(url)
    host = parts.hostname or ""
    path = parts.path or "/"
    if path.endswith("/"):
        path += "index.html"
    rel = path.lstrip("/")
    if parts.query:
        rel += "@" + quote(unquote(parts.query), safe="=&+-_.,[]")
    return Path(host) / rel


def sample_path(url: str, root: Path = SAMPLES_DIR) -> Path:
    return root / sample_relpath(url)
