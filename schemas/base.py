"""Validating a parsed batch: valid records to load, failing ones to quarantine.

Every source declares an `Entity`: its pandera model (one module per source in
`schemas/`), how a record is prepared (identifier flags), and the DuckDB type of
each column (`metadata={"duckdb": ...}` on a pandera Field, else derived from the
annotation). `validate` runs the model lazily so a record collects every reason
it fails, not only the first one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import pandas as pd
import pandera.pandas as pa

from schemas.identifiers import is_valid_inn, is_valid_ogrn
from schemas.money import MONEY

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
class Quarantined:
    row: int | None
    record: dict
    reasons: list[str]
    meta: dict = field(default_factory=dict)


@dataclass
class Validated:
    valid: list[dict] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)

    @property
    def parsed(self) -> int:
        return len(self.valid) + len(self.quarantined)


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
