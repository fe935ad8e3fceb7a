"""Validating a parsed batch: valid records to load, failing ones to quarantine.

Every source declares an `Entity`: its pandera model (one module per source in
`schemas/`), how a record is prepared (identifier flags), and the DuckDB type of
each column (`metadata={"duckdb": ...}` on a pandera Field, else derived from the
annotation). `validate` runs the model lazily so a record collects every reason
it fails, not only the first one.

The bulk tables come as columns (a polars DataFrame, one column per field, `_row` and the
parse-time `_errors` beside them): `validate_frame` checks them with the entity's polars
twin of its model (`Entity.frame_model`, the same check names, so a reason reads as the
row-wise one does) and hands the valid rows on as an Arrow table, never as Python rows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import pandas as pd
import pandera.pandas as pa
import pyarrow

if TYPE_CHECKING:
    import pandera.polars
    import polars as pl

from schemas.identifiers import _INN10, _INN12_A, _INN12_B, is_valid_inn, is_valid_ogrn
from schemas.money import MONEY
from schemas.records import Quarantined, cycles_not_collected

_DEFAULT_TYPES = {
    "str": "VARCHAR",
    "int64": "BIGINT",
    "float64": "DOUBLE",
    "bool": "BOOLEAN",
    "object": "VARCHAR",
}


def money_field(**kwargs: Any):
    """A pandera Field for an amount: non-negative, DECIMAL(18,2) in DuckDB."""
    kwargs.setdefault("nullable", True)
    return pa.Field(metadata={"duckdb": MONEY}, **kwargs)


def typed_field(duckdb_type: str, **kwargs: Any):
    """A pandera Field whose DuckDB column type is given explicitly."""
    kwargs.setdefault("nullable", True)
    return pa.Field(metadata={"duckdb": duckdb_type}, **kwargs)


def non_negative(value: Any) -> bool:
    return value >= 0


def each(series: pd.Series, check: Callable[[Any], bool], *, memo: bool = True) -> pd.Series:
    """`check(value)` for every non-empty cell of `series`; an empty cell passes.

    The vectorised form of an element-wise pandera check, for the large tables:
    pandera calls an element-wise check through a wrapper per cell, which costs more
    than most checks themselves. With `memo`, each distinct value is checked once
    (an amount or a status repeats down a 190 000-row file); pass `memo=False` for
    values that cannot be hashed (lists). An empty cell (None or NaN) is left to the
    column's `nullable`, as pandera does for element-wise checks.
    """
    seen: dict[Any, bool] = {}
    out = []
    for value in series:
        if value is None or value != value:
            out.append(True)
        elif memo:
            # Keyed with the type where Python would merge values (True == 1 == 1.0).
            key = value if value.__class__ is str else (value.__class__, value)
            passed = seen.get(key)
            if passed is None:
                passed = seen[key] = bool(check(value))
            out.append(passed)
        else:
            out.append(bool(check(value)))
    return pd.Series(out, index=series.index, dtype=bool)


@dataclass(frozen=True)
class Entity:
    """One validated table of one source: `raw.<source>__<name>`."""

    source: str
    name: str
    model: type[pa.DataFrameModel]
    prepare: Callable[[dict], dict] | None = None
    key: tuple[str, ...] = ()
    # The polars twin of `model` (same fields, same check names) for the bulk tables, and
    # the column-wise `prepare` it runs after.
    frame_model: type[pandera.polars.DataFrameModel] | None = None
    prepare_frame: Callable[[pl.DataFrame], pl.DataFrame] | None = None

    @property
    def table(self) -> str:
        return f"{self.source}__{self.name}"

    def columns(self) -> dict[str, str]:
        """Column name -> DuckDB type, in the model's order."""
        out: dict[str, str] = {}
        for name, column in self.model.to_schema().columns.items():
            meta = column.metadata or {}
            out[name] = meta.get("duckdb") or _DEFAULT_TYPES.get(str(column.dtype), "VARCHAR")
        return out


@dataclass
class Validated:
    valid: list[dict] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)

    @property
    def loaded(self) -> int:
        return len(self.valid)

    @property
    def parsed(self) -> int:
        return self.loaded + len(self.quarantined)


