"""The public static site: `site/index.html` with freshness, downloads, charts, search, SQL.

The page is built from the published warehouse and the latest exports release. It fetches
nothing from anywhere but its own host: charts are SVG drawn here, the scripts and
stylesheets are inline (allowed by hash in the page's Content-Security-Policy, which forbids
everything else), and the organisation search index is embedded in the page, so it works
from `file://` as well as over `socfund serve`. The explorer (`pipelines.explorer`) runs
DuckDB-WASM from the site's own vendor folder over the release's tables, over HTTP only.

Python reads the data and computes what the page shows (figures, links, chart geometry);
the markup is in Jinja2 templates (`pipelines/templates/page/`, autoescape on, so every
text from the data is escaped), the stylesheet and the script are static files
(`pipelines/static/`). Russian numbers and dates are formatted by Babel.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
from babel.dates import format_datetime
from babel.numbers import (
    format_compact_currency,
    format_currency,
    format_decimal,
    format_percent,
)
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from pipelines.duckdb_config import connect, quote_ident
from pipelines.explorer import NODE_MODULES, ExplorerPage, prepare_explorer
from pipelines.explorer import SCRIPT_FILE as EXPLORER_SCRIPT
from pipelines.explorer import STYLE_FILE as EXPLORER_STYLE
from pipelines.illustrative import PAGE_WARNING_RU, read_build
from pipelines.publish.quality import QUALITY_FILE, SCHEMA_FILE, quality_view, read_quality
from pipelines.publish.release import sha256_file
from pipelines.registry import SOURCES
from scrapers.files import write_text_atomic

# Above this size the search index is only shipped as a file (fetched over HTTP),
# so that the page itself stays light.
SEARCH_EMBED_MAX_BYTES = 4_000_000
TOP_N = 10

FORMAT_LABELS = {"csv": "CSV", "parquet": "Parquet", "xlsx": "XLSX", "json": "JSON",
                 "html": "HTML", "markdown": "Markdown", "duckdb": "DuckDB", "cff": "CFF"}
FORMAT_ORDER = {"csv": 0, "xlsx": 1, "parquet": 2}

# Chart labels only (the full name is in the bar's tooltip and in the search).
LEGAL_FORM_ABBREVIATIONS = (
    ("автономная некоммерческая организация", "АНО"),
    ("региональная общественная организация", "РОО"),
    ("межрегиональная общественная организация", "МРОО"),
    ("местная общественная организация", "МОО"),
    ("общероссийская общественная организация", "ООО (общеросс.)"),
    ("некоммерческое партнерство", "НП"),
    ("некоммерческое партнёрство", "НП"),
    ("благотворительный фонд", "БФ"),
    ("некоммерческая организация", "НКО"),
)

BUDGET_COLOUR = "#1f5fa8"
ATTRACTED_COLOUR = "#e07b1f"
REGION_COLOUR = "#2a8c5a"
FUNDER_COLOUR = "#7a4fb0"
RECIPIENT_COLOUR = "#c23b4a"
CHART_FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"

STYLE_FILE = "page.css"
SCRIPT_FILE = "search.js"


@dataclass(frozen=True)
class ExampleQuery:
    title: str
    explanation: str
    sql: str


EXAMPLE_QUERIES: tuple[ExampleQuery, ...] = (
    ExampleQuery(
        title="Сколько заявок в Фонд президентских грантов побеждает, по регионам",
        explanation="Все заявки, и победившие, и нет, из fact_application; доля побед.",
        sql=textwrap.dedent("""\
            SELECT r.name AS region,
                   count(*) AS applications,
                   count(*) FILTER (WHERE a.is_winner) AS winners,
                   round(100.0 * count(*) FILTER (WHERE a.is_winner) / count(*), 1)
                       AS winners_pct
            FROM fact_application AS a
            JOIN dim_region AS r USING (region_code)
            GROUP BY r.name
            ORDER BY applications DESC, region
            LIMIT 20;"""),
    ),
    ExampleQuery(
        title="Бюджетные и привлечённые средства и «рычаг» по регионам и годам",
        explanation="leverage = attracted_total / budget_total; budget_basis говорит, "
                    "по какому основанию взята бюджетная сумма.",
        sql=textwrap.dedent("""\
            SELECT region_name, year, budget_total, attracted_total,
                   round(leverage, 2) AS leverage, budget_basis
            FROM mart_budget_vs_attracted
            WHERE attracted_total > 0
            ORDER BY leverage DESC NULLS LAST, region_name, year
            LIMIT 20;"""),
    ),
    ExampleQuery(
        title="Крупнейший получатель грантов в каждом федеральном округе",
        explanation="Суммы решений о поддержке из fact_grant; неисполненные решения "
                    "(carried_out = false) не считаются.",
        sql=textwrap.dedent("""\
            SELECT r.federal_district, o.name, o.inn,
                   count(*) AS grants, sum(g.amount_awarded) AS awarded
            FROM fact_grant AS g
            JOIN dim_organisation AS o USING (organisation_key)
            JOIN dim_region AS r ON r.region_code = g.region_code
            WHERE g.carried_out IS DISTINCT FROM false AND r.federal_district IS NOT NULL
            GROUP BY r.federal_district, o.organisation_key, o.name, o.inn
            QUALIFY row_number() OVER (
                PARTITION BY r.federal_district ORDER BY sum(g.amount_awarded) DESC, o.name
            ) = 1
            ORDER BY awarded DESC;"""),
    ),
)


# --- reading the exports release -------------------------------------------------------

@dataclass(frozen=True)
class Download:
    path: str
    format: str
    table: str | None
    rows: int | None
    bytes: int
    sha256: str
    description: str


@dataclass(frozen=True)
class Release:
    name: str
    folder: Path
    files: tuple[Download, ...]

    def extra(self, name: str) -> Path | None:
        """A file of the release beside the data files (SHA256SUMS, manifest.json, …)."""
        path = self.folder / name
        return path if path.is_file() else None

    def dictionary(self) -> Path | None:
        for name in DICTIONARY_NAMES:
            if (path := self.extra(name)) is not None:
                return path
        for f in self.files:
            if f.format == "html" and "dictionary" in Path(f.path).name:
                return self.folder / f.path
        return None

    def table_file(self, table: str) -> Download:
        """The file that is the table itself (`csv/fact_grant.csv`), not one derived from it
        (`360giving/grants.csv`); its description and row count speak for the table."""
        files = [f for f in self.files if f.table == table]
        own = [f for f in files if Path(f.path).stem == table]
        return sorted(own or files, key=lambda f: FORMAT_ORDER.get(f.format, 9))[0]

    def has_format(self, fmt: str) -> bool:
        return any(f.format == fmt for f in self.files)


_SHA256 = re.compile(r"^[0-9a-f]{64}$")
DICTIONARY_NAMES = ("data-dictionary.html", "datadictionary.html")


def read_release(exports_dir: Path) -> Release | None:
    """The release `exports_dir/latest` names, or None when nothing has been exported."""
    latest = exports_dir / "latest"
    if not latest.is_file():
        return None
    name = latest.read_text(encoding="utf-8").strip()
    root = exports_dir.resolve()
    folder = exports_dir / name
    if not name or folder.resolve() == root or not folder.resolve().is_relative_to(root):
        raise ValueError(f"{latest}: names {name!r}, not a release folder inside {exports_dir}")
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        raise FileNotFoundError(f"{latest} names {name!r}, but {manifest} does not exist")
    entries = json.loads(manifest.read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise ValueError(f"{manifest}: expected a list of files")
    files = tuple(_download(manifest, i, entry) for i, entry in enumerate(entries))
    for f in files:
        if not (folder / f.path).is_file():
            raise FileNotFoundError(f"{manifest}: lists {f.path!r}, which is not in {folder}")
    return Release(name=name, folder=folder, files=files)


def _download(manifest: Path, index: int, entry: Any) -> Download:
    def field(key: str, kind: type | tuple[type, ...], *, optional: bool = False) -> Any:
        value = entry.get(key) if isinstance(entry, dict) else None
        if value is None and optional:
            return None
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(f"{manifest}: entry {index}: field {key!r} is {value!r}")
        return value

    path = field("path", str)
    parts = Path(path).parts
    if Path(path).is_absolute() or ".." in parts or "\\" in path or not parts:
        raise ValueError(f"{manifest}: entry {index}: path {path!r} leaves the release folder")
    sha256 = field("sha256", str).lower()
    if not _SHA256.match(sha256):
        raise ValueError(f"{manifest}: entry {index}: field 'sha256' is {sha256!r}")
    return Download(
        path=path,
        format=field("format", str).lower(),
        table=field("table", str, optional=True),
        rows=field("rows", int, optional=True),
        bytes=field("bytes", int),
        sha256=sha256,
        description=field("description", str, optional=True) or "",
    )


# --- reading the warehouse -------------------------------------------------------------

@dataclass(frozen=True)
class SourceFreshness:
    source: str
    title: str
    last_fetched: datetime | None
    documents: int
    errors: int
    rows_loaded: int
    rows_quarantined: int


@dataclass(frozen=True)
class Headline:
    grants: int
    awarded: Decimal
    organisations: int
    regions: int
    first_year: int | None
    last_year: int | None


@dataclass(frozen=True)
class YearPair:
    """None: no source reports that kind of money for the year (not the same as 0)."""
    year: int
    budget: Decimal | None
    attracted: Decimal | None


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    note: str = ""


@dataclass(frozen=True)
class ChartData:
    budget_vs_attracted: tuple[YearPair, ...]
    regions: tuple[Bar, ...]
    funders: tuple[Bar, ...]
    recipients: tuple[Bar, ...]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    return con.execute(sql, list(params)).fetchall()


def read_sources(con: duckdb.DuckDBPyConnection) -> list[SourceFreshness]:
    """Every source that was fetched or has rows, in the registry's order, titled from it:
    the newest successful fetch, documents, errors, rows loaded and held back."""
    fetched = {source: (last, docs, errors) for source, last, docs, errors in _rows(con, """
        SELECT source,
               max(fetched_at) FILTER (WHERE error IS NULL),
               count(DISTINCT sha256) FILTER (WHERE error IS NULL),
               count(*) FILTER (WHERE error IS NOT NULL)
        FROM raw.fetch_log GROUP BY source ORDER BY source""")}
    counts = _rows_per_source(con)
    titles = {s.key: s.title_ru for s in SOURCES}
    present = set(fetched) | {source for _, source in counts}
    # A key the registry does not declare still shows, last: its rows are in the warehouse.
    order = [key for key in titles if key in present] + sorted(present - set(titles))
    out = []
    for source in order:
        last, documents, errors = fetched.get(source, (None, 0, 0))
        out.append(SourceFreshness(
            source=source, title=titles.get(source, ""), last_fetched=last,
            documents=documents, errors=errors, rows_loaded=counts.get(("raw", source), 0),
            rows_quarantined=counts.get(("quarantine", source), 0)))
    return out


def _rows_per_source(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], int]:
    tables = _rows(con, """
        SELECT table_schema, table_name FROM information_schema.tables
        WHERE table_schema IN ('raw', 'quarantine') AND table_name LIKE '%\\_\\_%' ESCAPE '\\'
        ORDER BY ALL""")
    counts: dict[tuple[str, str], int] = {}
    for schema, table in tables:
        (n,) = _rows(con, f"SELECT count(*) FROM {quote_ident(schema)}.{quote_ident(table)}")[0]
        key = (schema, table.split("__", 1)[0])
        counts[key] = counts.get(key, 0) + n
    return counts


def read_headline(con: duckdb.DuckDBPyConnection) -> Headline:
    grants, awarded, first, last = _rows(con, """
        SELECT count(*), coalesce(sum(amount_awarded), 0), min(year), max(year)
        FROM fact_grant
        WHERE carried_out IS DISTINCT FROM false AND currency = 'RUB'""")[0]
    (organisations,) = _rows(con, "SELECT count(*) FROM dim_organisation")[0]
    (regions,) = _rows(con, """
        SELECT count(DISTINCT region_code) FROM mart_region_year WHERE grants > 0""")[0]
    return Headline(grants=grants, awarded=awarded, organisations=organisations,
                    regions=regions, first_year=first, last_year=last)


def read_chart_data(con: duckdb.DuckDBPyConnection, top: int = TOP_N) -> ChartData:
    # Foreign countries are left out of the yearly totals: their money is not in rubles.
    pairs = _rows(con, """
        SELECT m.year, sum(m.budget_total), sum(m.attracted_total)
        FROM mart_budget_vs_attracted AS m
        LEFT JOIN dim_region AS r USING (region_code)
        WHERE r.kind IS DISTINCT FROM 'country' AND m.year IS NOT NULL
        GROUP BY m.year ORDER BY m.year""")
    # Grants whose list names no place for the recipient have no region to chart.
    regions = _rows(con, """
        SELECT coalesce(r.name, m.region_name, m.region_code), sum(m.amount_awarded),
               sum(m.grants)
        FROM mart_region_year AS m
        LEFT JOIN dim_region AS r USING (region_code)
        WHERE m.region_code IS NOT NULL
        GROUP BY m.region_code, r.name, m.region_name
        HAVING sum(m.amount_awarded) > 0
        ORDER BY 2 DESC, 1 LIMIT ?""", [top])
    # The mart takes one basis per funder, year, territory and funding kind where sources
    # overlap, by the same precedence as the other funding marts.
    funders = _rows(con, """
        SELECT funder, sum(budget_total), min(year), max(year)
        FROM mart_funder_year
        WHERE currency = 'RUB'
        GROUP BY funder HAVING sum(budget_total) > 0
        ORDER BY 2 DESC, 1 LIMIT ?""", [top])
    recipients = _rows(con, """
        SELECT coalesce(o.name, any_value(g.recipient_name)), o.inn,
               sum(g.amount_awarded), count(*)
        FROM fact_grant AS g
        JOIN dim_organisation AS o USING (organisation_key)
        WHERE g.carried_out IS DISTINCT FROM false AND g.currency = 'RUB'
          AND g.amount_awarded IS NOT NULL
        GROUP BY o.organisation_key, o.name, o.inn
        ORDER BY 3 DESC, 1 LIMIT ?""", [top])
    return ChartData(
        budget_vs_attracted=tuple(YearPair(y, b, a) for y, b, a in pairs),
        regions=tuple(Bar(name, amount, f"грантов: {format_int(n)}")
                      for name, amount, n in regions),
        funders=tuple(Bar(name, amount, _years(first, last)) for name, amount, first, last
                      in funders),
        recipients=tuple(Bar(name, amount, f"ИНН {inn}, грантов: {format_int(n)}" if inn
                             else f"грантов: {format_int(n)}")
                         for name, inn, amount, n in recipients),
    )


@dataclass(frozen=True)
class OperatorYear:
    """One row of the operators' allocations against their lists of winners."""

    operator: str
    year: int
    allocation: Decimal | None
    listed: Decimal | None
    gap: Decimal | None
    share: float | None
    listed_grants: int
    status: str


