"""The public static site: `site/index.html` with freshness, downloads, charts, search, SQL.

The page is built from the published warehouse and the latest exports release. It fetches
nothing at run time: charts are SVG drawn here, the one script and the one stylesheet are
inline (allowed by hash in the page's Content-Security-Policy, which forbids everything
else), and the organisation search index is embedded in the page, so it works from
`file://` as well as over `socfund serve`. Every text from the data is escaped.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from pipelines.duckdb_config import connect, quote_ident
from pipelines.exports import sha256_file
from scrapers.files import write_text_atomic

# Above this size the search index is only shipped as a file (fetched over HTTP),
# so that the page itself stays light.
SEARCH_EMBED_MAX_BYTES = 4_000_000
TOP_N = 10

SOURCE_TITLES: dict[str, str] = {
    "fpg": "Фонд президентских грантов: карточки проектов и открытые данные",
    "oprf2013": "Президентские гранты 2013 года через шесть операторов",
    "sonko": "Реестры поддержки социально ориентированных НКО (федеральный и региональные)",
    "ebudget": "Электронный бюджет: соглашения о субсидиях некоммерческим организациям",
    "treasury": "Исполнение бюджетов, форма 0503317, вид расходов 630",
    "municipal": "Итоги муниципальных конкурсов",
    "curated": "Цифры из отчётов и презентаций, каждая со ссылкой на документ",
}

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

MONTHS_GENITIVE = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля",
                   "августа", "сентября", "октября", "ноября", "декабря")


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
    """Per source: the newest successful fetch, documents, errors, rows loaded and held back."""
    fetched = _rows(con, """
        SELECT source,
               max(fetched_at) FILTER (WHERE error IS NULL),
               count(DISTINCT sha256) FILTER (WHERE error IS NULL),
               count(*) FILTER (WHERE error IS NOT NULL)
        FROM raw.fetch_log GROUP BY source ORDER BY source""")
    counts = _rows_per_source(con)
    return [
        SourceFreshness(source=source, last_fetched=last, documents=docs, errors=errors,
                        rows_loaded=counts.get(("raw", source), 0),
                        rows_quarantined=counts.get(("quarantine", source), 0))
        for source, last, docs, errors in fetched
    ]


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
    regions = _rows(con, """
        SELECT coalesce(r.name, m.region_name, m.region_code), sum(m.amount_awarded),
               sum(m.grants)
        FROM mart_region_year AS m
        LEFT JOIN dim_region AS r USING (region_code)
        GROUP BY m.region_code, r.name, m.region_name
        HAVING sum(m.amount_awarded) > 0
        ORDER BY 2 DESC, 1 LIMIT ?""", [top])
    # Sources overlap (a registry decision reappears as an agreement): as in the funding
    # marts, one basis per funder, year, territory and budget level, the best precedence.
    funders = _rows(con, """
        WITH by_basis AS (
            SELECT p.funder, f.year, f.region_code, f.funding_kind, f.basis_precedence,
                   sum(f.amount) AS amount
            FROM fact_funding AS f
            JOIN dim_programme AS p USING (programme_id)
            WHERE f.funding_group = 'budget' AND f.currency = 'RUB' AND p.funder IS NOT NULL
            GROUP BY p.funder, f.year, f.region_code, f.funding_kind, f.basis_precedence
            QUALIFY row_number() OVER (
                PARTITION BY p.funder, f.year, f.region_code, f.funding_kind
                ORDER BY f.basis_precedence) = 1
        )
        SELECT funder, sum(amount), min(year), max(year) FROM by_basis
        GROUP BY funder HAVING sum(amount) > 0
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


def format_int(n: int) -> str:
    return f"{n:,}".replace(",", NBSP)


def format_rub(value: Decimal | int | float) -> str:
    """Whole rubles with grouped digits: `9 484 487 ₽`."""
    rounded = int(Decimal(value).quantize(Decimal(1)))
    return f"{format_int(rounded)}{NBSP}₽"


