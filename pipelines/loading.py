"""The steps every source shares: keep a fetch manifest, parse kept bytes, validate, load.

A fetch asset writes `raw/<source>/manifest.json`: the documents of the latest
fetch, each with the SHA-256 of the bytes kept in the raw store. Load assets
read only that manifest and the raw store, so the whole warehouse can be
re-derived from kept bytes after a parser fix without fetching anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from dagster import AssetCheckResult, AssetExecutionContext, MaterializeResult, MetadataValue

from pipelines.faults import checkpoint
from pipelines.parsing import Document
from pipelines.resources import WarehouseResource
from pipelines.store import (
    LastLoad,
    LoadCounts,
    last_load,
    record_status,
    replace_entity,
    store_writer,
)
from schemas.base import Entity, validate_parsed
from schemas.records import Quarantined
from scrapers.files import write_text_atomic
from scrapers.rawstore import RawStore

if TYPE_CHECKING:
    import polars as pl

RECONCILES = "parsed_equals_loaded_plus_quarantined"


def write_json(target: Path, value: dict) -> None:
    """Write a JSON file in one rename: a killed run leaves the old file or the new one."""
    write_text_atomic(target, json.dumps(value, ensure_ascii=False, indent=1))


def write_manifest(store: RawStore, source: str, documents: Iterable[Document],
                   failures: Iterable[dict] = (), *, target: Path | None = None,
                   **extra: object) -> dict:
    """`raw/<source>/manifest.json` (or `target`): the documents of the latest fetch."""
    manifest = {
        "source": source,
        **extra,
        "documents": [asdict(d) for d in documents],
        "failures": list(failures),
    }
    write_json(target or store.root / source / "manifest.json", manifest)
    return manifest


def read_manifest(store: RawStore, source: str) -> dict:
    target = store.root / source / "manifest.json"
    if not target.exists():
        raise FileNotFoundError(
            f"{source}: no fetch manifest at {target}; materialise the fetch asset first"
        )
    return json.loads(target.read_text(encoding="utf-8"))


def documents(manifest: dict, kind: str) -> list[Document]:
    return [Document(**d) for d in manifest["documents"] if d["kind"] == kind]


class SourceFailure(Exception):
    """A source gave nothing usable this night (site down, layout changed)."""


def reconcile_result(counts: LoadCounts) -> AssetCheckResult:
    return AssetCheckResult(
        check_name=RECONCILES,
        passed=counts.reconciles,
        metadata={"parsed": counts.parsed, "loaded": counts.loaded,
                  "quarantined": counts.quarantined},
        description=f"{counts.parsed} parsed = {counts.loaded} loaded + "
                    f"{counts.quarantined} quarantined",
    )


def count_metadata(counts: LoadCounts, table: str) -> dict:
    return {
        "parsed": counts.parsed,
        "loaded": counts.loaded,
        "quarantined": counts.quarantined,
        "dagster/row_count": counts.loaded,
        "table": MetadataValue.text(f"raw.{table}"),
    }


def kept_result(context: AssetExecutionContext, entity: Entity, previous: LastLoad, *,
                error: str | None = None, extra_metadata: dict | None = None
                ) -> MaterializeResult:
    """The rows already in the store stay: inputs unchanged, or this night's parse failed."""
    when = f"{previous.loaded_at:%Y-%m-%d %H:%M}"
    if error is None:
        context.log.info(f"{entity.table}: inputs unchanged since {when}; nothing re-parsed, "
                         f"{previous.counts.loaded} rows kept")
    else:
        context.log.error(f"{entity.table}: {error}; the rows loaded {when} are kept and "
                          f"marked stale")
    metadata = {
        **count_metadata(previous.counts, entity.table),
        "reparsed": 0,
        "unchanged": error is None,
        "status": "ok" if error is None else "failed",
        "dagster/last_updated_timestamp": MetadataValue.timestamp(previous.loaded_at),
        **(extra_metadata or {}),
    }
    if error is not None:
        metadata["error"] = MetadataValue.text(error)
    return MaterializeResult(metadata=metadata, check_results=[reconcile_result(previous.counts)])


def load_entity(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    entity: Entity,
    digest: str,
    produce: Callable[[], tuple[LoadCounts, Callable]],
    *,
    extra_metadata: dict | None = None,
) -> MaterializeResult:
    """Load one entity unless its inputs are unchanged; keep the last good rows on failure.

    `digest` is the load's `pipelines.inputs.input_digest`; equal to the one recorded in
    `meta.loads` with the rows, nothing is parsed.

    `produce` parses and validates (no store lock held meanwhile) and returns the counts
    and a function that writes the rows given a store connection and the digest.
    """
    paths = warehouse.paths()
    with store_writer(paths) as con:
        previous = last_load(con, entity.table)
        unchanged = previous is not None and previous.input_digest == digest
        if unchanged:
            # The rows are those of today's inputs: a source stale yesterday is well again.
            record_status(con, entity.source, entity.table)
    if unchanged:
        return kept_result(context, entity, previous, extra_metadata=extra_metadata)
    try:
        _, write = produce()
    except (SourceFailure, ValueError) as exc:
        with store_writer(paths) as con:
            record_status(con, entity.source, entity.table, error=str(exc))
        if previous is None:
            raise
        return kept_result(context, entity, previous, error=str(exc),
                           extra_metadata=extra_metadata)
    checkpoint("load")
    with store_writer(paths) as con:
        counts: LoadCounts = write(con, digest)
        record_status(con, entity.source, entity.table)
    context.log.info(
        f"{entity.table}: parsed {counts.parsed}, loaded {counts.loaded}, "
        f"quarantined {counts.quarantined}"
    )
    return MaterializeResult(
        metadata={**count_metadata(counts, entity.table), "reparsed": counts.parsed,
                  "unchanged": False, "status": "ok", **(extra_metadata or {})},
        check_results=[reconcile_result(counts)],
    )


def validated_writer(context: AssetExecutionContext, entity: Entity,
                     records: list[dict] | pl.DataFrame, parser_version: str,
                     rejected: list[Quarantined] | None = None) -> tuple[LoadCounts, Callable]:
    """Validate a batch (records or columns); return its counts and the function that
    replaces its tables."""
    validated = validate_parsed(records, entity)
    validated.quarantined.extend(rejected or [])
    for q in validated.quarantined[:20]:
        context.log.warning(f"{entity.table}: row {q.row} quarantined: {'; '.join(q.reasons)}")
    lineage = {"_source": entity.source, "_parser_version": parser_version}

    def write(con, digest: str) -> LoadCounts:
        return replace_entity(con, entity, validated, lineage, input_digest=digest)

    counts = LoadCounts(entity.table, validated.parsed, validated.loaded,
                        len(validated.quarantined))
    return counts, write
