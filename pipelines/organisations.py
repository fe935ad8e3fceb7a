"""Organisation pages: `site/organisations/<page name>`, one static page per organisation.

Each page shows one row of `mart_organisation` with everything the warehouse knows of it:
the names and identifiers its mentions carried (with the check-digit verdict), how each
source's mentions were joined to it, every grant (`fact_grant`) and every funding row
(`fact_funding`) that names it with the document it came from, and totals per year and
source. `organisations/index.html` and one page per first letter list them all, so the
pages are reachable without JavaScript.

The URL is permanent: the page name is derived from the organisation key alone (keys come
from identifiers, so they survive rebuilds) by `page_name`: letters a–z and digits as
they are, `:` as `-`, every other byte of the key's UTF-8 as `_` and two lowercase hex
digits (`inn:7707083893` → `inn-7707083893.html`). The search script and the explorer
apply the same rule.

At the bench's size (50 000 organisations and more) the pages are written in batches of
organisations, by ranges of the key: one query per table and batch, grouped in Python, so
no more than a batch's rows are held at once (all of them at once took a gigabyte). The
batches are rendered by worker processes of their own (as many as the XLSX export uses,
`pipelines.publish.xlsx.export_workers`), each reading the warehouse file itself and
writing plain files into a fresh folder that replaces the old one in one rename
(`scrapers.files.replacing_folder`). Amounts are formatted by Babel's Russian symbols
without calling Babel per number, which would take longer than everything else together.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import duckdb
from babel.numbers import get_currency_symbol, get_group_symbol, get_minus_sign_symbol
from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup

from pipelines.duckdb_config import connect
from pipelines.illustrative import PAGE_WARNING_RU
from pipelines.publish.xlsx import export_workers
from scrapers.files import replacing_folder

# `pipelines.site` and `pipelines.registry` are imported where the index pages need them,
# not here: a worker process imports this module, and they bring the source schemas
# (pandas, polars, pandera: seconds and some 140 MB per process) it has no use for.

FOLDER = "organisations"
INDEX_PAGE = "index.html"
TEMPLATE = "organisation.html.j2"
INDEX_TEMPLATE = "organisation-index.html.j2"
LETTER_TEMPLATE = "organisation-letter.html.j2"

LOCALE = "ru_RU"
NBSP = "\u00a0"
# Names that start with no letter are listed together under this heading.
OTHER_INITIAL = "#"

# Organisations per batch. A worker holds one batch's rows besides DuckDB's own memory:
# near 190 MB at its peak with 4 000, 230 MB with 8 000 (all 65 000 of the bench at once
# took a gigabyte); smaller batches read every table more often for little less. A site of
# one batch (the fixture build, the real samples' 3 000 organisations) is written in this
# process: a worker takes a second and some 150 MB to start, about what it would save.
BATCH_SIZE = 4000

MATCH_METHODS = {
    "inn": "по ИНН",
    "ogrn": "по ОГРН",
    "name_region": "по названию в регионе (слабое совпадение: без ИНН и ОГРН)",
}


# --- the page name ---------------------------------------------------------------------

def _byte_escape(byte: int) -> str:
    char = chr(byte)
    if "a" <= char <= "z" or "0" <= char <= "9":
        return char
    return "-" if char == ":" else f"_{byte:02x}"


_ESCAPES = tuple(_byte_escape(b) for b in range(256))


def page_name(key: str) -> str:
    """The file name of an organisation's page: safe in a URL and on any file system (no
    capitals, so no two names differ in case alone), and one name per key."""
    return "".join(_ESCAPES[b] for b in key.encode("utf-8")) + ".html"


def letter_page_name(initial: str) -> str:
    """`index-0410.html` for «А»: the initial's code point, stable from build to build."""
    return f"index-{ord(initial):04x}.html"


# --- formatting ------------------------------------------------------------------------

_GROUP = get_group_symbol(LOCALE)
_MINUS = get_minus_sign_symbol(LOCALE)


@cache
def _currency_symbol(currency: str) -> str:
    return get_currency_symbol(currency, LOCALE)