def format_rub_short(value: Decimal | int | float) -> str:
    """`2,38 млрд ₽`, `14,6 млн ₽`, `751,9 тыс. ₽`, `900 ₽`."""
    v = float(value)
    for threshold, unit in ((1e9, "млрд"), (1e6, "млн"), (1e3, "тыс.")):
        if abs(v) >= threshold:
            x = v / threshold
            digits = 0 if abs(x) >= 100 else 1 if abs(x) >= 10 else 2
            text = f"{x:.{digits}f}"
            if "." in text:
                text = text.rstrip("0").rstrip(".")
            return f"{text.replace('.', ',')}{NBSP}{unit}{NBSP}₽"
    return format_rub(value)


def format_bytes(n: int) -> str:
    for threshold, unit in ((1 << 30, "ГБ"), (1 << 20, "МБ"), (1 << 10, "КБ")):
        if n >= threshold:
            return f"{n / threshold:.1f}".replace(".", ",") + f"{NBSP}{unit}"
    return f"{n}{NBSP}Б"


def _moscow() -> timezone | ZoneInfo:
    try:
        return ZoneInfo("Europe/Moscow")
    except ZoneInfoNotFoundError:
        return timezone(timedelta(hours=3), "MSK")


def format_moment(moment: datetime) -> str:
    """`23 ноября 2026 г., 16:26 МСК`."""
    local = moment.astimezone(_moscow())
    return (f"{local.day}{NBSP}{MONTHS_GENITIVE[local.month - 1]} {local.year}{NBSP}г., "
            f"{local:%H:%M}{NBSP}МСК")


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


def e(value: object) -> str:
    """Escape text for HTML and SVG, attributes included."""
    return html.escape("" if value is None else str(value), quote=True)


def href(target: Path, start: Path) -> str:
    """A relative, percent-encoded link from folder `start` to `target`."""
    relative = os.path.relpath(target, start).replace(os.sep, "/")
    return "/".join(quote(part) for part in relative.split("/"))


# --- SVG charts ------------------------------------------------------------------------

CHART_WIDTH = 620
LABEL_WIDTH = 250
VALUE_ROOM = 92
LABEL_SIZE = 12


def _svg_open(chart_id: str, height: int, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" id="{e(chart_id)}" '
            f'viewBox="0 0 {CHART_WIDTH} {height}" width="{CHART_WIDTH}" height="{height}" '
            f'role="img" aria-labelledby="{e(chart_id)}-title" font-family="{e(CHART_FONT)}" '
            f'font-size="12"><title id="{e(chart_id)}-title">{e(title)}</title>'
            f'<rect width="{CHART_WIDTH}" height="{height}" fill="#ffffff"/>')


def _empty_chart(chart_id: str, title: str) -> str:
    return (_svg_open(chart_id, 60, title)
            + '<text x="12" y="36" fill="#555555">Нет данных</text></svg>')


def _bar_width(value: Decimal, top: Decimal) -> float:
    span = CHART_WIDTH - LABEL_WIDTH - VALUE_ROOM
    return 0.0 if top <= 0 or value <= 0 else max(1.0, float(value / top) * span)


