"""The quality scorecard of a release, `quality.json`: how far each source's rows can be
trusted, computed from the warehouse snapshot the release is written from.

Per source: the state of its fetch (ok, live only, stale, never fetched) and the age of the
last successful one when the warehouse was built; rows parsed (`meta.loads`), loaded
(`raw.*`) and quarantined (`quarantine.*`) per table, whether parsed = loaded + quarantined,
and the commonest quarantine reasons with their varying values cut out; the share of the
rows naming a recipient whose ИНН or ОГРН is valid; the organisations it mentions by how
they were matched (`mart_organisation.match_method`); the non-null share of amount, year,
region and identifiers in each public fact table it feeds. Per release: totals, and the
operators' allocations against the grants their lists give
(`mart_operator_reconciliation`).

Each source is held to the thresholds its declaration sets (`registry.QualityThresholds`).
The breaches are written into the file, so the page (`pipelines.site`) and the asset check
`quality_thresholds` (`pipelines.quality`) read one verdict. A source live only on this
build (no offline copy of its documents) or without rows breaches nothing: there is
nothing to judge. `quality.schema.json`, shipped beside it in every release, is its JSON
Schema.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib.resources import files
from pathlib import Path

import duckdb

from pipelines import registry
from pipelines.duckdb_config import quote_ident
from pipelines.registry import QualityThresholds, Source

QUALITY_FILE = "quality.json"
SCHEMA_FILE = "quality.schema.json"
TOP_REASONS = 5

# A source's state, from its fetch stage in `meta.source_status`.
OK = "ok"
LIVE_ONLY = "live only"
STALE = "stale"
NOT_FETCHED = "not fetched"
_STATES = {"ok": OK, "live only": LIVE_ONLY, "failed": STALE}

# The public fact tables a source feeds, in the order that picks its first one (whose key
# fields the coverage threshold judges), with the column that holds each key field.
FACT_TABLES: tuple[tuple[str, dict[str, str]], ...] = (
    ("fact_grant", {"amount": "amount_awarded", "year": "year", "region": "region_code",
                    "identifier": "coalesce(inn, ogrn)"}),
    ("fact_funding", {"amount": "amount", "year": "year", "region": "region_code"}),
    ("fact_outcome", {"amount": "value", "year": "year", "region": "region_code"}),
)
KEY_FIELDS = ("amount", "year", "region")

THRESHOLD_NAMES = ("max_quarantine_share", "min_valid_identifier_share",
                   "max_fetch_age_days", "min_key_field_coverage")
# Not a declared threshold but the load invariant, judged for every source.
RECONCILES = "parsed_equals_loaded_plus_quarantined"


# --- quarantine reasons -----------------------------------------------------------------

_URL = re.compile(r"https?://\S+?(?=:\s|\s|$)")
_FOR_VALUE = re.compile(r"(check \S+ failed) for .*$")
# A quoted value, but not the quoted field name of `field 'amount': …`.
_QUOTED = re.compile(r"(?<!field )('[^']*'|\"[^\"]*\")")
_DATES = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def normalise_reason(reason: str) -> str:
    """A quarantine reason with the value that varies from row to row cut out, so that
    rows failing the same way count together: `field 'amount': check … failed for 12`
    and `… for 15` are one reason; so are `amount: not a number: '1O00'` and `…: '2 35О'`,
    and a document's error whatever the document's address."""
    text = _URL.sub("…", reason.strip())
    text = _FOR_VALUE.sub(r"\1 for …", text)
    text = _QUOTED.sub("…", text)
    return _DATES.sub("…", text)


# --- reading the warehouse --------------------------------------------------------------

def _has(con: duckdb.DuckDBPyConnection, db: str, schema: str, name: str) -> bool:
    (n,) = con.execute(
        "SELECT count(*) FROM (SELECT database_name, schema_name, table_name AS name "
        "FROM duckdb_tables() UNION ALL SELECT database_name, schema_name, view_name "
        "FROM duckdb_views()) WHERE database_name = ? AND schema_name = ? AND name = ?",
        [db, schema, name]).fetchone()
    return n > 0


def _rel(db: str, schema: str, name: str) -> str:
    return f"{quote_ident(db)}.{quote_ident(schema)}.{quote_ident(name)}"


def _count(con: duckdb.DuckDBPyConnection, db: str, schema: str, name: str) -> int | None:
    if not _has(con, db, schema, name):
        return None
    return int(con.execute(f"SELECT count(*) FROM {_rel(db, schema, name)}").fetchone()[0])


def _share(part: int | None, whole: int | None) -> float | None:
    if not whole or part is None:
        return None
    return round(part / whole, 4)


def _number(value: Decimal | float | int | None) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _measured_at(con: duckdb.DuckDBPyConnection, db: str) -> datetime:
    """When the warehouse was built: ages are measured there, so one warehouse always gives
    the same scorecard."""
    if _has(con, db, "meta", "build"):
        row = con.execute(f"SELECT max(built_at) FROM {_rel(db, 'meta', 'build')}").fetchone()
        if row and row[0] is not None:
            return row[0].astimezone(UTC)
    return datetime.now(UTC)


def _fetch_states(con: duckdb.DuckDBPyConnection, db: str) -> dict[str, dict]:
    if not _has(con, db, "meta", "source_status"):
        return {}
    rows = con.execute(
        f"SELECT source, stage, status, succeeded_at, error "
        f"FROM {_rel(db, 'meta', 'source_status')} ORDER BY source, stage").fetchall()
    out: dict[str, dict] = {}
    for source, stage, status, succeeded_at, error in rows:
        entry = out.setdefault(source, {"stages": {}})
        entry["stages"][stage] = status
        if stage == "fetch":
            entry.update(status=status, succeeded_at=succeeded_at, error=error)
    return out


def _fetch_log(con: duckdb.DuckDBPyConnection, db: str) -> dict[str, tuple[int, int]]:
    """Per source: distinct documents fetched without error, and requests that failed."""
    if not _has(con, db, "raw", "fetch_log"):
        return {}
    return {source: (int(docs), int(errors)) for source, docs, errors in con.execute(
        f"SELECT source, count(DISTINCT sha256) FILTER (WHERE error IS NULL), "
        f"count(*) FILTER (WHERE error IS NOT NULL) FROM {_rel(db, 'raw', 'fetch_log')} "
        f"GROUP BY source ORDER BY source").fetchall()}


def _loads(con: duckdb.DuckDBPyConnection, db: str) -> dict[str, int]:
    if not _has(con, db, "meta", "loads"):
        return {}
    return {t: int(parsed) for t, parsed in con.execute(
        f"SELECT table_name, parsed FROM {_rel(db, 'meta', 'loads')} ORDER BY 1").fetchall()}


def _reasons(con: duckdb.DuckDBPyConnection, db: str, tables: list[str]) -> Counter:
    """Quarantined rows per normalised reason, over the given quarantine tables."""
    rows: Counter = Counter()
    for table in tables:
        if not _has(con, db, "quarantine", table):
            continue
        for reasons, n in con.execute(
                f"SELECT reasons, count(*) FROM {_rel(db, 'quarantine', table)} "
                f"GROUP BY reasons ORDER BY 2 DESC").fetchall():
            for reason in {normalise_reason(r) for r in reasons or ()}:
                rows[reason] += int(n)
    return rows


def _identifiers(con: duckdb.DuckDBPyConnection, db: str) -> dict[str, dict]:
    """Per source, of its rows that name a recipient: how many carry an ИНН or ОГРН and how
    many a valid one. A mention's source may name a part of the source (`sonko_federal`)."""
    if not _has(con, db, "intermediate", "int_organisation_mentions"):
        return {}
    out = {}
    for source, rows, inn, valid_inn, ogrn, valid_ogrn, valid in con.execute(
            f"SELECT split_part(source, '_', 1), count(*), count(inn), "
            f"count(*) FILTER (WHERE inn_valid), count(ogrn), "
            f"count(*) FILTER (WHERE ogrn_valid), "
            f"count(*) FILTER (WHERE inn_valid OR ogrn_valid) "
            f"FROM {_rel(db, 'intermediate', 'int_organisation_mentions')} "
            f"GROUP BY 1 ORDER BY 1").fetchall():
        out[source] = {"rows": int(rows), "with_inn": int(inn), "valid_inn": int(valid_inn),
                       "with_ogrn": int(ogrn), "valid_ogrn": int(valid_ogrn),
                       "valid_inn_or_ogrn": int(valid),
                       "valid_share": _share(int(valid), int(rows))}
    return out


