"""Asset builders shared by every source: fetch a fixed list of documents, or load one entity.

A source module declares what it fetches and which parser loads which entity; the
fetching, manifest, parsing, validation, quarantine and reconciliation check are the
same code for all of them.
"""

from collections.abc import Callable, Sequence

from dagster import (
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Backoff,
    MaterializeResult,
    RetryPolicy,
    asset,
)

from pipelines.loading import (
    RECONCILES,
    Document,
    documents,
    load_records,
    parse_documents,
    read_manifest,
    write_manifest,
)
from pipelines.progress import Progress
from pipelines.resources import SourcesResource, WarehouseResource
from schemas.base import Entity

FETCH_RETRY = RetryPolicy(max_retries=2, delay=60, backoff=Backoff.EXPONENTIAL)


def fetch_key(source: str) -> AssetKey:
    return AssetKey(["fetch", source])


def fetch_documents_asset(
    source: str, hosts: set[str], urls: Sequence[tuple[str, str]], description: str
) -> AssetsDefinition:
    """`fetch/<source>`: fetch each (kind, url) into the raw store and write the manifest."""

    @asset(key=fetch_key(source), group_name=source, retry_policy=FETCH_RETRY,
           description=description)
    def _fetch(context: AssetExecutionContext, warehouse: WarehouseResource,
               sources: SourcesResource) -> MaterializeResult:
        store = warehouse.raw_store()
        docs: list[Document] = []
        progress = Progress(f"{source} documents", len(urls), context.log)
        with sources.client(store, hosts) as client:
            for kind, url in urls:
                docs.append(Document.of(kind, client.get(url, source=source)))
                progress.advance()
        progress.done()
        write_manifest(store, source, docs)
        return MaterializeResult(metadata={
            "documents": len(docs),
            "bytes": sum(store.path_for(source, d.sha256).stat().st_size for d in docs),
            "not_modified": sum(d.not_modified for d in docs),
        })

    return _fetch


def load_entity_asset(
    entity: Entity,
    kind: str,
    parse: Callable[..., list[dict]],
    parser_version: str,
    description: str,
    *,
    per_document_errors: bool = False,
) -> AssetsDefinition:
    """`raw/<source>__<entity>`: parse the kept documents of one kind, validate, load."""
    key = AssetKey(["raw", entity.table])

    @asset(key=key, deps=[fetch_key(entity.source)], group_name=entity.source,
           check_specs=[AssetCheckSpec(RECONCILES, asset=key)], description=description)
    def _load(context: AssetExecutionContext, warehouse: WarehouseResource):
        store = warehouse.raw_store()
        docs = documents(read_manifest(store, entity.source), kind)
        progress = Progress(f"{entity.table} parse", len(docs), context.log)
        records, rejected = parse_documents(store, entity.source, docs, parse, progress=progress,
                                            per_document_errors=per_document_errors)
        return load_records(context, warehouse, entity, records, parser_version,
                            rejected=rejected, extra_metadata={"documents": len(docs)})

    return _load
