"""Asset builders shared by every source: fetch documents, or load one entity.

A source's declaration (`pipelines.registry`) says what it fetches and which parser
loads which entity; `source_assets` turns it into Dagster assets. The fetching,
manifest, failure handling, parsing, validation, quarantine, skipping of unchanged
inputs and the reconciliation check are the same code for all of them. A source whose
fetch is its own code (paged APIs, list pages that name the documents) gives that code
as a `FetchBody`.

A source that fails on a night (site down after every retry, a layout change that
leaves nothing to parse) does not stop the others: its last good documents and rows
stay, `meta.source_status` marks it stale, the fetch asset's `fetched` check fails
and the blocking check `stale_sources` of `warehouse/sources_health` fails the run
naming it.

Offline, a document the samples folder holds no copy of is not requested: a fetch left
with nothing to request is `live only` (`meta.source_status`), keeps an empty manifest
that names the documents only a live night fetches, and its loads write empty tables, so
the models downstream still run. It is no failure: nothing is stale.
"""


from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Backoff,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
)

from pipelines.faults import checkpoint
from pipelines.illustrative import fetched_from
from pipelines.inputs import input_digest, load_inputs
from pipelines.loading import (
    RECONCILES,
    Document,
    SourceFailure,
    documents,
    load_entity,
    read_manifest,
    validated_writer,
    write_manifest,
)
from pipelines.parsing import parse_documents, parse_workers
from pipelines.progress import Progress
from pipelines.registry import EntityDecl, Source
from pipelines.resources import SourcesResource, WarehouseResource
from pipelines.store import LIVE_ONLY, record_status, source_statuses, store_writer
from scrapers.http import FetchError
from scrapers.rawstore import RawStore

FETCH_RETRY = RetryPolicy(max_retries=2, delay=60, backoff=Backoff.EXPONENTIAL)
FETCHED = "fetched"
# Every asset that writes store.duckdb takes this pool (limit 1 in the instance's
# dagster.yaml), and `store_writer` holds a file lock besides: one writer at a time.
STORE_POOL = "socfund_store"
# What a failed source raises: HTTP failures after the client's retries, a page whose
# structure no longer holds what the fetch needs (ValueError from a parser), I/O.
SOURCE_ERRORS = (FetchError, SourceFailure, ValueError, OSError)


def fetch_key(source: str) -> AssetKey:
    return AssetKey(["fetch", source])


@dataclass
class FetchOutcome:
    docs: list[Document]
    failures: list[dict] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    # (kind, url) of the documents not requested: the samples folder holds no copy of them.
    live_only: list[tuple[str, str]] = field(default_factory=list)

    @property
    def only_live(self) -> bool:
        """Nothing was there to fetch offline: the source is live only on this build."""
        return not self.docs and bool(self.live_only)


def live_only_kinds(manifest: dict) -> set[str]:
    """The document kinds the last fetch left to a live night (no offline copy)."""
    return {d["kind"] for d in manifest.get("live_only", ())}


FetchBody = Callable[[AssetExecutionContext, RawStore, SourcesResource], FetchOutcome]


def _last_success(warehouse: WarehouseResource, source: str) -> datetime | None:
    with store_writer(warehouse.paths()) as con:
        for status in source_statuses(con):
            if status["source"] == source and status["stage"] == "fetch":
                return status["succeeded_at"]
    return None


def _manifest_time(store: RawStore, source: str) -> float:
    return (store.root / source / "manifest.json").stat().st_mtime


def source_fetch_asset(source: str, description: str, body: FetchBody) -> AssetsDefinition:
    """`fetch/<source>`: run `body`, write the manifest; on failure keep the last one."""
    key = fetch_key(source)

    @asset(key=key, group_name=source, retry_policy=FETCH_RETRY, description=description,
           check_specs=[AssetCheckSpec(FETCHED, asset=key,
                                       description="This night's fetch succeeded.")])
    def _fetch(context: AssetExecutionContext, warehouse: WarehouseResource,
               sources: SourcesResource) -> MaterializeResult:
        store = warehouse.raw_store()
        if sources.from_raw:
            manifest = read_manifest(store, source)
            return MaterializeResult(
                metadata={"mode": "raw store", "documents": len(manifest["documents"]),
                          "fetched": 0,
                          "dagster/last_updated_timestamp":
                              MetadataValue.timestamp(_manifest_time(store, source))},
                check_results=[AssetCheckResult(
                    check_name=FETCHED, passed=True,
                    description="built from the raw store; nothing fetched")],
            )
        try:
            outcome = body(context, store, sources)
            checkpoint("fetch")
        except SOURCE_ERRORS as exc:
            if sources.live and context.retry_number < FETCH_RETRY.max_retries:
                raise  # Dagster retries the step with backoff
            return _failed_fetch(context, warehouse, store, source, exc)
        # Where the documents came from, so a rebuild from the raw store knows it too.
        write_manifest(store, source, outcome.docs, outcome.failures,
                       live_only=[{"kind": kind, "url": url} for kind, url in outcome.live_only],
                       fetched_from=fetched_from(sources.live, sources.samples_root))
        with store_writer(warehouse.paths()) as con:
            record_status(con, source, "fetch", live_only=outcome.only_live)
        if outcome.live_only:
            context.log.info(f"{source}: {len(outcome.live_only)} documents have no offline copy "
                             f"and are fetched on a live night only")
        return MaterializeResult(
            metadata={
                "documents": len(outcome.docs),
                "bytes": sum(store.path_for(source, d.sha256).stat().st_size
                             for d in outcome.docs),
                "not_modified": sum(d.not_modified for d in outcome.docs),
                "failures": len(outcome.failures),
                "live_only": len(outcome.live_only),
                "status": LIVE_ONLY if outcome.only_live else "ok",
                **outcome.metadata,
            },
            check_results=[AssetCheckResult(
                check_name=FETCHED, passed=True,
                description="no offline copy: fetched on a live night only"
                if outcome.only_live else None)],
        )

    return _fetch


