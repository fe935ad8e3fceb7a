"""The steps every source shares: keep a fetch manifest, parse kept bytes, validate, load.

A fetch asset writes `raw/<source>/manifest.json`: the documents of the latest
fetch, each with the SHA-256 of the bytes kept in the raw store. Load assets
read only that manifest and the raw store, so the whole warehouse can be
re-derived from kept bytes after a parser fix without fetching anything.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

from dagster import AssetCheckResult, AssetExecutionContext, MaterializeResult, MetadataValue

from pipelines.progress import Progress
from pipelines.resources import WarehouseResource
from pipelines.store import LoadCounts, replace_entity, store_writer
from schemas.base import Entity, Quarantined, Validated, validate
from scrapers.http import Fetched
from scrapers.rawstore import RawStore

Parser = Callable[..., list[dict]]
RECONCILES = "parsed_equals_loaded_plus_quarantined"


@dataclass(frozen=True)
class Document:
    kind: str
    url: str
    sha256: str
    fetched_at: str
    not_modified: bool = False

    @classmethod
    def of(cls, kind: str, fetched: Fetched) -> Document:
        return cls(kind, fetched.url, fetched.sha256, fetched.fetched_at, fetched.not_modified)


def write_manifest(store: RawStore, source: str, documents: Iterable[Document],
                   failures: Iterable[dict] = ()) -> dict:
    manifest = {
        "source": source,
        "documents": [asdict(d) for d in documents],
        "failures": list(failures),
    }
    target = store.root / source / "manifest.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, target)
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


def parse_documents(
    store: RawStore,
    source: str,
    docs: list[Document],
    parse: Parser,
    *,
    progress: Progress | None = None,
    per_document_errors: bool = False,
) -> tuple[list[dict], list[Quarantined]]:
    """Parse kept bytes; every record carries the lineage of the document it came from.

    With `per_document_errors`, a document the parser rejects outright becomes one
    quarantined entry naming the URL (a single broken card must not stop a night);
    otherwise the error propagates and stops the load.
    """
    records: list[dict] = []
    rejected: list[Quarantined] = []
    for doc in docs:
        lineage = {"_source_url": doc.url, "_raw_sha256": doc.sha256, "_fetched_at": doc.fetched_at}
        body = store.get(source, doc.sha256)
        try:
            parsed = parse(body, url=doc.url)
        except ValueError as exc:
            if not per_document_errors:
                raise ValueError(f"{source}: {doc.url}: {exc}") from exc
            rejected.append(Quarantined(row=None, record={"url": doc.url},
                                        reasons=[f"{doc.url}: {exc}"], meta=lineage))
            parsed = []
        for rec in parsed:
            rec.update(lineage)
            records.append(rec)
        if progress is not None:
            progress.advance()
    if progress is not None:
        progress.done()
    return records, rejected


def load_records(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    entity: Entity,
    records: list[dict],
    parser_version: str,
    *,
    rejected: list[Quarantined] | None = None,
    extra_metadata: dict | None = None,
) -> MaterializeResult:
    """Validate a batch, replace its tables, and report counts with the reconciliation check."""
    validated: Validated = validate(records, entity)
    validated.quarantined.extend(rejected or [])
    lineage = {"_source": entity.source, "_parser_version": parser_version}
    with store_writer(warehouse.paths()) as con:
        counts: LoadCounts = replace_entity(con, entity, validated, lineage)
    context.log.info(
        f"{entity.table}: parsed {counts.parsed}, loaded {counts.loaded}, "
        f"quarantined {counts.quarantined}"
    )
    for q in validated.quarantined[:20]:
        context.log.warning(f"{entity.table}: row {q.row} quarantined: {'; '.join(q.reasons)}")
    metadata = {
        "parsed": counts.parsed,
        "loaded": counts.loaded,
        "quarantined": counts.quarantined,
        "dagster/row_count": counts.loaded,
        "table": MetadataValue.text(f"raw.{entity.table}"),
        **(extra_metadata or {}),
    }
    return MaterializeResult(
        metadata=metadata,
        check_results=[
            AssetCheckResult(
                check_name=RECONCILES,
                passed=counts.reconciles,
                metadata={"parsed": counts.parsed, "loaded": counts.loaded,
                          "quarantined": counts.quarantined},
                description=f"{counts.parsed} parsed = {counts.loaded} loaded + "
                            f"{counts.quarantined} quarantined",
            )
        ],
    )