def _describe(value: Any) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "empty"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def public_record(record: dict) -> dict:
    """The record without bookkeeping keys (`_row`, `_errors`)."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


def validate(records: Iterable[dict], entity: Entity) -> Validated:
    """Validate a batch lazily; every failing record is kept with all its reasons."""
    prepare = entity.prepare
    prepared = [dict(record) for record in records]
    if prepare is not None:
        prepared = [prepare(rec) for rec in prepared]

    columns = list(entity.columns())
    # Reasons by record index, for the records that have any (most have none).
    reasons: dict[int, list[str]] = {
        i: list(rec["_errors"]) for i, rec in enumerate(prepared) if rec.get("_errors")
    }
    if prepared:
        frame = pd.DataFrame({c: column_of(prepared, c) for c in columns}, columns=columns,
                             dtype=object)
        try:
            entity.model.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            _collect_reasons(exc.failure_cases, reasons, len(prepared))

    result = Validated()
    for i, rec in enumerate(prepared):
        failed = reasons.get(i)
        if failed:
            result.quarantined.append(
                Quarantined(
                    row=rec.get("_row"),
                    record=public_record(rec),
                    reasons=failed,
                    meta={k: v for k, v in rec.items() if k.startswith("_") and k != "_errors"},
                )
            )
        else:
            result.valid.append(rec)
    return result


def column_of(records: Sequence[dict], name: str) -> list[Any]:
    """`name` of every record, None where a record lacks it."""
    try:
        return list(map(itemgetter(name), records))
    except KeyError:
        return [rec.get(name) for rec in records]


def _collect_reasons(cases: pd.DataFrame, reasons: dict[int, list[str]], n: int) -> None:
    for case in cases.itertuples(index=False):
        if case.schema_context == "DataFrameSchema":
            # A check across fields: the failure case holds the fields it compared.
            text = f"record: check {case.check} failed"
            if isinstance(case.failure_case, dict):
                text += " for " + ", ".join(f"{k}={v}" for k, v in case.failure_case.items())
        else:
            column = case.column if isinstance(case.column, str) else None
            text = f"field {column!r}: check {case.check} failed"
            if case.failure_case is not None:
                text += f" for {_describe(case.failure_case)}"
        index = case.index
        if index is None or (isinstance(index, float) and math.isnan(index)):
            targets: Iterable[int] = range(n)  # a column-level failure concerns every row
        else:
            targets = (int(index),)
        for i in targets:
            found = reasons.setdefault(i, [])
            if text not in found:
                found.append(text)


def inn_ogrn_flags(record: dict) -> dict:
    """Flag `inn` and `ogrn` by their check digits (None when absent)."""
    record["inn_valid"] = None if record.get("inn") is None else is_valid_inn(record["inn"])
    record["ogrn_valid"] = None if record.get("ogrn") is None else is_valid_ogrn(record["ogrn"])
    return record


# --- columns ----------------------------------------------------------------------------------

_ARROW_TYPES = {
    "VARCHAR": pyarrow.string(),
    "JSON": pyarrow.string(),
    "DATE": pyarrow.date32(),
    "BOOLEAN": pyarrow.bool_(),
    "INTEGER": pyarrow.int32(),
    "BIGINT": pyarrow.int64(),
    "DOUBLE": pyarrow.float64(),
    # Kept as text and cast by DuckDB on insert, as it reads an ISO time with its offset.
    "TIMESTAMPTZ": pyarrow.string(),
    "TIMESTAMP": pyarrow.string(),
}


def arrow_type(duckdb_type: str) -> pyarrow.DataType:
    """The Arrow type a column of this DuckDB type is handed to DuckDB as."""
    t = duckdb_type.upper().strip()
    if t.endswith("[]"):
        return pyarrow.list_(arrow_type(t[:-2]))
    decimal = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", t)
    if decimal:
        return pyarrow.decimal128(int(decimal.group(1)), int(decimal.group(2)))
    return _ARROW_TYPES[t]


def polars_type(duckdb_type: str) -> Any:
    """The polars dtype a frame holds a column of this DuckDB type in."""
    import polars as pl

    return pl.from_arrow(pyarrow.array([], type=arrow_type(duckdb_type))).dtype


@dataclass
class ValidatedFrame:
    """A validated batch of columns: the valid rows as Arrow, the few failing ones as records.

    `valid` holds the entity's columns in `Entity.columns()` order with the Arrow types of
    their DuckDB types, then the bookkeeping and lineage columns the frame had (`_row`,
    `_source_url`, …), never `_errors`.
    """

    valid: pyarrow.Table
    quarantined: list[Quarantined] = field(default_factory=list)

    @property
    def loaded(self) -> int:
        return self.valid.num_rows

    @property
    def parsed(self) -> int:
        return self.loaded + len(self.quarantined)


def validate_parsed(parsed: list[dict] | pl.DataFrame, entity: Entity
                    ) -> Validated | ValidatedFrame:
    """What a parser gave, validated: `validate` for records, `validate_frame` for columns."""
    if isinstance(parsed, list):
        return validate(parsed, entity)
    return validate_frame(parsed, entity)


_INDEX = "__socfund_index"


def validate_frame(frame: pl.DataFrame, entity: Entity) -> ValidatedFrame:
    """Validate a batch of columns lazily with the entity's polars model.

    Every failing row is quarantined with all its reasons, in the words and the order of
    `validate`: the parse-time `_errors` first, then the checks across fields, then each
    field's checks in the model's order.
    """
    import polars as pl

    if entity.frame_model is None:
        raise TypeError(f"{entity.table}: no polars model to validate columns with")
    if entity.prepare_frame is not None:
        frame = entity.prepare_frame(frame)
    columns = entity.columns()
    # The record a person reads in the quarantine holds the fields the parser gave, in its
    # order, as `public_record` of a row-wise record does.
    public = [c for c in frame.columns if not c.startswith("_")]
    kept = [c for c in frame.columns if c.startswith("_") and c != "_errors"]
    typed = frame.select(
        *(pl.col(c).cast(polars_type(t)) if c in frame.columns
          else pl.lit(None, polars_type(t)).alias(c) for c, t in columns.items()),
        *(pl.col(c) for c in kept),
        (pl.col("_errors") if "_errors" in frame.columns
         else pl.lit(None, pl.List(pl.String)).alias("_errors")),
    ).with_row_index(_INDEX)
    reasons = _frame_reasons(typed, entity, list(columns))
    failing = sorted(reasons)
    bad = typed.filter(pl.col(_INDEX).is_in(failing)) if failing else typed.clear()
    # Only the columns a quarantined record holds are read back as Python values.
    shown = [_INDEX, *dict.fromkeys([*public, *kept])]
    with cycles_not_collected():
        quarantined = [
            Quarantined(row=row.get("_row"), record={c: row[c] for c in public},
                        reasons=reasons[row[_INDEX]],
                        meta={c: row[c] for c in kept})
            for row in bad.select(shown).iter_rows(named=True)
        ]
    good = typed.filter(~pl.col(_INDEX).is_in(failing)) if failing else typed
    valid = good.select(*columns, *kept).to_arrow()
    schema = pyarrow.schema(
        [pyarrow.field(c, arrow_type(t)) for c, t in columns.items()]
        + [valid.schema.field(c) for c in kept]
    )
    return ValidatedFrame(valid.cast(schema), quarantined)


def _frame_reasons(typed: pl.DataFrame, entity: Entity, columns: list[str]
                   ) -> dict[int, list[str]]:
    """Reasons by row index for the rows that have any: parse-time errors, then pandera's."""
    import pandera.polars as pap
    import polars as pl

    reasons: dict[int, list[str]] = {
        i: list(errors)
        for i, errors in typed.filter(pl.col("_errors").list.len() > 0)
        .select(_INDEX, "_errors").iter_rows()
    }
    try:
        entity.frame_model.validate(typed.select(columns), lazy=True)
    except pap.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return reasons
    order = {c: i for i, c in enumerate(columns)}
    # pandas' pandera reports checks across fields before the fields' own checks, the fields
    # in the model's order; within a field, in the order the checks ran.
    cases = cases.with_row_index("__order").with_columns(
        pl.when(pl.col("schema_context") == "DataFrameSchema").then(-1)
        .otherwise(pl.col("column").replace_strict(order, default=len(order)))
        .alias("__field")
    ).sort("__field", "__order")
    # A model's `Config.metadata` names the fields each check across fields compares.
    metadata = getattr(entity.frame_model.Config, "metadata", None) or {}
    record_fields = metadata.get("record_fields", {})
    needed = sorted({i for i in cases["index"].to_list() if i is not None})
    # Only the fields a reason quotes are read back as Python values.
    quoted = {c for c in cases["column"].drop_nulls().unique().to_list() if c in typed.columns}
    quoted.update(f for fields in record_fields.values() for f in fields)
    rows = {row[_INDEX]: row for row in typed.filter(pl.col(_INDEX).is_in(needed))
            .select(_INDEX, *(c for c in typed.columns if c in quoted))
            .iter_rows(named=True)} if needed else {}
    everyone = typed[_INDEX].to_list() if cases["index"].null_count() else []
    for context, column, check, index in cases.select(
            "schema_context", "column", "check", "index").iter_rows():
        if context == "DataFrameSchema":
            text = f"record: check {check} failed"
            fields = record_fields.get(check, ())
            if index is not None and fields:
                text += " for " + ", ".join(f"{f}={rows[index][f]}" for f in fields)
        else:
            text = f"field {column!r}: check {check} failed"
            if index is not None and rows[index][column] is not None:
                text += f" for {_describe(rows[index][column])}"
        for i in (everyone if index is None else (index,)):
            found = reasons.setdefault(i, [])
            if text not in found:
                found.append(text)
    return reasons


