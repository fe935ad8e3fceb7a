"""Is this a page a parser can read: the guard every HTML parser runs before it reads one.

A page parser is handed whatever was kept under its kind: a live site's error page, a
workbook saved under a page's address, an empty body, a corrupt or hostile file up to the
HTTP client's size cap (200 MB). `html_tree` and `html_soup` refuse, with a ValueError
naming the document and the reason, what is no page of text:

- an empty or blank body;
- a body larger than `MAX_PAGE_BYTES` (no page any source publishes comes near it);
- binary data: NUL bytes or control characters in a sample of the bytes (the first
  64 KB and windows spread over the rest, so junk behind a real page's head is seen too),
  named by its signature where it has one (a ZIP archive such as an XLSX workbook, an
  XLS, a PDF);
- text in no encoding we can tell (see `page_encoding`);
- a tree deeper than libxml2's limit of 256 elements, or larger than `MAX_ELEMENTS`
  elements: a page nested 50 000 deep cost BeautifulSoup minutes, and no published page
  is deeper than a few dozen.

What is left is read in its encoding: the one the page declares (byte-order mark,
`<meta charset>`, `<meta http-equiv … charset=…>`, `<?xml … encoding=…?>`), else UTF-8
when the bytes are UTF-8, else windows-1251 when they decode to Cyrillic text (an old
municipal CMS that sends no charset), else UTF-8 with the few broken bytes replaced. A
guess is logged with the encoding it chose; a page that is none of these is refused, never
shown as mojibake.
"""

from __future__ import annotations

import codecs
import logging
import re
import threading
from collections.abc import Mapping

from bs4 import BeautifulSoup
from lxml import etree

log = logging.getLogger(__name__)

MAX_PAGE_BYTES = 16 << 20
MAX_ELEMENTS = 100_000

_HEAD_SAMPLE = 64 << 10
_WINDOWS = 16
_WINDOW = 4 << 10
# Of the sampled bytes, the share that may be control characters in a text page (a stray
# form feed or escape in a CMS's text); random bytes hold 11 %.
_MAX_CONTROL_SHARE = 0.005
# Of the non-ASCII characters, the share of Cyrillic lower-case letters in Russian text
# read as windows-1251 (about 0.9); UTF-8 read so gives under 0.2, random bytes about 0.25.
_MIN_CYRILLIC_LOWER_SHARE = 0.6
# Of its Cyrillic lower-case letters, the share that may touch a Latin letter.
_MAX_MIXED_SCRIPT_SHARE = 0.05
# Of the non-ASCII bytes of a page that declares no encoding, the share that may fail to
# decode as UTF-8 for the page still to be read as UTF-8 (a few bytes broken in transit).
_MAX_BROKEN_UTF8_SHARE = 0.01

_SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive (an XLSX workbook or another Office file)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an OLE2 file (an XLS workbook or a DOC)"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "gzip data"),
    (b"\x28\xb5\x2f\xfd", "zstd data"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16's, which begins the same way
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DECLARED = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)"""
    rb"""|<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9._:-]+)""",
    re.IGNORECASE,
)
_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\r\f") + b"\x7f"
_ASCII = bytes(range(128))
_DROP_CYRILLIC_LOWER = dict.fromkeys(map(ord, "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"))
_MIXED_SCRIPT = re.compile("[A-Za-z][А-Яа-яЁё]|[А-Яа-яЁё][A-Za-z]")


def _sample(body: bytes) -> list[bytes]:
    """The first 64 KB and `_WINDOWS` windows spread evenly over the rest."""
    parts = [body[:_HEAD_SAMPLE]]
    rest = len(body) - _HEAD_SAMPLE
    if rest > 0:
        step = max(rest // _WINDOWS, _WINDOW)
        parts.extend(body[start:start + _WINDOW]
                     for start in range(_HEAD_SAMPLE, len(body), step))
    return parts


def _declared(body: bytes) -> str | None:
    """The encoding the page names, as a Python codec name; None if it names none we know."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    match = _DECLARED.search(body[:_HEAD_SAMPLE])
    if match is None:
        return None
    try:
        return codecs.lookup((match.group(1) or match.group(2)).decode("ascii")).name
    except LookupError:
        return None


def _non_ascii(body: bytes) -> int:
    return len(body.translate(None, _ASCII))


def _looks_cyrillic(text: str) -> bool:
    """Whether text read as windows-1251 reads as Russian: most of its non-ASCII characters
    are Cyrillic lower-case letters (UTF-8 read as windows-1251 gives `РџСЂ…`, capitals and
    punctuation), and they make words of their own rather than sit inside Latin words
    (Latin-1 `Société` read as windows-1251 is `Sociйtй`)."""
    wide = len(text) - len(text.encode("ascii", errors="ignore"))
    lower = len(text) - len(text.translate(_DROP_CYRILLIC_LOWER))
    if not wide or lower < wide * _MIN_CYRILLIC_LOWER_SHARE:
        return False
    return len(_MIXED_SCRIPT.findall(text)) <= lower * _MAX_MIXED_SCRIPT_SHARE


