"""Where a URL lives in a samples folder: laid out by host and path, as the site serves it.

`https://host/a/b?x=1` is kept at `<folder>/host/a/b@x=1`; a path ending in `/`
is kept as `index.html` inside it. The same mapping serves the loopback server
and the tests, so a document is found exactly where the live URL points.

Two such folders ship with socfund: `SAMPLES_DIR` (`samples/`), the offline default,
holds real published documents only; `FIXTURES_DIR` (`tests/fixtures/`) holds documents
we invented in the shape of the live sources, for tests and a demonstration build (its
`ILLUSTRATIVE` file says so).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

_REPO = Path(__file__).resolve().parent.parent
SAMPLES_DIR = _REPO / "samples"
FIXTURES_DIR = _REPO / "tests" / "fixtures"


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


def inside_folder(url: str) -> bool:
    """The URL's place stays inside the folder: no `..` (in the path or the host) climbs out."""
    rel = sample_relpath(url)
    return not rel.is_absolute() and ".." not in rel.parts


def has_copy(url: str, root: Path = SAMPLES_DIR) -> bool:
    """The folder holds a document for this URL."""
    return inside_folder(url) and sample_path(url, root).is_file()