def format_whole(value: Decimal | int) -> str:
    """`1 234 567`, rounded half to even: what `pipelines.site.format_int` and `format_rub`
    write through Babel, at a hundredth of the cost."""
    rounded = Decimal(value).quantize(Decimal(1), ROUND_HALF_EVEN)
    digits = f"{abs(int(rounded)):,}".replace(",", _GROUP)
    return _MINUS + digits if rounded.is_signed() else digits


def format_money(value: Decimal | int, currency: str = "RUB") -> str:
    """`9 484 487 ₽`, `1 234 KGS`: whole units and the currency's Russian symbol."""
    return f"{format_whole(value)}{NBSP}{_currency_symbol(currency)}"


def exact(value: Decimal | int | None) -> str:
    """The amount as stored, for a cell's `data-value` (machines read it, people the text)."""
    return "" if value is None else str(value)


# --- reading the warehouse -------------------------------------------------------------

class Document(NamedTuple):
    """Where a row came from: the link (http and https only), its host, the kept body."""
    url: str | None
    host: str
    sha256: str | None


def document(url: str | None, sha256: str | None) -> Document:
    parts = urlsplit(url or "")
    if parts.scheme in ("http", "https") and parts.hostname:
        return Document(url, parts.hostname, sha256)
    return Document(None, url or "", sha256)


class Grant(NamedTuple):
    year: int | None
    source: str
    grant_id: str
    title: str | None
    programme: str | None
    region: str | None
    status: str | None
    carried_out: bool | None
    amount_awarded: Decimal | None
    currency: str
    document: Document


class Funding(NamedTuple):
    year: int | None
    source: str
    funding_id: str
    basis: str
    funding_kind: str
    programme: str | None
    territory: str | None
    amount: Decimal
    currency: str
    amount_real: Decimal | None
    real_base_year: int | None
    grant_id: str | None
    document: Document


class Total(NamedTuple):
    """One year, source and currency: grants (all decisions; the sum leaves out those not
    carried out, as the main page does) and funding rows, never added together: a
    registry's grants reappear as its funding rows."""
    year: int | None
    source: str
    currency: str
    grants: int
    awarded: Decimal | None
    funding_rows: int
    funding: Decimal | None


def years(first: int | None, last: int | None) -> str:
    if first is None:
        return "—"
    return str(first) if first == last else f"{first}–{last}"


class Name(NamedTuple):
    name: str
    sources: list[str]
    mentions: int
    first_year: int | None
    last_year: int | None

    @property
    def years(self) -> str:
        return years(self.first_year, self.last_year)


class Identifier(NamedTuple):
    kind: str
    value: str
    valid: bool
    sources: list[str]
    mentions: int


class Match(NamedTuple):
    source: str
    method: str
    mentions: int


class Organisation(NamedTuple):
    key: str
    name: str
    legal_form: str | None
    inn: str | None
    ogrn: str | None
    region: str | None
    match_method: str
    sources: list[str]
    first_year: int | None
    last_year: int | None
    grants: int
    has_several_ogrn: bool
    overridden: bool

    @property
    def page(self) -> str:
        return page_name(self.key)

    @property
    def years(self) -> str:
        return years(self.first_year, self.last_year)


class Listed(NamedTuple):
    """An organisation as the index and letter pages list it: a third of an `Organisation`
    in memory, and the list holds every organisation."""
    key: str
    name: str
    inn: str | None
    ogrn: str | None
    region: str | None
    grants: int

    @property
    def page(self) -> str:
        return page_name(self.key)

    @property
    def initial(self) -> str:
        first = self.name.lstrip(" «\"'„“(").upper()[:1]
        return first if first.isalpha() else OTHER_INITIAL


@dataclass
class Facts:
    """A batch's organisations and their rows from each table, by organisation key."""
    organisations: list[Organisation]
    names: dict[str, list[Name]]
    identifiers: dict[str, list[Identifier]]
    matches: dict[str, list[Match]]
    grants: dict[str, list[Grant]]
    funding: dict[str, list[Funding]]
    totals: dict[str, list[Total]]