def inn_ogrn_flags_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """`inn_ogrn_flags` for a frame: `inn_valid`, `ogrn_valid` by check digits, column-wise."""
    import polars as pl

    inn = pl.col("inn") if "inn" in frame.columns else pl.lit(None, pl.String)
    ogrn = pl.col("ogrn") if "ogrn" in frame.columns else pl.lit(None, pl.String)
    return frame.with_columns(inn_valid=_valid_inn(inn), ogrn_valid=_valid_ogrn(ogrn))


def _digit(text: pl.Expr, i: int) -> pl.Expr:
    import polars as pl

    return text.str.slice(i, 1).cast(pl.Int64, strict=False)


def _weighted(text: pl.Expr, weights: tuple[int, ...]) -> pl.Expr:
    total = _digit(text, 0) * weights[0]
    for i, w in enumerate(weights[1:], start=1):
        total = total + _digit(text, i) * w
    return total % 11 % 10


def _valid_inn(inn: pl.Expr) -> pl.Expr:
    """`is_valid_inn`, None where the ИНН is None."""
    import polars as pl

    digits = inn.str.contains(r"^[0-9]+$")
    size = inn.str.len_bytes()
    ten = (size == 10) & (_weighted(inn, _INN10) == _digit(inn, 9))
    twelve = ((size == 12) & (_weighted(inn, _INN12_A) == _digit(inn, 10))
              & (_weighted(inn, _INN12_B) == _digit(inn, 11)))
    return (pl.when(inn.is_null()).then(None)
            .otherwise((digits & (ten | twelve)).fill_null(False)))


def _valid_ogrn(ogrn: pl.Expr) -> pl.Expr:
    """`is_valid_ogrn`, None where the ОГРН is None."""
    import polars as pl

    digits = ogrn.str.contains(r"^[0-9]+$")
    size = ogrn.str.len_bytes()
    head = ogrn.str.slice(0, 14).cast(pl.Int64, strict=False)
    thirteen = (size == 13) & (ogrn.str.slice(0, 12).cast(pl.Int64, strict=False) % 11 % 10
                               == _digit(ogrn, 12))
    fifteen = (size == 15) & (head % 13 % 10 == _digit(ogrn, 14))
    return (pl.when(ogrn.is_null()).then(None)
            .otherwise((digits & (thirteen | fifteen)).fill_null(False)))