def _organisations(con: duckdb.DuckDBPyConnection, db: str) -> dict[str, dict]:
    """Per source, the organisations it mentions by how `dim_organisation` matched them."""
    if not _has(con, db, "main", "mart_organisation"):
        return {}
    counts: dict[str, Counter] = {}
    for source, method, n in con.execute(
            f"SELECT split_part(s, '_', 1), match_method, count(DISTINCT organisation_key) "
            f"FROM (SELECT unnest(sources) AS s, match_method, organisation_key "
            f"FROM {_rel(db, 'main', 'mart_organisation')}) GROUP BY ALL "
            f"ORDER BY ALL").fetchall():
        counts.setdefault(source, Counter())[method] += int(n)
    out = {}
    for source, by in counts.items():
        total = sum(by.values())
        by_identifier = by["inn"] + by["ogrn"]
        out[source] = {"total": total, "by_inn": by["inn"], "by_ogrn": by["ogrn"],
                       "by_name": total - by_identifier,
                       "by_identifier_share": _share(by_identifier, total)}
    return out


def _coverage(con: duckdb.DuckDBPyConnection, db: str) -> dict[str, list[dict]]:
    """Per source, each public fact table it feeds: rows and the non-null share of each key
    field."""
    out: dict[str, list[dict]] = {}
    for table, fields in FACT_TABLES:
        if not _has(con, db, "main", table):
            continue
        counts = ", ".join(f"count({expr})" for expr in fields.values())
        for source, rows, *filled in con.execute(
                f"SELECT source, count(*), {counts} FROM {_rel(db, 'main', table)} "
                f"GROUP BY source ORDER BY source").fetchall():
            out.setdefault(source, []).append({
                "table": table, "rows": int(rows),
                "fields": {name: _share(int(n), int(rows))
                           for name, n in zip(fields, filled, strict=True)}})
    return out