def _by_key(rows: Iterable[tuple], make: Any) -> dict[str, list]:
    grouped: dict[str, list] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(make(*row[1:]))
    return grouped


def _rows(con: duckdb.DuckDBPyConnection, sql: str,
          parameters: dict[str, Any] | None = None) -> list[tuple]:
    return con.execute(sql, parameters).fetchall()


LISTED_SQL = """
    SELECT organisation_key, name, inn, ogrn, region_name, grants
    FROM main.mart_organisation
    ORDER BY name, organisation_key"""

# The first and last key of each batch, in DuckDB's order of the keys: the same order the
# batches' `BETWEEN` conditions use, so every organisation falls in exactly one batch.
BATCHES_SQL = """
    SELECT min(organisation_key), max(organisation_key)
    FROM (SELECT organisation_key,
                 (row_number() OVER (ORDER BY organisation_key) - 1) // $size AS batch
          FROM main.mart_organisation)
    GROUP BY batch
    ORDER BY batch"""

# Every query of a batch takes its range of keys as parameters `$first` and `$last`.
ORGANISATIONS_SQL = """
    SELECT organisation_key, name, legal_form, inn, ogrn, region_name, match_method,
           sources, first_year, last_year, grants, coalesce(has_several_ogrn, false),
           coalesce(overridden, false)
    FROM main.mart_organisation
    WHERE organisation_key BETWEEN $first AND $last"""

# The mentions: every record of every source that names an organisation, as resolved.
NAMES_SQL = """
    SELECT organisation_key, organisation_name, list_sort(list_distinct(list(source))),
           count(*), min(year), max(year)
    FROM intermediate.int_organisation_keys
    WHERE organisation_name IS NOT NULL AND organisation_key BETWEEN $first AND $last
    GROUP BY organisation_key, organisation_name
    ORDER BY organisation_key, count(*) DESC, organisation_name"""

IDENTIFIERS_SQL = """
    SELECT organisation_key, kind, value, valid, list_sort(list_distinct(list(source))),
           count(*)
    FROM (SELECT organisation_key, 'ИНН' AS kind, inn AS value,
                 coalesce(inn_valid, false) AS valid, source
          FROM intermediate.int_organisation_keys
          WHERE inn IS NOT NULL AND organisation_key BETWEEN $first AND $last
          UNION ALL
          SELECT organisation_key, 'ОГРН', ogrn, coalesce(ogrn_valid, false), source
          FROM intermediate.int_organisation_keys
          WHERE ogrn IS NOT NULL AND organisation_key BETWEEN $first AND $last)
    GROUP BY ALL
    ORDER BY organisation_key, kind, valid DESC, count(*) DESC, value"""

MATCHES_SQL = """
    SELECT organisation_key, source, match_method, count(*)
    FROM intermediate.int_organisation_keys
    WHERE organisation_key BETWEEN $first AND $last
    GROUP BY ALL
    ORDER BY organisation_key, source, match_method"""

GRANTS_SQL = """
    SELECT g.organisation_key, g.year, g.source, g.grant_id, g.title, p.name,
           coalesce(r.name, g.region_code), g.status, g.carried_out, g.amount_awarded,
           g.currency, g.source_url, g.raw_sha256
    FROM main.fact_grant AS g
    LEFT JOIN main.dim_programme AS p USING (programme_id)
    LEFT JOIN main.dim_region AS r ON r.region_code = g.region_code
    WHERE g.organisation_key BETWEEN $first AND $last
    ORDER BY g.organisation_key, g.year NULLS LAST, g.source, g.grant_id"""

FUNDING_SQL = """
    SELECT f.organisation_key, f.year, f.source, f.funding_id, f.basis, f.funding_kind,
           p.name, concat_ws(', ', r.name, f.municipality), f.amount, f.currency,
           f.amount_real, f.real_base_year, f.grant_id, f.source_url, f.raw_sha256
    FROM main.fact_funding AS f
    LEFT JOIN main.dim_programme AS p USING (programme_id)
    LEFT JOIN main.dim_region AS r ON r.region_code = f.region_code
    WHERE f.organisation_key BETWEEN $first AND $last
    ORDER BY f.organisation_key, f.year NULLS LAST, f.source, f.funding_id"""

