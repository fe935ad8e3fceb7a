"""The persistent store: validated rows in `raw.*`, failing rows in `quarantine.*`.

DuckDB takes one writer per file. Every writer goes through `store_writer`,
which holds an exclusive file lock, so parallel Dagster steps queue instead of
failing on a lock error. Loads replace a table's rows in one transaction:
re-running a load never appends duplicates, and a load killed half-way
leaves the previous rows in place.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.duckdb_config import connect, quote_ident
from pipelines.paths import WarehousePaths
from schemas.base import (
    Entity,
    Validated,
    ValidatedFrame,
    arrow_type,
    column_of,
)
from schemas.records import cycles_not_collected

LINEAGE_COLUMNS: dict[str, str] = {
    "_source": "VARCHAR",
    "_source_url": "VARCHAR",
    "_raw_sha256": "VARCHAR",
    "_fetched_at": "TIMESTAMPTZ",
    "_parser_version": "VARCHAR",
    "_row": "INTEGER",
}
QUARANTINE_COLUMNS: dict[str, str] = {
    **LINEAGE_COLUMNS,
    "record": "JSON",
    "reasons": "VARCHAR[]",
}
@contextmanager
def store_writer(paths: WarehousePaths) -> Iterator[duckdb.DuckDBPyConnection]:
    """The only way to write the store: one writer at a time, across processes."""
    paths.ensure()
    with open(paths.store_lock, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        con = connect(paths.store_db)
        try:
            yield con
        finally:
            con.close()
            fcntl.flock(lock, fcntl.LOCK_UN)


def _arrow_table(rows: Sequence[dict], columns: dict[str, str],
                 constants: dict[str, Any] | None = None) -> pa.Table:
    """`rows` as a typed table; `constants` are columns with one value for every row."""
    arrays = []
    for name, duck in columns.items():
        if constants is not None and name in constants:
            values = [constants[name]] * len(rows)
        else:
            values = column_of(rows, name)
        arrays.append(pa.array(values, type=arrow_type(duck)))
    return pa.Table.from_arrays(arrays, names=list(columns))


def _ensure_table(con: duckdb.DuckDBPyConnection, schema: str, table: str,
                  columns: dict[str, str]) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
    existing = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    wanted = [(c, t) for c, t in columns.items()]
    if existing and [c for c, _ in existing] != [c for c, _ in wanted]:
        # The parser's shape changed: the stored rows are re-derived from raw bytes.
        con.execute(f"DROP TABLE {quote_ident(schema)}.{quote_ident(table)}")
        existing = []
    if not existing:
        cols = ", ".join(f"{quote_ident(c)} {t}" for c, t in wanted)
        con.execute(f"CREATE TABLE {quote_ident(schema)}.{quote_ident(table)} ({cols})")


def _insert(con: duckdb.DuckDBPyConnection, schema: str, table: str,
            rows: Sequence[dict], columns: dict[str, str]) -> None:
    _insert_arrow(con, schema, table, _arrow_table(rows, columns), columns)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | tuple):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


# `json.dumps` with these arguments builds an encoder per call; one serves every record.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=_json_default)


def to_json(value: Any) -> str:
    """`value` as JSON text, exactly as `json.dumps(value, ensure_ascii=False)` writes it."""
    return _ENCODER.encode(value)


@dataclass(frozen=True)
class LoadCounts:
    table: str
    parsed: int
    loaded: int
    quarantined: int

    @property
    def reconciles(self) -> bool:
        return self.parsed == self.loaded + self.quarantined


def entity_batches(entity: Entity, validated: Validated | ValidatedFrame,
                   lineage: dict[str, str]) -> tuple[pa.Table, pa.Table]:
    """The validated and the quarantined rows of one batch as typed Arrow tables.

    `lineage` = `_source`, `_parser_version`; each record (or the frame) already carries
    its own `_source_url`, `_raw_sha256`, `_fetched_at` and `_row`.
    """
    data_columns = {**entity.columns(), **LINEAGE_COLUMNS}
    with cycles_not_collected():
        quarantined = _arrow_table([
            {
                **q.meta,
                **lineage,
                "_row": q.row,
                "record": to_json(q.record),
                "reasons": q.reasons,
            }
            for q in validated.quarantined
        ], QUARANTINE_COLUMNS)
    if isinstance(validated, ValidatedFrame):
        valid = _frame_table(validated.valid, data_columns, lineage)
    else:
        valid = _arrow_table(validated.valid, data_columns, lineage)
    return valid, quarantined


def _frame_table(valid: pa.Table, columns: dict[str, str], constants: dict[str, Any]
                 ) -> pa.Table:
    """A validated frame's Arrow table with every column of the raw table, in its order:
    `constants` spread over the rows, a lineage column the frame lacks all null."""
    n = valid.num_rows
    arrays = []
    for name, duck in columns.items():
        if name in constants:
            arrays.append(pa.repeat(pa.scalar(constants[name], type=arrow_type(duck)), n))
        elif name in valid.column_names:
            arrays.append(valid.column(name).cast(arrow_type(duck)))
        else:
            arrays.append(pa.nulls(n, type=arrow_type(duck)))
    return pa.Table.from_arrays(arrays, names=list(columns))


def _select_list(columns: dict[str, str]) -> str:
    """The columns of a raw table by name, in its order, as a batch or a file holds them:
    fetch times (text) and quarantined records (JSON text) cast to the table's types."""
    return ", ".join(
        f"CAST({quote_ident(c)} AS {t})" if t.startswith("TIMESTAMP") or t == "JSON"
        else quote_ident(c)
        for c, t in columns.items()
    )