# The mart's statuses as the page says them.
RECONCILIATION_STATUSES = {"ok": "сверено", "no list at hand": "списка нет",
                           "no allocation": "распределения нет"}


def read_operator_reconciliation(con: duckdb.DuckDBPyConnection) -> list[OperatorYear]:
    return [OperatorYear(*row) for row in _rows(con, """
        SELECT operator, year, allocation, listed_amount, gap, share, listed_grants, status
        FROM mart_operator_reconciliation
        ORDER BY year, operator""")]


def format_share(value: float) -> str:
    """`93,9 %`: a share as a percentage with one decimal."""
    return format_percent(value, format=f"#,##0.0{NBSP}%", locale=LOCALE)


def _years(first: int | None, last: int | None) -> str:
    if first is None:
        return ""
    return f"{first} год" if first == last else f"{first}–{last} годы"


def read_search_index(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """One record per organisation: key, name, ИНН, ОГРН, region, grants and their sum."""
    rows = _rows(con, """
        WITH g AS (
            SELECT organisation_key, count(*) AS grants, sum(amount_awarded) AS total
            FROM fact_grant
            WHERE carried_out IS DISTINCT FROM false AND currency = 'RUB'
            GROUP BY organisation_key
        )
        SELECT o.organisation_key, o.name, o.inn, o.ogrn, r.name,
               coalesce(g.grants, 0), coalesce(g.total, 0)
        FROM dim_organisation AS o
        LEFT JOIN g USING (organisation_key)
        LEFT JOIN dim_region AS r ON r.region_code = o.region_code
        ORDER BY 7 DESC, o.name, o.organisation_key""")
    return [
        {"key": key, "name": name, "inn": inn, "ogrn": ogrn, "region": region,
         "grants": grants, "total": _json_number(total)}
        for key, name, inn, ogrn, region, grants, total in rows
    ]


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def run_example(con: duckdb.DuckDBPyConnection, query: ExampleQuery
                ) -> tuple[list[str], list[tuple]]:
    cursor = con.execute(query.sql)
    columns = [d[0] for d in cursor.description]
    return columns, cursor.fetchall()


# --- formatting ------------------------------------------------------------------------

NBSP = "\u00a0"
LOCALE = "ru_RU"
# CLDR's long Russian date with the day and month, and the year and «г.», kept together
# (no-break spaces), then the time and the zone the page states.
MOMENT_PATTERN = f"d{NBSP}MMMM y{NBSP}'г'., HH:mm{NBSP}'МСК'"


def format_int(n: int) -> str:
    """`1 234 567`, grouped by no-break spaces."""
    return format_decimal(n, locale=LOCALE)


def format_rub(value: Decimal | int | float) -> str:
    """Whole rubles with grouped digits: `9 484 487 ₽`."""
    return format_currency(Decimal(value), "RUB", format=f"#,##0{NBSP}¤", locale=LOCALE,
                           currency_digits=False)


def format_rub_short(value: Decimal | int | float) -> str:
    """Three significant digits in thousands, millions or billions: `2,38 млрд ₽`,
    `14,6 млн ₽`, `752 тыс. ₽`; under a thousand, whole rubles: `900 ₽`."""
    amount = Decimal(value)
    if abs(amount) < 1000:
        return format_rub(amount)
    significant = amount.quantize(Decimal(1).scaleb(amount.adjusted() - 2), ROUND_HALF_UP)
    return format_compact_currency(significant, "RUB", locale=LOCALE, fraction_digits=2)


def format_bytes(n: int) -> str:
    """`3,5 КБ`, `11,5 МБ`, `481 Б`: binary multiples, one decimal."""
    for threshold, unit in ((1 << 30, "ГБ"), (1 << 20, "МБ"), (1 << 10, "КБ")):
        if n >= threshold:
            number = format_decimal(Decimal(n) / threshold, format="#,##0.0", locale=LOCALE)
            return f"{number}{NBSP}{unit}"
    return f"{format_int(n)}{NBSP}Б"


def _moscow() -> timezone | ZoneInfo:
    try:
        return ZoneInfo("Europe/Moscow")
    except ZoneInfoNotFoundError:
        return timezone(timedelta(hours=3), "MSK")


def format_moment(moment: datetime) -> str:
    """`23 ноября 2026 г., 16:26 МСК`."""
    return format_datetime(moment.astimezone(_moscow()), MOMENT_PATTERN, locale="ru")


def short_label(name: str) -> str:
    """An organisation name with its legal form abbreviated, for a chart label."""
    text = " ".join(name.split())
    lowered = text.lower()
    for long, short in LEGAL_FORM_ABBREVIATIONS:
        if lowered.startswith(long):
            return short + text[len(long):]
    return text


def text_width(text: str, size: float) -> float:
    """Estimated width of `text` in DejaVu Sans at `size` px (capitals are wider)."""
    return sum(size * (0.8 if ch.isupper() else 0.36 if ch in " .,;:'\"()-" else 0.66)
               for ch in text)


def wrap_label(text: str, max_width: float, size: float, lines: int = 2) -> list[str]:
    """Words into at most `lines` lines that fit `max_width`; an ellipsis if cut."""
    out: list[str] = []
    words = text.split()
    while words and len(out) < lines:
        line = words.pop(0)
        while words and text_width(f"{line} {words[0]}", size) <= max_width:
            line = f"{line} {words.pop(0)}"
        out.append(line)
    cut = bool(words) or any(text_width(line, size) > max_width for line in out)
    if cut and out:
        last = out[-1] if not words else f"{out[-1]} {words[0]}"
        while last and text_width(last + "…", size) > max_width:
            last = last[:-1]
        out[-1] = last.rstrip() + "…"
    return out or [""]


def href(target: Path, start: Path) -> str:
    """A relative, percent-encoded link from folder `start` to `target`."""
    relative = os.path.relpath(target, start).replace(os.sep, "/")
    return "/".join(quote(part) for part in relative.split("/"))


def coordinate(value: int | float) -> str:
    """A chart coordinate as written in the SVG: whole numbers as they are, the rest to
    a tenth of a pixel."""
    return str(value) if isinstance(value, int) else f"{value:.1f}"


# --- chart geometry (drawn by templates/page/chart.svg.j2) -----------------------------

CHART_WIDTH = 620
LABEL_WIDTH = 250
VALUE_ROOM = 92
LABEL_SIZE = 12


@dataclass(frozen=True)
class TextAt:
    x: int | float
    y: int | float
    text: str


@dataclass(frozen=True)
class BarShape:
    x: int | float
    y: int | float
    width: int | float
    height: int | float
    fill: str
    title: str = ""
    broken: bool = False


@dataclass(frozen=True)
class Stroke:
    """A break mark across a bar drawn shorter than its value."""
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class BarRow:
    tooltip: str
    label_lines: tuple[TextAt, ...]
    bar: BarShape | None
    value: TextAt


@dataclass(frozen=True)
class PairedValue:
    bar: BarShape | None
    breaks: tuple[Stroke, ...]
    value: TextAt
    missing: bool


@dataclass(frozen=True)
class PairedRow:
    year: TextAt
    values: tuple[PairedValue, ...]


@dataclass(frozen=True)
class LegendItem:
    swatch: BarShape
    label: TextAt


@dataclass(frozen=True)
class ChartGeometry:
    """Everything a chart template places: the frame, and the rows of one kind of chart
    (horizontal bars, or paired bars per year with a legend), or the no-data message."""
    svg_id: str
    title: str
    width: int
    height: int
    font: str
    bar_rows: tuple[BarRow, ...] = ()
    legend: tuple[LegendItem, ...] = ()
    paired_rows: tuple[PairedRow, ...] = ()
    empty: TextAt | None = None


def _empty_chart(svg_id: str, title: str) -> ChartGeometry:
    return ChartGeometry(svg_id, title, CHART_WIDTH, 60, CHART_FONT,
                         empty=TextAt(12, 36, "Нет данных"))


def _bar_width(value: Decimal, top: Decimal) -> float:
    span = CHART_WIDTH - LABEL_WIDTH - VALUE_ROOM
    return 0.0 if top <= 0 or value <= 0 else max(1.0, float(value / top) * span)


def bar_chart(svg_id: str, title: str, bars: Sequence[Bar], colour: str,
              *, shorten: bool = False) -> ChartGeometry:
    """Horizontal bars, largest first, each with its label, value and a tooltip."""
    if not bars:
        return _empty_chart(svg_id, title)
    row = 36
    top = max(b.value for b in bars)
    rows = []
    for i, bar in enumerate(bars):
        y = 8 + i * row
        label = short_label(bar.label) if shorten else bar.label
        lines = wrap_label(label, LABEL_WIDTH - 14, LABEL_SIZE)
        first_line_y = y + (row - 6) / 2 + 4 - (len(lines) - 1) * 7
        width = _bar_width(bar.value, top)
        rows.append(BarRow(
            tooltip=f"{bar.label}: {format_rub(bar.value)}"
                    + (f" ({bar.note})" if bar.note else ""),
            label_lines=tuple(TextAt(LABEL_WIDTH - 8, first_line_y + k * 14, line)
                              for k, line in enumerate(lines)),
            bar=BarShape(LABEL_WIDTH, y + 4, width, row - 14, colour) if width else None,
            value=TextAt(LABEL_WIDTH + width + 6, y + row / 2 + 2,
                         format_rub_short(bar.value)),
        ))
    return ChartGeometry(svg_id, title, CHART_WIDTH, 12 + row * len(bars), CHART_FONT,
                         bar_rows=tuple(rows))


def scale_top(values: Sequence[Decimal], factor: int = 10) -> Decimal:
    """The value the longest bar stands for. Amounts far above the rest (more than `factor`
    times the upper quartile) would squash every other bar to a pixel: they are drawn
    full length with a break mark instead, and the scale follows the largest of the rest."""
    positive = sorted(v for v in values if v > 0)
    if not positive:
        return Decimal(0)
    quartile = positive[(3 * (len(positive) - 1)) // 4]
    in_scale = [v for v in positive if v <= factor * quartile]
    return in_scale[-1] if in_scale else positive[-1]


def _break_mark(x: float, y: float, height: float) -> tuple[Stroke, ...]:
    """Two slanted strokes across a bar: it is longer than drawn."""
    return tuple(Stroke(x + dx - 3, float(y + height + 1), x + dx + 3, float(y - 1))
                 for dx in (0, 6))


def paired_bar_chart(svg_id: str, title: str, pairs: Sequence[YearPair]) -> ChartGeometry:
    """Per year two bars, budget and attracted, on one linear scale, with a legend."""
    if not pairs:
        return _empty_chart(svg_id, title)
    row = 38
    legend = 30
    top = scale_top([v for p in pairs for v in (p.budget, p.attracted) if v is not None])
    label_x = 56
    span = CHART_WIDTH - label_x - VALUE_ROOM
    rows = []
    for i, pair in enumerate(pairs):
        y = legend + 4 + i * row
        values = []
        for k, (kind, value, colour) in enumerate(
                (("бюджет", pair.budget, BUDGET_COLOUR),
                 ("привлечено", pair.attracted, ATTRACTED_COLOUR))):
            by = y + 4 + k * 15
            if value is None:
                values.append(PairedValue(None, (), TextAt(label_x + 5, by + 11, "нет сведений"),
                                          missing=True))
                continue
            broken = top > 0 and value > top
            width = (0.0 if top <= 0 or value <= 0
                     else span if broken else max(1.0, float(value / top) * span))
            bar = (BarShape(label_x, by, float(width), 13, colour, broken=broken,
                            title=f"{pair.year}, {kind}: {format_rub(value)}")
                   if width else None)
            values.append(PairedValue(
                bar, _break_mark(label_x + span * 0.8, by, 13) if broken else (),
                TextAt(label_x + width + 5.0, by + 11, format_rub_short(value)), missing=False))
        rows.append(PairedRow(TextAt(label_x - 8, y + row / 2, str(pair.year)), tuple(values)))
    key = (LegendItem(BarShape(label_x, 8, 14, 14, BUDGET_COLOUR),
                      TextAt(label_x + 20, 20, "Бюджетные средства")),
           LegendItem(BarShape(label_x + 200, 8, 14, 14, ATTRACTED_COLOUR),
                      TextAt(label_x + 220, 20, "Привлечённые средства")))
    return ChartGeometry(svg_id, title, CHART_WIDTH, legend + 8 + row * len(pairs), CHART_FONT,
                         legend=key, paired_rows=tuple(rows))


@dataclass(frozen=True)
class Chart:
    chart_id: str
    title: str
    caption: str
    geometry: ChartGeometry


def _broken_scale_note(pairs: Sequence[YearPair]) -> str:
    values = [v for p in pairs for v in (p.budget, p.attracted) if v is not None]
    if any(v > scale_top(values) for v in values):
        return (" Столбцы с белыми штрихами разрыва не в масштабе: их суммы на порядки "
                "больше остальных (подписаны точно).")
    return ""


def make_charts(data: ChartData) -> list[Chart]:
    return [
        Chart("chart-budget-vs-attracted", "Бюджетные и привлечённые средства по годам",
              "Сумма по регионам России, руб. Бюджет — федеральный, региональный и "
              "муниципальный, по одному основанию на уровень бюджета; привлечено — бизнес, "
              "софинансирование, средства исполнителей и иностранных доноров "
              "(mart_budget_vs_attracted)." + _broken_scale_note(data.budget_vs_attracted),
              paired_bar_chart("chart-budget-vs-attracted-svg",
                               "Бюджетные и привлечённые средства по годам",
                               data.budget_vs_attracted)),
        Chart("chart-regions", f"Регионы: больше всего присуждено грантов (топ-{TOP_N})",
              "Сумма присуждённых грантов за все годы, руб., по региону получателя "
              "(mart_region_year).",
              bar_chart("chart-regions-svg", "Регионы по сумме присуждённых грантов",
                        data.regions, REGION_COLOUR)),
        Chart("chart-funders", f"Кто даёт деньги: крупнейшие грантодатели (топ-{TOP_N})",
              "Бюджетные средства по программам грантодателя за все годы, руб.; где "
              "источники пересекаются, взято одно основание (mart_funder_year).",
              bar_chart("chart-funders-svg", "Крупнейшие грантодатели", data.funders,
                        FUNDER_COLOUR)),
        Chart("chart-recipients", f"Кто получает: крупнейшие получатели (топ-{TOP_N})",
              "Сумма присуждённых грантов и поддержки за все годы, руб.; неисполненные "
              "решения не учтены (fact_grant, dim_organisation).",
              bar_chart("chart-recipients-svg", "Крупнейшие получатели грантов",
                        data.recipients, RECIPIENT_COLOUR, shorten=True)),
    ]


# --- the page --------------------------------------------------------------------------

@dataclass(frozen=True)
class StaticText:
    """A static file inlined into the page, and its hash for the Content-Security-Policy."""
    text: Markup
    csp_hash: str


def _csp_hash(data: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode() + "'"


def static_text(name: str, element: str) -> StaticText:
    """`pipelines/static/<name>` to inline in a `<element>`: the browser hashes the text as
    it stands in the page, so it must be the file's bytes exactly, which an HTML parser
    would change at a carriage return and which must not close the element early."""
    data = files("pipelines").joinpath("static", name).read_bytes()
    text = data.decode("utf-8")
    if "\r" in text or f"</{element}" in text.lower():
        raise ValueError(f"pipelines/static/{name}: a carriage return or </{element} "
                         "cannot be inlined unchanged")
    return StaticText(Markup(text), _csp_hash(data))


def content_security_policy(style: StaticText, script: StaticText,
                            explorer: tuple[StaticText, StaticText] | None = None) -> str:
    """The page's policy: its own inline style and script by hash, nothing else. With the
    explorer (its script and style), WebAssembly may compile and a worker may start from the
    page's own host, which is all DuckDB-WASM needs; it fetches the Parquet files from the
    same host (connect-src 'self')."""
    scripts, styles, extra = script.csp_hash, style.csp_hash, ""
    if explorer is not None:
        scripts += f" {explorer[0].csp_hash} 'wasm-unsafe-eval'"
        styles += f" {explorer[1].csp_hash}"
        extra = " worker-src 'self';"
    return (f"default-src 'none'; script-src {scripts}; style-src {styles}; "
            f"img-src 'self' data:; connect-src 'self';{extra} base-uri 'none'; "
            "form-action 'none'")


def _embed_json(payload: str) -> Markup:
    """JSON inside <script type="application/json">: nothing in it can close the element."""
    return Markup(payload.replace("&", "\\u0026").replace("<", "\\u003c")
                  .replace(">", "\\u003e"))


def _cell(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return str(value)


@cache
def _templates() -> Environment:
    env = Environment(loader=PackageLoader("pipelines", "templates/page"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters.update(num=format_int, rub=format_rub, rub_short=format_rub_short,
                       size=format_bytes, moment=format_moment, coord=coordinate, cell=_cell,
                       share=format_share)
    return env


@dataclass(frozen=True)
class DownloadRow:
    link: str
    file: Download
    format_label: str


@dataclass(frozen=True)
class ExtraFile:
    link: str
    name: str
    what: str


@dataclass(frozen=True)
class LiveDatabase:
    link: str
    name: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class TableEntry:
    name: str
    description: str
    rows: int | None


@dataclass(frozen=True)
class ExampleResult:
    query: ExampleQuery
    columns: list[str]
    rows: list[tuple]
    more: int


def _download_order(f: Download) -> tuple:
    """A table's own files first, grouped by table (CSV, XLSX, Parquet), then the rest."""
    own = f.table is not None and Path(f.path).stem == f.table
    return (not own, (f.table or "") if own else "", FORMAT_ORDER.get(f.format, 9), f.path)


def _downloads(release: Release, site_dir: Path) -> list[DownloadRow]:
    return [DownloadRow(href(release.folder / f.path, site_dir), f,
                        FORMAT_LABELS.get(f.format, f.format.upper()))
            for f in sorted(release.files, key=_download_order)]


def _extras(release: Release, site_dir: Path) -> list[ExtraFile]:
    found = ((release.extra("SHA256SUMS"), "контрольные суммы"),
             (release.extra("manifest.json"), "список файлов в JSON"),
             (release.extra("CHANGES.md"), "что изменилось с прошлого выпуска; сами строки — "
                                           "changes/<таблица>.csv"),
             (release.dictionary(), "словарь данных"))
    return [ExtraFile(href(path, site_dir), path.name, what) for path, what in found if path]


def _live_database(release: Release | None, site_dir: Path, db_path: Path
                   ) -> LiveDatabase | None:
    # A release that carries its own snapshot of the database links it in its table.
    if release is not None and release.has_format("duckdb"):
        return None
    return LiveDatabase(href(db_path, site_dir), db_path.name, db_path.stat().st_size,
                        sha256_file(db_path))


def _tables(release: Release) -> list[TableEntry]:
    names = sorted({f.table for f in release.files if f.table})
    return [TableEntry(t, (f := release.table_file(t)).description, f.rows) for t in names]


def _quality(release: Release | None, site_dir: Path) -> dict | None:
    """The release's quality scorecard for the page, with links to it and its schema."""
    if release is None:
        return None
    links = {name: href(path, site_dir) if (path := release.extra(name)) else None
             for name in (QUALITY_FILE, SCHEMA_FILE)}
    return quality_view(read_quality(release.folder), links[QUALITY_FILE], links[SCHEMA_FILE])


def render_page(*, built_at: datetime, headline: Headline, sources: list[SourceFreshness],
                charts: list[Chart], release: Release | None, site_dir: Path, db_path: Path,
                examples: list[tuple[ExampleQuery, list[str], list[tuple]]],
                index_json: str | None, index_count: int, preview_rows: int = 5,
                reconciliation: Sequence[OperatorYear] = (), illustrative: bool = False,
                explorer: ExplorerPage | None = None) -> str:
    style = static_text(STYLE_FILE, "style")
    script = static_text(SCRIPT_FILE, "script")
    explorer = explorer or ExplorerPage(False, "страница собрана без него")
    explorer_static = ((static_text(EXPLORER_SCRIPT, "script"),
                        static_text(EXPLORER_STYLE, "style")) if explorer.available else None)
    dictionary = release.dictionary() if release is not None else None
    return _templates().get_template("index.html.j2").render(
        csp=content_security_policy(style, script, explorer_static), style=style.text,
        script=script.text, explorer=explorer,
        explorer_config=_embed_json(json.dumps(explorer.config, ensure_ascii=False))
        if explorer.config is not None else None,
        explorer_script=explorer_static[0].text if explorer_static else None,
        explorer_style=explorer_static[1].text if explorer_static else None,
        built_at=built_at,
        illustrative_warning=PAGE_WARNING_RU if illustrative else None,
        newest=max((s.last_fetched for s in sources if s.last_fetched), default=None),
        headline=headline,
        index_json=_embed_json(index_json) if index_json is not None else None,
        index_count=index_count,
        charts=charts,
        reconciliation=reconciliation,
        reconciliation_statuses=RECONCILIATION_STATUSES,
        quality=_quality(release, site_dir),
        release=release,
        downloads=_downloads(release, site_dir) if release is not None else [],
        extras=_extras(release, site_dir) if release is not None else [],
        database=_live_database(release, site_dir, db_path),
        dictionary_link=href(dictionary, site_dir) if dictionary is not None else None,
        tables=_tables(release) if release is not None else [],
        db_name=db_path.name,
        examples=[ExampleResult(q, columns, rows[:preview_rows],
                                max(0, len(rows) - preview_rows))
                  for q, columns, rows in examples],
        sources=sources,
    )


def render_chart_file(chart: Chart) -> str:
    """The chart as a standalone SVG file, the same drawing as in the page."""
    return _templates().get_template("chart-file.svg.j2").render(chart=chart.geometry)


def _explorer(release: Release | None, site_dir: Path, node_modules: Path) -> ExplorerPage:
    """The explorer over the release's Parquet files (each table's own), vendored into the
    site."""
    parquet = {f.table: (release.folder / f.path, f.sha256) for f in release.files
               if f.format == "parquet" and f.table and Path(f.path).stem == f.table
               } if release is not None else {}
    return prepare_explorer(site_dir, release.name if release else None, parquet,
                            node_modules=node_modules)


def build_site(db_path: Path, exports_dir: Path, site_dir: Path, *, built_at: datetime,
               node_modules: Path = NODE_MODULES) -> Path:
    """Write `site_dir/index.html` (and its search index and chart files); return its path.

    `built_at` must carry a time zone; it is shown in Moscow time.
    """
    if built_at.tzinfo is None or built_at.utcoffset() is None:
        raise ValueError("build_site: built_at must be timezone-aware")
    db_path, exports_dir, site_dir = Path(db_path), Path(exports_dir), Path(site_dir)
    release = read_release(exports_dir)
    con = connect(db_path, read_only=True)
    try:
        illustrative = read_build(con).illustrative
        sources = read_sources(con)
        headline = read_headline(con)
        charts = make_charts(read_chart_data(con))
        reconciliation = read_operator_reconciliation(con)
        index = read_search_index(con)
        examples = [(q, *run_example(con, q)) for q in EXAMPLE_QUERIES]
        # Before the page that links them; organisations.py builds on this module.
        from pipelines.organisations import write_organisation_pages
        write_organisation_pages(con, site_dir, built_at=built_at, illustrative=illustrative)
    finally:
        con.close()
    index_json = json.dumps(index, ensure_ascii=False, separators=(",", ":"))
    embedded = index_json if len(index_json.encode()) <= SEARCH_EMBED_MAX_BYTES else None
    page = render_page(built_at=built_at, headline=headline, sources=sources, charts=charts,
                       release=release, site_dir=site_dir, db_path=db_path, examples=examples,
                       index_json=embedded, index_count=len(index),
                       reconciliation=reconciliation, illustrative=illustrative,
                       explorer=_explorer(release, site_dir, node_modules))
    for chart in charts:
        write_text_atomic(site_dir / "charts" / f"{chart.chart_id}.svg",
                          render_chart_file(chart))
    write_text_atomic(site_dir / "search-index.json", index_json)
    index_html = site_dir / "index.html"
    write_text_atomic(index_html, page)
    return index_html