def page_encoding(body: bytes, where: str) -> tuple[str, bool]:
    """(Python codec name, whether the page declares it). Refuses (ValueError) a page
    that declares none and is neither UTF-8 nor Cyrillic windows-1251."""
    declared = _declared(body)
    if declared is not None:
        return declared, True
    try:
        body.decode("utf-8")
        return "utf-8", False
    except UnicodeDecodeError:
        pass
    if _looks_cyrillic(b"".join(_sample(body)).decode("cp1251", errors="replace")):
        return "cp1251", False
    wide = _non_ascii(body)
    broken = body.decode("utf-8", errors="replace").count("\ufffd")
    if broken <= wide * _MAX_BROKEN_UTF8_SHARE:
        return "utf-8", False
    raise ValueError(f"{where}: declares no encoding and is neither UTF-8 nor windows-1251 "
                     f"Cyrillic text ({broken} of {wide} non-ASCII bytes are not UTF-8)")


def _binary(body: bytes) -> str | None:
    """What the bytes are if they are not text, else None."""
    for signature, name in _SIGNATURES:
        if body.startswith(signature):
            return name
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None  # NUL bytes are half of UTF-16 text
    sample = b"".join(_sample(body))
    if b"\x00" in sample:
        return "binary data (NUL bytes)"
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    if controls > len(sample) * _MAX_CONTROL_SHARE:
        return f"binary data ({controls} control characters in {len(sample)} bytes sampled)"
    return None


def check_text(body: bytes, where: str, what: str) -> tuple[str, bool]:
    """Refuse (ValueError) a binary, oversized or empty body; else (encoding, declared).

    The binary test comes first and reads only a sample: 200 MB of junk is refused in
    milliseconds, by what it is rather than by its size.
    """
    binary = _binary(body)
    if binary is not None:
        raise ValueError(f"{where}: {binary}, not {what}")
    if len(body) > MAX_PAGE_BYTES:
        raise ValueError(f"{where}: {_count(len(body))} bytes, more than the "
                         f"{_count(MAX_PAGE_BYTES)} a page may have; not {what}")
    if not body.strip():
        raise ValueError(f"{where}: empty document, not {what}")
    encoding, declared = page_encoding(body, where)
    if not declared:
        log.info("%s: the page declares no encoding; read as %s", where,
                 "windows-1251" if encoding == "cp1251" else "UTF-8")
    return encoding, declared


def _count(number: int) -> str:
    return f"{number:_}".replace("_", " ")


_PARSERS = threading.local()


def _parser(encoding: str | None) -> etree.HTMLParser:
    """One lxml HTML parser per encoding and thread, as lxml asks. Plain elements rather
    than `lxml.html`'s (whose class lookup runs for every element touched); no ID
    collection, since nothing looks elements up by id; libxml2's limits on (huge_tree off)."""
    parsers = getattr(_PARSERS, "parsers", None)
    if parsers is None:
        parsers = _PARSERS.parsers = {}
    if encoding not in parsers:
        parsers[encoding] = etree.HTMLParser(collect_ids=False, encoding=encoding,
                                             huge_tree=False)
    return parsers[encoding]


def _tree(body: bytes, where: str, what: str) -> tuple[etree._Element, str, bool]:
    encoding, declared = check_text(body, where, what)
    # The encoding is given even when the page declares one: libxml2 looks for the
    # declaration only before the first non-ASCII text, so a Cyrillic comment ahead of
    # `<meta charset>` would otherwise have the page read as Latin-1.
    parser = _parser(encoding)
    try:
        root = etree.fromstring(body, parser)
    except etree.LxmlError as exc:
        raise ValueError(f"{where}: not {what}: {exc}") from exc
    for error in parser.error_log:
        if error.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT:
            depth = re.search(r"depth in document: (\d+)", error.message)
            reason = (f"elements nested more than {depth.group(1)} deep" if depth
                      else error.message.split(",")[0])
            raise ValueError(f"{where}: {reason}, past what a page may have; not {what}")
    if root is None:
        raise ValueError(f"{where}: no HTML element, not {what}")
    elements = sum(1 for _ in root.iter())
    if elements > MAX_ELEMENTS:
        raise ValueError(f"{where}: {_count(elements)} elements, more than the "
                         f"{_count(MAX_ELEMENTS)} a page may have; not {what}")
    return root, encoding, declared


def html_tree(body: bytes, where: str, what: str) -> etree._Element:
    """The page as an lxml tree, or a ValueError saying why it is none (module docstring)."""
    return _tree(body, where, what)[0]


def html_soup(body: bytes, where: str, what: str) -> BeautifulSoup:
    """The page as BeautifulSoup, once `html_tree` has found it readable.

    Bytes with the encoding `_tree` settled on: the page's own declaration where it has
    one, else the detected one.
    """
    _, encoding, _ = _tree(body, where, what)
    return BeautifulSoup(body, "lxml", from_encoding=encoding)


def other_kind(soup: BeautifulSoup, marks: Mapping[str, tuple[str, ...]]) -> str | None:
    """The kind whose page this is by its markup: `marks` maps a kind's description to class
    names only its pages carry."""
    for kind, classes in marks.items():
        if any(soup.find(class_=name) is not None for name in classes):
            return kind
    return None