# DuckDB's row group: a batch smaller than one is kept by the transaction until its commit.
ROW_GROUP_ROWS = 122_880


def _insert_arrow(con: duckdb.DuckDBPyConnection, schema: str, table: str,
                  batch: pa.Table, columns: dict[str, str]) -> None:
    if batch.num_rows == 0:
        return
    casts = _select_list(columns)
    con.register("_socfund_batch", batch)
    with _one_thread(con, batch.num_rows < ROW_GROUP_ROWS):
        # A failed insert aborts the transaction, where unregistering would fail too and hide
        # the insert's own error; the caller's rollback drops the registration with the rest.
        con.execute(
            f"INSERT INTO {quote_ident(schema)}.{quote_ident(table)} "
            f"SELECT {casts} FROM _socfund_batch"
        )
    con.unregister("_socfund_batch")


@contextmanager
def _one_thread(con: duckdb.DuckDBPyConnection, wanted: bool) -> Iterator[None]:
    """The connection's threads set to one while a batch smaller than a row group goes in.

    Split between threads, such a batch is scanned in pieces that each thread keeps apart
    and the insert merges back into the one row group the commit writes: the ebudget
    agreements (113 726 rows) went in in 0.47 s on two threads against 0.14 s on one, the
    commit the same. A larger batch is written as full row groups while it goes in, which
    two threads do faster (the ФПГ bulk file's 180 557 rows: 0.38 s against 0.41 s).
    """
    if not wanted:
        yield
        return
    with _instance_setting(con, "threads", 1):
        yield


@contextmanager
def _instance_setting(con: duckdb.DuckDBPyConnection, name: str, value: Any
                      ) -> Iterator[None]:
    """DuckDB's setting `name` (one of the database instance's, not the transaction's) set
    to `value` inside the block, then put back as DuckDB shows it. Set through a cursor of
    its own, it is put back even after a failed statement has aborted `con`'s transaction
    (where nothing more runs until the caller's rollback)."""
    settings = con.cursor()
    try:
        before = settings.execute("SELECT current_setting(?)", [name]).fetchone()[0]
        settings.execute(f"SET {name} = ?", [value])
        try:
            yield
        finally:
            settings.execute(f"SET {name} = ?", [before])
    finally:
        settings.close()


def replace_entity(con: duckdb.DuckDBPyConnection, entity: Entity,
                   validated: Validated | ValidatedFrame, lineage: dict[str, str], *,
                   input_digest: str | None = None) -> LoadCounts:
    """Replace `raw.<table>` and `quarantine.<table>` with this batch, atomically.

    A validated frame's rows go to DuckDB as the Arrow table they are, never as Python rows.
    """
    valid, quarantined = entity_batches(entity, validated, lineage)
    return replace_entity_batches(con, entity, [valid], [quarantined],
                                  parsed=validated.parsed, input_digest=input_digest)


def replace_entity_batches(con: duckdb.DuckDBPyConnection, entity: Entity,
                           valid: Iterable[pa.Table], quarantined: Iterable[pa.Table], *,
                           parsed: int, input_digest: str | None = None) -> LoadCounts:
    """Replace both tables of an entity with these batches in one transaction.

    DuckDB keeps every Arrow batch inserted in a transaction alive until its commit, however
    the batches are produced: rows too many to hold twice go in from Parquet files with
    `replace_entity_files`.

    The digest of the inputs is recorded in `meta.loads` in the same transaction, so
    a later night with the same inputs knows the rows are already there; a load
    killed half-way leaves the previous rows and the previous digest.
    """
    data_columns = {**entity.columns(), **LINEAGE_COLUMNS}

    def insert() -> None:
        for batch in valid:
            _insert_arrow(con, "raw", entity.table, batch, data_columns)
        for batch in quarantined:
            _insert_arrow(con, "quarantine", entity.table, batch, QUARANTINE_COLUMNS)

    return _replace_entity(con, entity, insert, parsed=parsed, input_digest=input_digest)