def _reconciliation(con: duckdb.DuckDBPyConnection, db: str) -> dict | None:
    """The operators' allocations against their lists, with the gap of each operator-year."""
    if not _has(con, db, "main", "mart_operator_reconciliation"):
        return None
    rows = con.execute(
        f"SELECT operator_key, operator, year, allocation, listed_amount, gap, share, "
        f"listed_grants, status FROM {_rel(db, 'main', 'mart_operator_reconciliation')} "
        f"ORDER BY year, operator_key").fetchall()
    years = [{"operator_key": key, "operator": operator, "year": int(year),
              "allocation": _number(allocation), "listed": _number(listed),
              "gap": _number(gap), "share": share, "listed_grants": int(grants),
              "status": status}
             for key, operator, year, allocation, listed, gap, share, grants, status in rows]
    both = [y for y in years if y["status"] == "ok"]
    return {
        "operator_years": len(years),
        "by_status": dict(sorted(Counter(y["status"] for y in years).items())),
        "allocation_total": _number(sum((r[3] for r in rows if r[8] == "ok"), Decimal(0))),
        "listed_total": _number(sum((r[4] or Decimal(0) for r in rows if r[8] == "ok"),
                                    Decimal(0))),
        "over_allocation": [{"operator": y["operator"], "year": y["year"], "gap": y["gap"]}
                            for y in both if y["gap"] is not None and y["gap"] < 0],
        "years": years,
    }


# --- the scorecard ----------------------------------------------------------------------