def bar_chart_svg(chart_id: str, title: str, bars: Sequence[Bar], colour: str,
                  *, shorten: bool = False) -> str:
    """Horizontal bars, largest first, each with its label, value and a tooltip."""
    if not bars:
        return _empty_chart(chart_id, title)
    row = 36
    height = 12 + row * len(bars)
    top = max(b.value for b in bars)
    parts = [_svg_open(chart_id, height, title)]
    for i, bar in enumerate(bars):
        y = 8 + i * row
        label = short_label(bar.label) if shorten else bar.label
        lines = wrap_label(label, LABEL_WIDTH - 14, LABEL_SIZE)
        first_line_y = y + (row - 6) / 2 + 4 - (len(lines) - 1) * 7
        tspans = "".join(
            f'<tspan x="{LABEL_WIDTH - 8}" y="{first_line_y + k * 14:.1f}">{e(line)}</tspan>'
            for k, line in enumerate(lines))
        width = _bar_width(bar.value, top)
        tooltip = f"{bar.label}: {format_rub(bar.value)}" + (f" ({bar.note})" if bar.note
                                                            else "")
        parts.append(
            f'<g class="row"><title>{e(tooltip)}</title>'
            f'<text class="label" text-anchor="end" fill="#222222">{tspans}</text>'
            + (f'<rect class="bar" x="{LABEL_WIDTH}" y="{y + 4}" width="{width:.1f}" '
               f'height="{row - 14}" fill="{colour}"/>' if width else "")
            + f'<text class="value" x="{LABEL_WIDTH + width + 6:.1f}" y="{y + row / 2 + 2:.1f}"'
              f' fill="#222222">{e(format_rub_short(bar.value))}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


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


def _break_mark(x: float, y: float, height: float) -> str:
    """Two white slanted strokes across a bar: it is longer than drawn."""
    return "".join(
        f'<path class="break" d="M{x + dx - 3:.1f} {y + height + 1:.1f} L{x + dx + 3:.1f} '
        f'{y - 1:.1f}" stroke="#ffffff" stroke-width="2.5"/>' for dx in (0, 6))


def paired_bar_chart_svg(chart_id: str, title: str, pairs: Sequence[YearPair]) -> str:
    """Per year two bars, budget and attracted, on one linear scale, with a legend."""
    if not pairs:
        return _empty_chart(chart_id, title)
    row = 38
    legend = 30
    height = legend + 8 + row * len(pairs)
    top = scale_top([v for p in pairs for v in (p.budget, p.attracted) if v is not None])
    label_x = 56
    parts = [_svg_open(chart_id, height, title),
             f'<rect x="{label_x}" y="8" width="14" height="14" fill="{BUDGET_COLOUR}"/>'
             f'<text x="{label_x + 20}" y="20" fill="#222222">Бюджетные средства</text>'
             f'<rect x="{label_x + 200}" y="8" width="14" height="14" '
             f'fill="{ATTRACTED_COLOUR}"/>'
             f'<text x="{label_x + 220}" y="20" fill="#222222">Привлечённые средства</text>']
    span = CHART_WIDTH - label_x - VALUE_ROOM
    for i, pair in enumerate(pairs):
        y = legend + 4 + i * row
        parts.append(f'<g class="row"><text class="label" x="{label_x - 8}" '
                     f'y="{y + row / 2:.1f}" text-anchor="end" fill="#222222">'
                     f'{e(pair.year)}</text>')
        for k, (kind, value, colour) in enumerate(
                (("бюджет", pair.budget, BUDGET_COLOUR),
                 ("привлечено", pair.attracted, ATTRACTED_COLOUR))):
            by = y + 4 + k * 15
            if value is None:
                parts.append(f'<text class="value" x="{label_x + 5}" y="{by + 11}" '
                             'font-size="11" fill="#777777">нет сведений</text>')
                continue
            broken = top > 0 and value > top
            width = (0.0 if top <= 0 or value <= 0
                     else span if broken else max(1.0, float(value / top) * span))
            if width:
                parts.append(
                    f'<rect class="bar{" bar-broken" if broken else ""}" x="{label_x}" '
                    f'y="{by}" width="{width:.1f}" height="13" fill="{colour}"><title>'
                    f"{e(pair.year)}, {kind}: {e(format_rub(value))}</title></rect>")
            if broken:
                parts.append(_break_mark(label_x + span * 0.8, by, 13))
            parts.append(f'<text class="value" x="{label_x + width + 5:.1f}" y="{by + 11}" '
                         f'font-size="11" fill="#333333">{e(format_rub_short(value))}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Chart:
    chart_id: str
    title: str
    caption: str
    svg: str


def _broken_scale_note(pairs: Sequence[YearPair]) -> str:
    values = [v for p in pairs for v in (p.budget, p.attracted) if v is not None]
    if any(v > scale_top(values) for v in values):
        return (" Столбцы с белыми штрихами разрыва не в масштабе: их суммы на порядки "
                "больше остальных (подписаны точно).")
    return ""


def make_charts(data: ChartData) -> list[Chart]:
    specs = [
        ("chart-budget-vs-attracted", "Бюджетные и привлечённые средства по годам",
         "Сумма по регионам России, руб. Бюджет — федеральный, региональный и "
         "муниципальный, по одному основанию на уровень бюджета; привлечено — бизнес, "
         "софинансирование, средства исполнителей и иностранных доноров "
         "(mart_budget_vs_attracted)." + _broken_scale_note(data.budget_vs_attracted),
         paired_bar_chart_svg("chart-budget-vs-attracted-svg",
                              "Бюджетные и привлечённые средства по годам",
                              data.budget_vs_attracted)),
        ("chart-regions", f"Регионы: больше всего присуждено грантов (топ-{TOP_N})",
         "Сумма присуждённых грантов за все годы, руб., по региону получателя "
         "(mart_region_year).",
         bar_chart_svg("chart-regions-svg", "Регионы по сумме присуждённых грантов",
                       data.regions, REGION_COLOUR)),
        ("chart-funders", f"Кто даёт деньги: крупнейшие грантодатели (топ-{TOP_N})",
         "Бюджетные средства по программам грантодателя за все годы, руб.; где источники "
         "пересекаются, взято одно основание (fact_funding, dim_programme).",
         bar_chart_svg("chart-funders-svg", "Крупнейшие грантодатели", data.funders,
                       FUNDER_COLOUR)),
        ("chart-recipients", f"Кто получает: крупнейшие получатели (топ-{TOP_N})",
         "Сумма присуждённых грантов и поддержки за все годы, руб.; неисполненные "
         "решения не учтены (fact_grant, dim_organisation).",
         bar_chart_svg("chart-recipients-svg", "Крупнейшие получатели грантов",
                       data.recipients, RECIPIENT_COLOUR, shorten=True)),
    ]
    return [Chart(chart_id, title, caption, svg) for chart_id, title, caption, svg in specs]


# --- the page --------------------------------------------------------------------------

STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1d1d1f;
  font: 16px/1.5 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
header.top { background: #14304f; color: #ffffff; padding: 28px 0 24px; }
header.top h1 { margin: 0 0 6px; font-size: 30px; line-height: 1.2; }
header.top p { margin: 4px 0; color: #d8e2ee; }
.wrap { max-width: 1240px; margin: 0 auto; padding: 0 20px; }
nav.toc { display: flex; flex-wrap: wrap; gap: 6px 18px; margin-top: 14px; }
nav.toc a { color: #ffffff; }
section { background: #ffffff; border-radius: 8px; margin: 20px 0; padding: 18px 22px;
  box-shadow: 0 1px 2px rgba(0, 0, 0, .08); }
h2 { margin: 0 0 12px; font-size: 22px; }
h3 { margin: 0 0 4px; font-size: 17px; }
.facts { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin: 0; }
.facts div { background: #eef3f9; border-radius: 6px; padding: 10px 14px; }
.facts dt { font-size: 13px; color: #4a5563; }
.facts dd { margin: 0; font-size: 22px; font-weight: bold; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 22px; }
figure.chart { margin: 0; }
figure.chart figcaption p { margin: 0 0 8px; font-size: 13px; color: #4a5563; }
figure.chart svg { width: 100%; height: auto; display: block; }
.chart-links { font-size: 13px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e2e5ea;
  vertical-align: top; }
th { background: #f0f2f5; font-weight: bold; }
td.num, th.num { text-align: right; white-space: nowrap; }
code, pre { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 13px; }
code.sha { white-space: nowrap; font-size: 11px; color: #4a5563; }
pre { background: #f6f8fa; border: 1px solid #e2e5ea; border-radius: 6px; padding: 10px;
  overflow-x: auto; }
.note { font-size: 13px; color: #4a5563; }
#search-input { width: 100%; font-size: 18px; padding: 10px 12px; border: 2px solid #14304f;
  border-radius: 6px; }
#search-status { margin: 8px 0; font-size: 14px; color: #4a5563; }
.preview { font-size: 12px; }
.preview td, .preview th { padding: 3px 6px; }
footer { padding: 10px 0 40px; font-size: 13px; color: #4a5563; }
"""

SCRIPT = """
(function () {
  "use strict";
  var input = document.getElementById("search-input");
  var status = document.getElementById("search-status");
  var body = document.getElementById("search-results-body");
  var records = null;
  var LIMIT = 25;

  function norm(text) {
    return String(text || "").toLowerCase().replace(/ё/g, "е")
      .replace(/["'«»“”„]/g, "").replace(/\\s+/g, " ").trim();
  }
  function rub(value) {
    return new Intl.NumberFormat("ru-RU", {maximumFractionDigits: 0}).format(value) + "\\u00a0₽";
  }
  function prepare(list) {
    list.forEach(function (r) { r._name = norm(r.name); });
    return list;
  }
  function load() {
    var embedded = document.getElementById("search-index");
    if (embedded) {
      return Promise.resolve(prepare(JSON.parse(embedded.textContent)));
    }
    return fetch("search-index.json").then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    }).then(prepare);
  }
  function find(query) {
    var q = norm(query);
    if (!q) { return []; }
    var digits = q.replace(/\\s/g, "");
    if (/^\\d+$/.test(digits)) {
      return records.filter(function (r) {
        return (r.inn && r.inn.indexOf(digits) === 0) || (r.ogrn && r.ogrn.indexOf(digits) === 0);
      });
    }
    var words = q.split(" ");
    return records.filter(function (r) {
      return words.every(function (w) { return r._name.indexOf(w) !== -1; });
    });
  }
  function cell(row, text, className) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "—" : String(text);
    if (className) { td.className = className; }
    row.appendChild(td);
  }
  function show(query) {
    body.textContent = "";
    if (!records) { return; }
    var found = find(query);
    found.slice(0, LIMIT).forEach(function (r) {
      var row = document.createElement("tr");
      row.className = "search-hit";
      cell(row, r.name);
      cell(row, r.inn);
      cell(row, r.ogrn);
      cell(row, r.region);
      cell(row, r.grants, "num");
      cell(row, rub(r.total), "num");
      body.appendChild(row);
    });
    if (!norm(query)) {
      status.textContent = "Организаций в указателе: " + records.length + ".";
    } else if (!found.length) {
      status.textContent = "Ничего не найдено.";
    } else {
      status.textContent = "Найдено: " + found.length +
        (found.length > LIMIT ? ", показаны первые " + LIMIT : "") + ".";
    }
  }
  function fromHash() {
    var match = /^#q=(.*)$/.exec(location.hash);
    if (!match) { return ""; }
    try { return decodeURIComponent(match[1]); } catch (err) { return match[1]; }
  }
  load().then(function (list) {
    records = list;
    var initial = fromHash();
    if (initial) { input.value = initial; }
    show(input.value);
  }).catch(function () {
    status.textContent = "Указатель не загрузился: откройте страницу через «socfund serve» " +
      "или скачайте search-index.json.";
  });
  input.addEventListener("input", function () { show(input.value); });
  window.addEventListener("hashchange", function () {
    input.value = fromHash();
    show(input.value);
  });
})();
"""


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; script-src {_csp_hash(SCRIPT)}; style-src {_csp_hash(STYLE)}; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'"
)


def _embed_json(payload: str) -> str:
    """JSON inside <script type="application/json">: nothing in it can close the element."""
    return payload.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _time(moment: datetime) -> str:
    return f'<time datetime="{e(moment.isoformat())}">{e(format_moment(moment))}</time>'


def _section_header(built_at: datetime, headline: Headline,
                    sources: list[SourceFreshness]) -> str:
    newest = max((s.last_fetched for s in sources if s.last_fetched), default=None)
    years = (f"{headline.first_year}–{headline.last_year}" if headline.first_year
             else "—")
    facts = [
        ("Грантов и решений о поддержке", format_int(headline.grants)),
        ("Присуждено", format_rub_short(headline.awarded)),
        ("Организаций в базе", format_int(headline.organisations)),
        ("Регионов / годы", f"{format_int(headline.regions)} / {years}"),
    ]
    fetched = f" Последняя загрузка из источников: {_time(newest)}." if newest else ""
    return f"""
<header class="top"><div class="wrap">
<h1>Финансирование социальной сферы: открытые данные</h1>
<p>Кто, сколько и кому дал денег на некоммерческие проекты — гранты, субсидии,
бюджетные и привлечённые средства — по регионам и годам.</p>
<p id="refreshed">Данные обновлены: {_time(built_at)}.{fetched}</p>
<nav class="toc">
<a href="#search">Поиск организации</a><a href="#charts">Графики</a>
<a href="#downloads">Скачать данные</a><a href="#dictionary">Словарь данных</a>
<a href="#sql">SQL для исследователей</a><a href="#sources">Источники</a>
</nav>
</div></header>
<div class="wrap">
<section id="summary" aria-label="Главное">
<dl class="facts">{"".join(f"<div><dt>{e(k)}</dt><dd>{e(v)}</dd></div>" for k, v in facts)}</dl>
</section>"""


def _section_search(index_json: str | None, count: int) -> str:
    embedded = (f'<script type="application/json" id="search-index">{_embed_json(index_json)}'
                "</script>") if index_json is not None else ""
    return f"""
<section id="search">
<h2>Поиск организации</h2>
<label for="search-input" class="note">Название или ИНН/ОГРН (можно начало номера)</label>
<input id="search-input" type="search" autocomplete="off" spellcheck="false"
  placeholder="Например: «Открытые двери» или 2347721933">
<p id="search-status" aria-live="polite">Организаций в указателе: {e(format_int(count))}.</p>
<table id="search-results"><thead><tr><th>Организация</th><th>ИНН</th><th>ОГРН</th>
<th>Регион</th><th class="num">Грантов</th><th class="num">Сумма</th></tr></thead>
<tbody id="search-results-body"></tbody></table>
<p class="note">Указатель: <a href="search-index.json" download>search-index.json</a>
(ключ, название, ИНН, ОГРН, регион, число грантов, сумма). Ссылка на поиск:
<code>index.html#q=ИНН</code>.</p>
{embedded}
</section>"""


def _section_charts(charts: list[Chart]) -> str:
    figures = "".join(
        f'<figure class="chart" id="{e(c.chart_id)}"><figcaption><h3>{e(c.title)}</h3>'
        f"<p>{e(c.caption)}</p></figcaption>{c.svg}"
        f'<p class="chart-links"><a href="charts/{e(c.chart_id)}.svg" download>'
        f"Скачать SVG</a></p></figure>"
        for c in charts)
    return f"""
<section id="charts">
<h2>Графики</h2>
<p class="note">Наведите на столбец — появится точная сумма. Суммы в рублях без учёта
инфляции.</p>
<div class="charts">{figures}</div>
</section>"""


def _download_order(f: Download) -> tuple:
    """A table's own files first, grouped by table (CSV, XLSX, Parquet), then the rest."""
    own = f.table is not None and Path(f.path).stem == f.table
    return (not own, (f.table or "") if own else "", FORMAT_ORDER.get(f.format, 9), f.path)


def _downloads_rows(release: Release, site_dir: Path) -> str:
    rows = []
    for f in sorted(release.files, key=_download_order):
        link = href(release.folder / f.path, site_dir)
        rows.append(
            f'<tr><td><a class="download" href="{e(link)}" download>{e(f.path)}</a>'
            f"</td><td>{e(f.table or '—')}</td>"
            f"<td>{e(FORMAT_LABELS.get(f.format, f.format.upper()))}</td>"
            f'<td class="num">{e(format_int(f.rows) if f.rows is not None else "—")}</td>'
            f'<td class="num">{e(format_bytes(f.bytes))}</td>'
            f'<td><code class="sha">{e(f.sha256)}</code></td></tr>')
    return "".join(rows)


def _live_database(site_dir: Path, db_path: Path) -> str:
    return (f'<p>Вся база одним файлом DuckDB (открывать только для чтения): '
            f'<a class="download" href="{e(href(db_path, site_dir))}" download>'
            f"{e(db_path.name)}</a>, {e(format_bytes(db_path.stat().st_size))}, SHA-256 "
            f'<code class="sha">{e(sha256_file(db_path))}</code>.</p>')


def _section_downloads(release: Release | None, site_dir: Path, db_path: Path) -> str:
    if release is None:
        return f"""
<section id="downloads">
<h2>Скачать данные</h2>
<p>Выгрузки в CSV, XLSX и Parquet ещё не опубликованы.</p>
{_live_database(site_dir, db_path)}
</section>"""
    extras = []
    for path, what in ((release.extra("SHA256SUMS"), "контрольные суммы"),
                       (release.extra("manifest.json"), "список файлов в JSON"),
                       (release.dictionary(), "словарь данных")):
        if path is not None:
            extras.append(f'<a class="download" href="{e(href(path, site_dir))}">'
                          f"{e(path.name)}</a> ({e(what)})")
    # A release that carries its own snapshot of the database links it in the table.
    database = "" if release.has_format("duckdb") else _live_database(site_dir, db_path)
    return f"""
<section id="downloads">
<h2>Скачать данные</h2>
<p>Выпуск <strong>{e(release.name)}</strong>. CSV — UTF-8 с BOM, открывается в Excel и
LibreOffice; ИНН и ОГРН — текст, ведущие нули сохранены. Проверить файлы:
<code>sha256sum -c SHA256SUMS</code>.</p>
<p>{" · ".join(extras)}</p>
<table id="downloads-table"><thead><tr><th>Файл</th><th>Таблица</th><th>Формат</th>
<th class="num">Строк</th><th class="num">Размер</th><th>SHA-256</th></tr></thead>
<tbody>{_downloads_rows(release, site_dir)}</tbody></table>
{database}
</section>"""


def _section_dictionary(release: Release | None, site_dir: Path) -> str:
    if release is None:
        return ""
    tables = {t: release.table_file(t) for t in sorted({f.table for f in release.files
                                                         if f.table})}
    dictionary = release.dictionary()
    link = (f'<p>Полное описание каждой таблицы и столбца: <a id="datadictionary-link" '
            f'href="{e(href(dictionary, site_dir))}">словарь данных</a>.</p>'
            if dictionary else "")
    rows = "".join(
        f'<tr><td><code>{e(t)}</code></td><td>{e(f.description)}</td>'
        f'<td class="num">{e(format_int(f.rows) if f.rows is not None else "—")}</td></tr>'
        for t, f in tables.items())
    return f"""
<section id="dictionary">
<h2>Словарь данных</h2>
{link}
<table><thead><tr><th>Таблица</th><th>Что в ней</th><th class="num">Строк</th></tr></thead>
<tbody>{rows}</tbody></table>
<p class="note">Деньги — рубли, DECIMAL(18,2), валюта в столбце currency; идентификаторы —
текст. ИНН или ОГРН с неверной контрольной цифрой сохранены как есть и помечены, но не
используются для связей.</p>
</section>"""


def _preview_table(columns: list[str], rows: list[tuple], limit: int = 5) -> str:
    head = "".join(f"<th>{e(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{e(_cell(v))}</td>" for v in row) + "</tr>"
        for row in rows[:limit])
    more = (f'<p class="note">…и ещё строк: {e(format_int(len(rows) - limit))}.</p>'
            if len(rows) > limit else "")
    return f'<table class="preview"><thead><tr>{head}</tr></thead><tbody>{body}</tbody>' \
           f"</table>{more}"


def _cell(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def _section_sql(examples: list[tuple[ExampleQuery, list[str], list[tuple]]],
                 db_path: Path) -> str:
    blocks = "".join(
        f'<article class="example"><h3>{e(q.title)}</h3><p class="note">{e(q.explanation)}</p>'
        f'<pre><code class="sql">{e(q.sql)}</code></pre>'
        f"<p class=\"note\">Результат на этих данных (первые строки):</p>"
        f"{_preview_table(columns, rows)}</article>"
        for q, columns, rows in examples)
    return f"""
<section id="sql">
<h2>SQL для исследователей</h2>
<p>Откройте базу в DuckDB только для чтения: <code>duckdb -readonly {e(db_path.name)}</code>
или из Python <code>duckdb.connect("{e(db_path.name)}", read_only=True)</code>.
Файлы Parquet читаются так же: <code>SELECT * FROM 'fact_grant.parquet'</code>.</p>
{blocks}
</section>"""


NO_FETCH = "нет успешных загрузок"


def _section_sources(sources: list[SourceFreshness]) -> str:
    rows = "".join(
        f"<tr><td><code>{e(s.source)}</code></td><td>{e(SOURCE_TITLES.get(s.source, ''))}</td>"
        f"<td>{e(format_moment(s.last_fetched) if s.last_fetched else NO_FETCH)}</td>"
        f'<td class="num">{e(format_int(s.documents))}</td>'
        f'<td class="num">{e(format_int(s.errors))}</td>'
        f'<td class="num">{e(format_int(s.rows_loaded))}</td>'
        f'<td class="num">{e(format_int(s.rows_quarantined))}</td></tr>'
        for s in sources)
    return f"""
<section id="sources">
<h2>Источники и свежесть</h2>
<table id="sources-table"><thead><tr><th>Источник</th><th>Что это</th>
<th>Последняя загрузка</th><th class="num">Документов</th><th class="num">Ошибок</th>
<th class="num">Строк принято</th><th class="num">В карантине</th></tr></thead>
<tbody>{rows}</tbody></table>
<p class="note">Каждый документ хранится как получен (по SHA-256) и записан в журнал
raw.fetch_log. Строки, не прошедшие проверку, не попадают в таблицы, а лежат в схеме
quarantine с причинами.</p>
</section>"""


def render_page(*, built_at: datetime, headline: Headline, sources: list[SourceFreshness],
                charts: list[Chart], release: Release | None, site_dir: Path, db_path: Path,
                examples: list[tuple[ExampleQuery, list[str], list[tuple]]],
                index_json: str | None, index_count: int) -> str:
    return f"""<!DOCTYPE html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{e(CONTENT_SECURITY_POLICY)}">
<meta name="referrer" content="no-referrer">
<title>socfund — финансирование социальной сферы: открытые данные</title>
<style>{STYLE}</style>
</head>
<body>
{_section_header(built_at, headline, sources)}
{_section_search(index_json, index_count)}
{_section_charts(charts)}
{_section_downloads(release, site_dir, db_path)}
{_section_dictionary(release, site_dir)}
{_section_sql(examples, db_path)}
{_section_sources(sources)}
<footer>socfund · страница собрана {_time(built_at)} · ничего не загружается из интернета
</footer>
</div>
<script>{SCRIPT}</script>
</body>
</html>
"""


def build_site(db_path: Path, exports_dir: Path, site_dir: Path, *, built_at: datetime) -> Path:
    """Write `site_dir/index.html` (and its search index and chart files); return its path.

    `built_at` must carry a time zone; it is shown in Moscow time.
    """
    if built_at.tzinfo is None or built_at.utcoffset() is None:
        raise ValueError("build_site: built_at must be timezone-aware")
    db_path, exports_dir, site_dir = Path(db_path), Path(exports_dir), Path(site_dir)
    release = read_release(exports_dir)
    con = connect(db_path, read_only=True)
    try:
        sources = read_sources(con)
        headline = read_headline(con)
        charts = make_charts(read_chart_data(con))
        index = read_search_index(con)
        examples = [(q, *run_example(con, q)) for q in EXAMPLE_QUERIES]
    finally:
        con.close()
    index_json = json.dumps(index, ensure_ascii=False, separators=(",", ":"))
    embedded = index_json if len(index_json.encode()) <= SEARCH_EMBED_MAX_BYTES else None
    page = render_page(built_at=built_at, headline=headline, sources=sources, charts=charts,
                       release=release, site_dir=site_dir, db_path=db_path, examples=examples,
                       index_json=embedded, index_count=len(index))
    for chart in charts:
        write_text_atomic(site_dir / "charts" / f"{chart.chart_id}.svg",
                          '<?xml version="1.0" encoding="UTF-8"?>\n' + chart.svg + "\n")
    write_text_atomic(site_dir / "search-index.json", index_json)
    index_html = site_dir / "index.html"
    write_text_atomic(index_html, page)
    return index_html