def _failed_fetch(context: AssetExecutionContext, warehouse: WarehouseResource,
                  store: RawStore, source: str, exc: Exception) -> MaterializeResult:
    error = f"{type(exc).__name__}: {exc}"
    with store_writer(warehouse.paths()) as con:
        record_status(con, source, "fetch", error=error)
    if not (store.root / source / "manifest.json").exists():
        raise SourceFailure(f"{source}: fetch failed and no earlier fetch to keep: {error}") \
            from exc
    last = _last_success(warehouse, source)
    updated = last.timestamp() if last else _manifest_time(store, source)
    context.log.error(f"{source}: fetch failed ({error}); the documents fetched "
                      f"{datetime.fromtimestamp(updated, UTC):%Y-%m-%d %H:%M} UTC are kept "
                      f"and the source is marked stale")
    return MaterializeResult(
        metadata={"status": "failed", "stale": True, "error": MetadataValue.text(error),
                  "dagster/last_updated_timestamp": MetadataValue.timestamp(updated)},
        check_results=[AssetCheckResult(
            check_name=FETCHED, passed=False, severity=AssetCheckSeverity.ERROR,
            description=f"fetch failed: {error}; last good data kept",
        )],
    )


def fetch_documents_asset(
    source: str, hosts: frozenset[str], urls: Sequence[tuple[str, str]], description: str
) -> AssetsDefinition:
    """`fetch/<source>`: fetch each (kind, url) into the raw store and write the manifest."""

    def body(context: AssetExecutionContext, store: RawStore,
             sources: SourcesResource) -> FetchOutcome:
        wanted = [(kind, url) for kind, url in urls if sources.has_copy(url)]
        live_only = [(kind, url) for kind, url in urls if (kind, url) not in wanted]
        docs: list[Document] = []
        if wanted:
            progress = Progress(f"{source} documents", len(wanted), context.log)
            with sources.client(store, hosts) as client:
                for kind, url in wanted:
                    docs.append(Document.of(kind, client.get(url, source=source)))
                    progress.advance()
            progress.done()
        return FetchOutcome(docs, live_only=live_only)

    return source_fetch_asset(source, description, body)


def load_entity_asset(decl: EntityDecl, parser_version: str) -> AssetsDefinition:
    """`raw/<source>__<entity>`: parse the kept documents of one kind, validate, load.

    Skipped (nothing re-parsed) when the documents, the parser and the schema, the modules
    they import and the data files those read are the same as for the rows already loaded
    (`pipelines.inputs`).
    """
    entity, kind, parse = decl.entity, decl.document_kind, decl.parse
    per_document_errors, description = decl.per_document_errors, decl.description
    key = AssetKey(["raw", entity.table])

    @asset(key=key, deps=[fetch_key(entity.source)], group_name=entity.source, pool=STORE_POOL,
           check_specs=[AssetCheckSpec(RECONCILES, asset=key)], description=description)
    def _load(context: AssetExecutionContext, warehouse: WarehouseResource):
        store = warehouse.raw_store()
        manifest = read_manifest(store, entity.source)
        docs = documents(manifest, kind)

        def produce():
            progress = Progress(f"{entity.table} parse", len(docs), context.log)
            records, rejected = parse_documents(store, entity.source, docs, parse,
                                                progress=progress,
                                                per_document_errors=per_document_errors,
                                                workers=parse_workers() if decl.parallel else 1,
                                                kept=decl.kept)
            if docs and len(records) == 0 and len(rejected) == len(docs):
                raise SourceFailure(
                    f"{entity.table}: every one of {len(docs)} documents failed to parse "
                    f"(first: {rejected[0].reasons[0]})")
            return validated_writer(context, entity, records, parser_version, rejected)

        result = load_entity(context, warehouse, entity,
                             input_digest(load_inputs(decl, parser_version), docs), produce,
                             extra_metadata={"documents": len(docs)})
        if not docs and kind in live_only_kinds(manifest):
            # An empty table, for the models; its documents come on a live night.
            with store_writer(warehouse.paths()) as con:
                record_status(con, entity.source, entity.table, live_only=True)
        return result

    return _load


def source_assets(source: Source, fetch: FetchBody | None = None) -> list[AssetsDefinition]:
    """A declared source's `fetch/<source>` asset and its standard `raw/…` load assets.

    `fetch` is the source's own fetch code; without it the declared documents are fetched
    as they are.
    """
    if fetch is None:
        if not source.documents:
            raise ValueError(f"{source.key}: declares no documents and has no fetch of its own")
        fetch_asset = fetch_documents_asset(source.key, source.hosts, source.documents,
                                            source.fetch_description)
    else:
        fetch_asset = source_fetch_asset(source.key, source.fetch_description, fetch)
    return [fetch_asset, *(load_entity_asset(decl, source.parser_version)
                           for decl in source.entities if decl.standard_asset)]
