"""Property tests over every parse kind: damaged documents never crash, hang or lose a record.

Each kind is fed its real documents (`../shared/data/real/`, `samples/`), damaged the ways
files arrive damaged: truncated, bytes inserted, deleted or replaced, a part duplicated or
repeated thousands of times (an opening tag so repeated nests elements thousands deep), rows
shuffled; inside a workbook's ZIP the same happens to a sheet's XML, so the damage reaches
the parser and not only the ZIP reader. Whatever comes in, the parser returns
records or raises ValueError (a refusal, which `socfund parse` reports and a night's load
quarantines); it does so within `SECONDS` (a SIGALRM budget, `tests.test_hostile.budget`);
and validating what it returns accounts for every record: parsed = loaded + quarantined.

Bounded for CI: at most 30 examples a kind, a fixed derandomised sequence, no example
database, no Hypothesis deadline (the budget is ours, and the machine is shared).
"""

from __future__ import annotations

import io
import random
import re
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.registry import parse_kinds
from schemas.base import validate_parsed
from scrapers.samples import FIXTURES_DIR, SAMPLES_DIR
from tests.conftest import REAL
from tests.test_hostile import budget

KINDS = parse_kinds()
SECONDS = 5.0
EXAMPLES = 30

# The documents of each kind, as paths under samples/ (real) or tests/fixtures/ (invented
# where no real one is kept), whose URL is their path, and under ../shared/data/real/ (a URL
# ending in the file's name, which some parsers read).
_SAMPLES: dict[str, tuple[str, ...]] = {
    "fpg.list": ("xn--80afcdbalict6afooklqi5o.xn--p1ai/public/application/cards@page=*",),
    "fpg.card": ("xn--80afcdbalict6afooklqi5o.xn--p1ai/public/application/item@id=[0-5]*",),
    "fpg.xlsx": ("xn--80afcdbalict6afooklqi5o.xn--p1ai/upload/opendata/projects.xlsx",),
    "oprf2013.csv": ("grants.oprf.ru/*/*.csv",),
    "operators.winners": (),
    "operators.allocations": (),
    "sonko.registry2011": ("sonko-registries.socfund.invalid/*/*.xlsx",
                           "www.xn--67-1lclg.xn--p1ai/upload/reestr/*.xls"),
    "sonko.federal": ("data.economy.gov.ru/files/*.xlsx",),
    "ebudget.agreements": ("budget.gov.ru/epbs/registry/grants/data@*",),
    "ebudget.periods": ("budget.gov.ru/epbs/registry/grants/data@*",),
    "treasury.0503317": ("treasury.socfund.invalid/0503317/*/*.xlsx",),
    "municipal.winners": ("municipal.socfund.invalid/perm/*/*/*.html",),
    "curated.csv": ("curated.socfund.invalid/curated/*.csv",),
    "practice.page": ("practices.socfund.invalid/practices/*.html",),
    "programme.info": ("programmes.socfund.invalid/programmes/*.html",),
    "programme.card": ("programmes.socfund.invalid/programmes/*.html",),
}
_REAL: dict[str, tuple[str, ...]] = {
    "oprf2013.csv": ("oprf_grants_2013.csv",),
    "operators.winners": ("operators_2007_2012/*.csv",
                          "operators_2007_2012/grants_soprotivlenie.xlsx"),
    "operators.allocations": ("operators_2007_2012/grants_2009_2013.xlsx",),
    "sonko.registry2011": ("sonko_registry_smolensk_*.xls",),
}


def _url(path: Path) -> str:
    for root in (SAMPLES_DIR, FIXTURES_DIR):
        if path.is_relative_to(root):
            host, *rest = path.relative_to(root).parts
            return f"https://{host}/" + "/".join(rest).replace("@", "?", 1)
    return f"https://real.test/{path.name}"


def documents(kind: str) -> list[tuple[str, bytes]]:
    paths = [p for root in (SAMPLES_DIR, FIXTURES_DIR) for pattern in _SAMPLES[kind]
             for p in sorted(root.glob(pattern))]
    paths += [p for pattern in _REAL.get(kind, ()) for p in sorted(REAL.glob(pattern))]
    return [(_url(p), p.read_bytes()) for p in paths]


def test_every_kind_has_real_documents_to_damage():
    assert set(_SAMPLES) == set(KINDS)
    for kind in KINDS:
        docs = documents(kind)
        assert docs, kind
        assert all(body for _, body in docs), kind


# --- damage ------------------------------------------------------------------------------------

Draw = Callable[[st.SearchStrategy], object]