def _thresholds(q: QualityThresholds) -> dict[str, float | None]:
    return {name: getattr(q, name) for name in THRESHOLD_NAMES}


def _breach(name: str, limit: float | None, value: float | None, detail: str) -> dict:
    return {"threshold": name, "limit": limit, "value": value, "detail": detail}


def _pct(share: float) -> str:
    return f"{share * 100:.1f} %"


def judge(card: dict, q: QualityThresholds) -> list[dict]:
    """The thresholds a source's scorecard breaches (none when it has nothing to judge)."""
    if card["state"] == LIVE_ONLY or not card["parsed"]:
        return []
    found = []
    share = card["quarantine_share"]
    if q.max_quarantine_share is not None and share is not None \
            and share > q.max_quarantine_share:
        found.append(_breach("max_quarantine_share", q.max_quarantine_share, share,
                             f"{_pct(share)} of parsed rows quarantined, more than "
                             f"{_pct(q.max_quarantine_share)}"))
    valid = card["identifiers"]["valid_share"] if card["identifiers"] else None
    if q.min_valid_identifier_share is not None and valid is not None \
            and valid < q.min_valid_identifier_share:
        found.append(_breach("min_valid_identifier_share", q.min_valid_identifier_share, valid,
                             f"{_pct(valid)} of rows naming a recipient have a valid ИНН or "
                             f"ОГРН, fewer than {_pct(q.min_valid_identifier_share)}"))
    age = card["fetch"]["age_days"]
    if q.max_fetch_age_days is not None and age is not None and age > q.max_fetch_age_days:
        found.append(_breach("max_fetch_age_days", q.max_fetch_age_days, age,
                             f"last successful fetch {age:.1f} days before the build, more "
                             f"than {q.max_fetch_age_days:g}"))
    first = card["coverage"][0] if card["coverage"] else None
    if q.min_key_field_coverage is not None and first is not None:
        low = {f: first["fields"][f] for f in KEY_FIELDS
               if first["fields"].get(f) is not None
               and first["fields"][f] < q.min_key_field_coverage}
        if low:
            found.append(_breach("min_key_field_coverage", q.min_key_field_coverage,
                                 min(low.values()),
                                 f"{first['table']}: " + ", ".join(
                                     f"{f} filled in {_pct(v)}" for f, v in low.items())
                                 + f" of rows, fewer than {_pct(q.min_key_field_coverage)}"))
    off = [t for t in card["tables"] if t["reconciles"] is False]
    if off:
        found.append(_breach(RECONCILES, None, None, "; ".join(
            f"{t['table']}: parsed {t['parsed']} ≠ loaded {t['loaded']} + quarantined "
            f"{t['quarantined']}" for t in off)))
    return found


def _tables(con: duckdb.DuckDBPyConnection, db: str, source: Source, parsed: dict[str, int],
            states: dict) -> list[dict]:
    out = []
    for decl in source.entities:
        loaded = _count(con, db, "raw", decl.table)
        held = _count(con, db, "quarantine", decl.table)
        n = parsed.get(decl.table)
        reconciles = None if n is None or loaded is None else n == loaded + (held or 0)
        out.append({"table": decl.table, "parsed": n, "loaded": loaded or 0,
                    "quarantined": held or 0, "reconciles": reconciles,
                    "live_only": states.get("stages", {}).get(decl.table) == LIVE_ONLY})
    return out