TOTALS_SQL = """
    WITH g AS (
        SELECT organisation_key, year, source, currency, count(*) AS grants,
               sum(amount_awarded) FILTER (WHERE carried_out IS DISTINCT FROM false)
                   AS awarded
        FROM main.fact_grant WHERE organisation_key BETWEEN $first AND $last
        GROUP BY ALL
    ), f AS (
        SELECT organisation_key, year, source, currency, count(*) AS funding_rows,
               sum(amount) AS funding
        FROM main.fact_funding WHERE organisation_key BETWEEN $first AND $last
        GROUP BY ALL
    )
    SELECT organisation_key, year, source, currency, coalesce(g.grants, 0), g.awarded,
           coalesce(f.funding_rows, 0), f.funding
    FROM g FULL JOIN f USING (organisation_key, year, source, currency)
    ORDER BY organisation_key, year NULLS LAST, source, currency"""


class Batch(NamedTuple):
    """Organisations from `first` to `last` key, both included; `number` of `of`, from 1."""
    number: int
    of: int
    first: str
    last: str

    def __str__(self) -> str:
        return f"batch {self.number} of {self.of} (keys {self.first!r} to {self.last!r})"


def read_listed(con: duckdb.DuckDBPyConnection) -> list[Listed]:
    """Every organisation, by name: what the index and letter pages list."""
    return [Listed(*row) for row in _rows(con, LISTED_SQL)]


def read_batches(con: duckdb.DuckDBPyConnection, size: int) -> list[Batch]:
    """The organisations in ranges of `size` keys."""
    ranges = _rows(con, BATCHES_SQL, {"size": size})
    return [Batch(n, len(ranges), first, last) for n, (first, last) in enumerate(ranges, 1)]


def read_facts(con: duckdb.DuckDBPyConnection, batch: Batch) -> Facts:
    """A batch's organisations and their rows: one query per table, not one per
    organisation."""
    keys = {"first": batch.first, "last": batch.last}
    organisations = [Organisation(*row) for row in _rows(con, ORGANISATIONS_SQL, keys)]
    documents: dict[tuple, Document] = {}  # a document lists many rows: its link parsed once

    def grant(*row: Any) -> Grant:
        *fields, url, sha256 = row
        found = documents.get((url, sha256)) or documents.setdefault(
            (url, sha256), document(url, sha256))
        return Grant(*fields, found)

    def funding(*row: Any) -> Funding:
        *fields, url, sha256 = row
        fields[6] = fields[6] or None  # concat_ws of no parts: no territory
        found = documents.get((url, sha256)) or documents.setdefault(
            (url, sha256), document(url, sha256))
        return Funding(*fields, found)

    return Facts(
        organisations=organisations,
        names=_by_key(_rows(con, NAMES_SQL, keys), Name),
        identifiers=_by_key(_rows(con, IDENTIFIERS_SQL, keys), Identifier),
        matches=_by_key(_rows(con, MATCHES_SQL, keys), Match),
        grants=_by_key(_rows(con, GRANTS_SQL, keys), grant),
        funding=_by_key(_rows(con, FUNDING_SQL, keys), funding),
        totals=_by_key(_rows(con, TOTALS_SQL, keys), Total),
    )


# --- the pages -------------------------------------------------------------------------

class SumLine(NamedTuple):
    """Totals of every year and source in one currency."""
    currency: str
    grants: int
    awarded: Decimal | None
    funding_rows: int
    funding: Decimal | None


def sum_lines(totals: Sequence[Total]) -> list[SumLine]:
    by_currency: dict[str, list[Total]] = defaultdict(list)
    for t in totals:
        by_currency[t.currency].append(t)
    lines = []
    for currency, rows in sorted(by_currency.items()):
        awarded = [t.awarded for t in rows if t.awarded is not None]
        funding = [t.funding for t in rows if t.funding is not None]
        lines.append(SumLine(currency, sum(t.grants for t in rows),
                             sum(awarded, Decimal(0)) if awarded else None,
                             sum(t.funding_rows for t in rows),
                             sum(funding, Decimal(0)) if funding else None))
    return lines