def _span(draw: Draw, body: bytes) -> tuple[int, int]:
    start = draw(st.integers(0, len(body)))
    return start, draw(st.integers(start, min(len(body), start + max(len(body) // 4, 1))))


def _truncate(draw: Draw, body: bytes) -> bytes:
    return body[:draw(st.integers(0, len(body)))]


def _insert(draw: Draw, body: bytes) -> bytes:
    at = draw(st.integers(0, len(body)))
    return body[:at] + draw(st.binary(min_size=1, max_size=64)) + body[at:]


def _delete(draw: Draw, body: bytes) -> bytes:
    start, end = _span(draw, body)
    return body[:start] + body[end:]


def _replace(draw: Draw, body: bytes) -> bytes:
    start = draw(st.integers(0, len(body)))
    junk = draw(st.binary(min_size=1, max_size=64))
    return body[:start] + junk + body[start + len(junk):]


def _duplicate(draw: Draw, body: bytes) -> bytes:
    start, end = _span(draw, body)
    at = draw(st.integers(0, len(body)))
    return body[:at] + body[start:end] + body[at:]


def _shuffle_rows(draw: Draw, body: bytes, separator: bytes = b"\n") -> bytes:
    rows = body.split(separator)
    head, rest = rows[:1], rows[1:]
    random.Random(draw(st.integers(0, 2**32 - 1))).shuffle(rest)
    return separator.join(head + rest)


def _repeat(draw: Draw, body: bytes) -> bytes:
    """A short part written over and over in its place, as a runaway template writes it."""
    start = draw(st.integers(0, len(body)))
    part = body[start:start + draw(st.integers(1, 64))]
    return body[:start] + part * draw(st.integers(2, 20_000)) + body[start + len(part):]


def _nest(draw: Draw, body: bytes) -> bytes:
    """Elements opened 30 000 times and never closed, as a broken CMS or an attacker writes
    them: one of the document's opening tags repeated in its place, or `<div>` written
    anywhere."""
    times = 30_000
    tags = list(_OPENING_TAG.finditer(body[:_HEAD]))
    if tags and draw(st.booleans()):
        tag = draw(st.sampled_from(tags))
        return body[:tag.start()] + tag.group() * times + body[tag.end():]
    at = draw(st.integers(0, len(body)))
    return body[:at] + b"<div>" * times + body[at:]


_OPENING_TAG = re.compile(rb"<(?:div|p|span|li|ul|table|tr|td|b|a)\b[^<>]{0,80}>")
_HEAD = 1 << 16
_BYTE_DAMAGE = (_truncate, _insert, _delete, _replace, _duplicate, _shuffle_rows, _repeat,
                _nest)


def _inside_zip(draw: Draw, body: bytes) -> bytes:
    """The same damage to one XML part of a workbook, rows shuffled as `<row` elements."""
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            parts = {info.filename: archive.read(info) for info in archive.infolist()}
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError):
        return _replace(draw, body)
    xml = sorted(name for name in parts if name.endswith(".xml"))
    if not xml:
        return _replace(draw, body)
    name = draw(st.sampled_from(xml))
    damage = draw(st.sampled_from((_truncate, _insert, _delete, _replace, _duplicate, _repeat,
                                   "rows")))
    parts[name] = (_shuffle_rows(draw, parts[name], b"<row") if damage == "rows"
                   else damage(draw, parts[name]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, data in parts.items():
            archive.writestr(part, data)
    return out.getvalue()


@st.composite
def damaged(draw: Draw, kind: str) -> tuple[str, bytes]:
    """One of the kind's documents, damaged one to three times (by name, so that a failing
    example prints the kind and not every document's bytes)."""
    url, body = draw(st.sampled_from(_DOCUMENTS[kind]))
    damage = _BYTE_DAMAGE
    if body.startswith(b"PK\x03\x04"):
        damage += (_inside_zip,) * 3
    elif _OPENING_TAG.search(body[:_HEAD]):
        damage += (_nest,) * 3
    for _ in range(draw(st.integers(1, 3))):
        body = draw(st.sampled_from(damage))(draw, body)
    return url, body


# --- the property ------------------------------------------------------------------------------

PROPERTY = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.large_base_example,
                                           HealthCheck.function_scoped_fixture])
_DOCUMENTS = {kind: documents(kind) for kind in KINDS}


@pytest.mark.parametrize("kind", KINDS)
@PROPERTY
@given(data=st.data())
def test_damaged_documents_are_read_or_refused_in_time_and_every_record_accounted(kind, data):
    url, body = data.draw(damaged(kind), label="document")
    decl = KINDS[kind]
    with budget(SECONDS):
        try:
            records = decl.parse(body, url=url)
        except ValueError as exc:
            assert str(exc).strip()
            return
        result = validate_parsed(records, decl.entity)
    assert result.parsed == len(records)