def replace_entity_files(con: duckdb.DuckDBPyConnection, entity: Entity,
                         valid: Sequence[Path], quarantined: Sequence[Path], *, parsed: int,
                         input_digest: str | None = None,
                         memory_limit: str | None = None) -> LoadCounts:
    """Replace both tables of an entity with the rows of these Parquet files (written from
    `entity_batches`), in one transaction, as `replace_entity_batches` does.

    DuckDB reads the files itself: the rows never become Arrow tables in this process, which
    the transaction would keep alive until its commit (every ФПГ card's text at once).
    `memory_limit` lowers DuckDB's limit for the load (never raises it): past it the
    transaction's rows spill to disk instead of growing the process.
    """
    data_columns = {**entity.columns(), **LINEAGE_COLUMNS}

    def insert() -> None:
        _insert_parquet(con, "raw", entity.table, valid, data_columns)
        _insert_parquet(con, "quarantine", entity.table, quarantined, QUARANTINE_COLUMNS)

    with memory_at_most(con, memory_limit):
        return _replace_entity(con, entity, insert, parsed=parsed, input_digest=input_digest)


def _insert_parquet(con: duckdb.DuckDBPyConnection, schema: str, table: str,
                    files: Sequence[Path], columns: dict[str, str]) -> None:
    if not files:
        return
    con.execute(
        f"INSERT INTO {quote_ident(schema)}.{quote_ident(table)} "
        f"SELECT {_select_list(columns)} FROM read_parquet(?)",
        [[str(f) for f in files]],
    )


@contextmanager
def memory_at_most(con: duckdb.DuckDBPyConnection, limit: str | None) -> Iterator[None]:
    """DuckDB's memory limit lowered to `limit` inside the block, then put back (as DuckDB
    prints it: to 0.1 MiB).

    A limit already lower (`SOCFUND_DUCKDB_MEMORY_LIMIT`) is left as it is.
    """
    lower = limit is not None and con.execute(
        "SELECT parse_formatted_bytes(?) < parse_formatted_bytes(current_setting('memory_limit'))",
        [limit],
    ).fetchone()[0]
    if not lower:
        yield
        return
    with _instance_setting(con, "memory_limit", limit):
        yield


def _replace_entity(con: duckdb.DuckDBPyConnection, entity: Entity,
                    insert: Callable[[], None], *, parsed: int,
                    input_digest: str | None) -> LoadCounts:
    """Empty both tables of an entity, `insert` the new rows and record the load, in one
    transaction."""
    data_columns = {**entity.columns(), **LINEAGE_COLUMNS}
    table = quote_ident(entity.table)
    con.execute("BEGIN TRANSACTION")
    try:
        _ensure_table(con, "raw", entity.table, data_columns)
        _ensure_table(con, "quarantine", entity.table, QUARANTINE_COLUMNS)
        con.execute(f"DELETE FROM raw.{table}")
        con.execute(f"DELETE FROM quarantine.{table}")
        insert()
        loaded = con.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0]
        held = con.execute(f"SELECT count(*) FROM quarantine.{table}").fetchone()[0]
        counts = LoadCounts(entity.table, parsed, int(loaded), int(held))
        if input_digest is not None:
            _record_load(con, counts, input_digest)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return counts


# --- what was loaded from which inputs, and how each source fared ----------------------------

LOADS_COLUMNS = {
    "table_name": "VARCHAR", "input_digest": "VARCHAR", "parsed": "BIGINT", "loaded": "BIGINT",
    "quarantined": "BIGINT", "loaded_at": "TIMESTAMPTZ",
}
STATUS_COLUMNS = {
    "source": "VARCHAR", "stage": "VARCHAR", "status": "VARCHAR", "attempted_at": "TIMESTAMPTZ",
    "succeeded_at": "TIMESTAMPTZ", "error": "VARCHAR",
}


@dataclass(frozen=True)
class LastLoad:
    input_digest: str
    counts: LoadCounts
    loaded_at: datetime