def _moment(moment: datetime) -> str:
    from pipelines.site import format_moment
    return format_moment(moment)


@cache
def _templates() -> Environment:
    env = Environment(loader=PackageLoader("pipelines", "templates/page"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters.update(whole=format_whole, money=format_money, exact=exact,
                       moment=_moment)
    return env


def _template(name: str) -> Template:
    return _templates().get_template(name)


@dataclass(frozen=True)
class Letter:
    initial: str
    page: str
    organisations: list[Listed]


def letters(organisations: Sequence[Listed]) -> list[Letter]:
    """The organisations by the first letter of their name, letters in Russian order
    (Latin after Cyrillic), names that start with no letter last."""
    by_initial: dict[str, list[Listed]] = defaultdict(list)
    for o in organisations:
        by_initial[o.initial].append(o)

    def order(initial: str) -> tuple:
        return (initial == OTHER_INITIAL, not ("А" <= initial <= "Я" or initial == "Ё"),
                initial.replace("Ё", "Е\uffff"))
    return [Letter(i, letter_page_name(i), by_initial[i]) for i in sorted(by_initial, key=order)]


def _same(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except FileNotFoundError:
        return False


def _writer(folder: Path, previous: Path | None) -> Callable[[str, str], None]:
    """Write a file into the new folder no reader sees yet: a plain write, the least work
    per file the operating system allows (tens of thousands of them). A file the previous
    build wrote byte for byte the same is linked instead: on some file systems creating a
    file costs twenty times a link, and most pages do not change from one night to the next.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)

    def write(name: str, text: str) -> None:
        data = text.encode("utf-8")
        if previous is not None and _same(previous / name, data):
            try:
                os.link(previous / name, folder / name)
                return
            except OSError:
                pass  # no hard links here: the file is written
        fd = os.open(folder / name, flags, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    return write


@dataclass(frozen=True)
class Written:
    folder: Path
    pages: int
    seconds: float


def _check_page_names(organisations: Sequence[Listed], index_pages: set[str]) -> None:
    """`page_name` gives each key its own name; a key must not take an index page's."""
    seen: dict[str, str] = {}
    for o in organisations:
        if o.page in index_pages:
            raise ValueError(f"organisation pages: key {o.key!r} would overwrite the index "
                             f"page {FOLDER}/{o.page}")
        if o.page in seen:
            raise ValueError(f"organisation pages: keys {o.key!r} and {seen[o.page]!r} would "
                             f"both be written to {FOLDER}/{o.page}")
        seen[o.page] = o.key


def content_security_policy(style_hash: str) -> str:
    """The main page's policy without its script: these pages run none."""
    return (f"default-src 'none'; script-src 'none'; style-src {style_hash}; "
            "img-src 'self' data:; base-uri 'none'; form-action 'none'")


def _context(built_at: datetime, illustrative: bool) -> dict[str, Any]:
    """What every page shows besides its organisation: the style, the policy, the banner."""
    from pipelines.registry import SOURCES
    from pipelines.site import STYLE_FILE, static_text
    style = static_text(STYLE_FILE, "style")
    warning = PAGE_WARNING_RU if illustrative else None
    return {"csp": content_security_policy(style.csp_hash), "style": style.text,
            "built_at": built_at, "illustrative_warning": warning,
            "banner": Markup(_template("illustrative.html.j2").render(
                illustrative_warning=warning)),
            "titles": {s.key: s.title_ru for s in SOURCES},
            "match_methods": MATCH_METHODS}


def _write_pages(facts: Facts, context: dict[str, Any],
                 write: Callable[[str, str], None]) -> int:
    """A page for each organisation of the batch; the number written."""
    page = _template(TEMPLATE)
    empty: list = []
    for o in facts.organisations:
        totals = facts.totals.get(o.key, empty)
        write(o.page, page.render(
            context, organisation=o, names=facts.names.get(o.key, empty),
            identifiers=facts.identifiers.get(o.key, empty),
            matches=facts.matches.get(o.key, empty),
            grants=facts.grants.get(o.key, empty),
            funding=facts.funding.get(o.key, empty),
            totals=totals, sum_lines=sum_lines(totals)))
    return len(facts.organisations)


# A worker process's connection to the warehouse file, kept for all its batches: one per
# batch would read the tables' blocks from the file again each time (half again the work
# of the queries). Opened by the first batch, so a failure to open names that batch.
_worker_cons: dict[str, duckdb.DuckDBPyConnection] = {}


def _worker_con(database: str) -> duckdb.DuckDBPyConnection:
    con = _worker_cons.get(database)
    if con is None:
        con = _worker_cons[database] = connect(database, read_only=True)
        atexit.register(con.close)
    return con


def _write_batch(database: str, batch: Batch, context: dict[str, Any], folder: str,
                 previous: str | None) -> int:
    """A batch's pages, in a worker process."""
    write = _writer(Path(folder), Path(previous) if previous else None)
    return _write_pages(read_facts(_worker_con(database), batch), context, write)


def _write_in_workers(database: str, batches: Sequence[Batch], context: dict[str, Any],
                      folder: Path, previous: Path | None, workers: int) -> int:
    """Every batch's pages, written by `workers` processes; the first failure is raised,
    naming its batch, once the other workers have stopped (the folder is removed next)."""
    # Spawned, not forked: a fork of a process running DuckDB's threads may hold their locks.
    pool = ProcessPoolExecutor(max_workers=min(workers, len(batches)),
                               mp_context=multiprocessing.get_context("spawn"))
    try:
        futures: dict[Future, Batch] = {
            pool.submit(_write_batch, database, batch, context, str(folder),
                        str(previous) if previous else None): batch
            for batch in batches}
        pages = 0
        for future in as_completed(futures):
            try:
                pages += future.result()
            except Exception as exc:
                raise RuntimeError(f"organisation pages: {futures[future]}: {exc}") from exc
        return pages
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _read_only_file(con: duckdb.DuckDBPyConnection) -> str | None:
    """The file `con` reads, if it only reads it: other processes may then open it too (a
    writer locks it, and what it has not committed only it sees)."""
    rows = _rows(con, """
        SELECT path FROM duckdb_databases()
        WHERE database_name = current_database() AND readonly AND path IS NOT NULL""")
    return rows[0][0] if rows else None


def write_organisation_pages(con: duckdb.DuckDBPyConnection, site_dir: Path, *,
                             built_at: datetime, illustrative: bool,
                             workers: int | None = None,
                             batch_size: int = BATCH_SIZE) -> Written:
    """Write `site_dir/organisations/`: a page per organisation of `mart_organisation`, the
    index and the letter pages, replacing the folder before in one rename.

    The pages are written `batch_size` organisations at a time, by `workers` processes
    (default `export_workers()`) when there are several batches and `con` only reads its
    file; otherwise by this process.
    """
    started = time.perf_counter()
    organisations = read_listed(con)
    context = _context(built_at, illustrative)
    by_letter = letters(organisations)
    _check_page_names(organisations, {INDEX_PAGE} | {x.page for x in by_letter})
    batches = read_batches(con, batch_size)
    workers = export_workers() if workers is None else workers
    database = _read_only_file(con) if workers > 1 and len(batches) > 1 else None
    target = Path(site_dir) / FOLDER
    previous = target.parent / os.readlink(target) if target.is_symlink() else None
    with replacing_folder(target) as folder:
        write = _writer(folder, previous)
        if database is not None:
            pages = _write_in_workers(database, batches, context, folder, previous, workers)
        else:
            pages = sum(_write_pages(read_facts(con, batch), context, write)
                        for batch in batches)
        if pages != len(organisations):
            raise RuntimeError(f"organisation pages: {pages} pages written for "
                               f"{len(organisations)} organisations")
        write(INDEX_PAGE, _template(INDEX_TEMPLATE).render(
            context, letters=by_letter, count=len(organisations)))
        letter_page = _template(LETTER_TEMPLATE)
        for letter in by_letter:
            write(letter.page, letter_page.render(context, letters=by_letter, letter=letter))
    return Written(target, len(organisations), time.perf_counter() - started)