def _source_card(source: Source, *, con: duckdb.DuckDBPyConnection, db: str,
                 measured_at: datetime, parsed: dict[str, int], states: dict[str, dict],
                 fetch_log: dict, identifiers: dict, organisations: dict,
                 coverage: dict) -> dict:
    state = states.get(source.key, {})
    succeeded = state.get("succeeded_at")
    tables = _tables(con, db, source, parsed, state)
    total_parsed = sum(t["parsed"] or 0 for t in tables)
    quarantined = sum(t["quarantined"] for t in tables)
    documents, errors = fetch_log.get(source.key, (0, 0))
    reasons = _reasons(con, db, [t["table"] for t in tables])
    card = {
        "source": source.key,
        "title": source.title_ru,
        "declared_status": source.status,
        "state": _STATES.get(state.get("status"), NOT_FETCHED),
        "fetch": {
            "last_success": succeeded.astimezone(UTC).isoformat() if succeeded else None,
            "age_days": round((measured_at - succeeded).total_seconds() / 86400, 2)
            if succeeded else None,
            "documents": documents,
            "failed_requests": errors,
            "error": state.get("error"),
        },
        "tables": tables,
        "parsed": total_parsed,
        "loaded": sum(t["loaded"] for t in tables),
        "quarantined": quarantined,
        "quarantine_share": _share(quarantined, total_parsed),
        "reconciles": all(t["reconciles"] is not False for t in tables),
        "top_quarantine_reasons": [{"reason": r, "rows": n}
                                   for r, n in sorted(reasons.items(),
                                                      key=lambda kv: (-kv[1], kv[0]))
                                   [:TOP_REASONS]],
        "identifiers": identifiers.get(source.key),
        "organisations": organisations.get(source.key),
        "coverage": coverage.get(source.key, []),
        "thresholds": _thresholds(source.quality),
    }
    card["breaches"] = judge(card, source.quality)
    return card


def quality_report(con: duckdb.DuckDBPyConnection, release_date: date,
                   database: str = "wh") -> dict:
    """The scorecard of the warehouse attached as `database`, for the release of
    `release_date`: every declared source, in display order."""
    measured_at = _measured_at(con, database)
    common = {"con": con, "db": database, "measured_at": measured_at,
              "parsed": _loads(con, database), "states": _fetch_states(con, database),
              "fetch_log": _fetch_log(con, database),
              "identifiers": _identifiers(con, database),
              "organisations": _organisations(con, database),
              "coverage": _coverage(con, database)}
    cards = [_source_card(s, **common) for s in registry.SOURCES]
    judged = [c for c in cards if c["state"] != LIVE_ONLY and c["parsed"]]
    return {
        "release": release_date.isoformat(),
        "measured_at": measured_at.isoformat(),
        "totals": {
            "sources": len(cards),
            "judged": len(judged),
            "live_only": sum(c["state"] == LIVE_ONLY for c in cards),
            "stale": sum(c["state"] == STALE for c in cards),
            "parsed": sum(c["parsed"] for c in cards),
            "loaded": sum(c["loaded"] for c in cards),
            "quarantined": sum(c["quarantined"] for c in cards),
            "reconciles": all(c["reconciles"] for c in cards),
            "breaches": sum(len(c["breaches"]) for c in cards),
        },
        "sources": cards,
        "operator_reconciliation": _reconciliation(con, database),
    }


def quality_json(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


def quality_schema_text() -> str:
    """The JSON Schema of `quality.json`, as shipped in the release."""
    return (files("pipelines") / "templates" / "release" / SCHEMA_FILE).read_text(
        encoding="utf-8")


def read_quality(folder: Path) -> dict | None:
    """The scorecard of the release in `folder`, if it has one."""
    path = Path(folder) / QUALITY_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def breached(report: dict) -> list[tuple[str, dict]]:
    """(source, breach) for every breach the scorecard names."""
    return [(card["source"], b) for card in report["sources"] for b in card["breaches"]]


def quality_view(report: dict | None, link: str | None = None,
                 schema_link: str | None = None) -> dict | None:
    """The scorecard as the page shows it: times as datetimes, per source the names of the
    thresholds it breaches (the page marks those rows), and the links to the file and its
    schema."""
    if report is None:
        return None
    cards = []
    for card in report["sources"]:
        last = card["fetch"]["last_success"]
        cards.append({**card,
                      "last_success": datetime.fromisoformat(last) if last else None,
                      "breached": {b["threshold"] for b in card["breaches"]}})
    return {**report, "sources": cards, "link": link, "schema_link": schema_link,
            "measured_at": datetime.fromisoformat(report["measured_at"])}