def _record_load(con: duckdb.DuckDBPyConnection, counts: LoadCounts, digest: str) -> None:
    _ensure_table(con, "meta", "loads", LOADS_COLUMNS)
    con.execute("DELETE FROM meta.loads WHERE table_name = ?", [counts.table])
    con.execute(
        "INSERT INTO meta.loads VALUES (?, ?, ?, ?, ?, now())",
        [counts.table, digest, counts.parsed, counts.loaded, counts.quarantined],
    )


def last_load(con: duckdb.DuckDBPyConnection, table: str) -> LastLoad | None:
    """The digest and counts of the rows now in `raw.<table>`, if a load recorded them."""
    _ensure_table(con, "meta", "loads", LOADS_COLUMNS)
    row = con.execute(
        "SELECT input_digest, parsed, loaded, quarantined, loaded_at FROM meta.loads "
        "WHERE table_name = ?", [table],
    ).fetchone()
    if row is None:
        return None
    return LastLoad(row[0], LoadCounts(table, int(row[1]), int(row[2]), int(row[3])), row[4])


# A stage with nothing to read offline: the samples folder holds no copy of its documents,
# which only a live night fetches. Neither a success nor a failure (nothing is stale).
LIVE_ONLY = "live only"


def record_status(con: duckdb.DuckDBPyConnection, source: str, stage: str, *,
                  error: str | None = None, live_only: bool = False) -> None:
    """Note one stage of a source as succeeded (no error), failed, or live only, keeping the
    last success."""
    _ensure_table(con, "meta", "source_status", STATUS_COLUMNS)
    previous = con.execute(
        "SELECT succeeded_at FROM meta.source_status WHERE source = ? AND stage = ?",
        [source, stage],
    ).fetchone()
    con.execute("DELETE FROM meta.source_status WHERE source = ? AND stage = ?", [source, stage])
    if error is None and not live_only:
        con.execute("INSERT INTO meta.source_status VALUES (?, ?, 'ok', now(), now(), NULL)",
                    [source, stage])
    else:
        con.execute("INSERT INTO meta.source_status VALUES (?, ?, ?, now(), ?, ?)",
                    [source, stage, "failed" if error is not None else LIVE_ONLY,
                     previous[0] if previous else None, error])


def source_statuses(con: duckdb.DuckDBPyConnection) -> list[dict]:
    _ensure_table(con, "meta", "source_status", STATUS_COLUMNS)
    cur = con.execute("SELECT * FROM meta.source_status ORDER BY source, stage")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


FETCH_LOG_COLUMNS = {
    "source": "VARCHAR", "url": "VARCHAR", "fetched_at": "TIMESTAMPTZ", "status": "INTEGER",
    "sha256": "VARCHAR", "bytes": "BIGINT", "etag": "VARCHAR", "last_modified": "VARCHAR",
    "content_type": "VARCHAR", "not_modified": "BOOLEAN", "error": "VARCHAR",
}


def replace_fetch_log(con: duckdb.DuckDBPyConnection, rows: Sequence[dict],
                      counts: LoadCounts | None = None, digest: str | None = None) -> int:
    con.execute("BEGIN TRANSACTION")
    try:
        _ensure_table(con, "raw", "fetch_log", FETCH_LOG_COLUMNS)
        con.execute("DELETE FROM raw.fetch_log")
        _insert(con, "raw", "fetch_log", rows, FETCH_LOG_COLUMNS)
        if counts is not None and digest is not None:
            _record_load(con, counts, digest)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return len(rows)


def live_only_stages(db: Path) -> list[tuple[str, str]]:
    """(source, stage) of every stage now `live only` in `meta.source_status`, read-only;
    none when there is no store yet."""
    if not db.exists():
        return []
    con = connect(db, read_only=True)
    try:
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'meta' AND table_name = 'source_status'").fetchone()[0]
        if not exists:
            return []
        return [(r[0], r[1]) for r in con.execute(
            "SELECT source, stage FROM meta.source_status WHERE status = ? ORDER BY 1, 2",
            [LIVE_ONLY]).fetchall()]
    finally:
        con.close()


def table_counts(db: Path, schemas: Sequence[str]) -> list[tuple[str, str, int]]:
    """(schema, table, rows) for every table of the given schemas, read-only."""
    con = connect(db, read_only=True)
    try:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' AND list_contains(?, table_schema) "
            "ORDER BY 1, 2",
            [list(schemas)],
        ).fetchall()
        return [
            (s, t, con.execute(
                f"SELECT count(*) FROM {quote_ident(s)}.{quote_ident(t)}").fetchone()[0])
            for s, t in tables
        ]
    finally:
        con.close()
