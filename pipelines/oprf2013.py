"""Presidential grants 2013 through six operators (consolidated winners list)."""


from dagster import AssetCheckSpec, AssetExecutionContext, AssetKey, MaterializeResult, asset

from pipelines.fpg import FETCH_RETRY
from pipelines.loading import (
    RECONCILES,
    Document,
    documents,
    load_records,
    parse_documents,
    read_manifest,
    write_manifest,
)
from pipelines.resources import SourcesResource, WarehouseResource
from schemas import oprf2013 as schema
from scrapers import oprf2013

SOURCE = "oprf2013"
RAW_KEY = AssetKey(["raw", schema.GRANTS.table])


@asset(key=AssetKey(["fetch", SOURCE]), group_name=SOURCE, retry_policy=FETCH_RETRY,
       description="Fetch the consolidated 2013 winners list into the raw store.")
def oprf2013_fetch(
    context: AssetExecutionContext, warehouse: WarehouseResource, sources: SourcesResource
) -> MaterializeResult:
    store = warehouse.raw_store()
    with sources.client(store, {oprf2013.HOST}) as client:
        fetched = client.get(oprf2013.CSV_URL, source=SOURCE)
    write_manifest(store, SOURCE, [Document.of("csv", fetched)])
    context.log.info(f"{oprf2013.CSV_URL}: {fetched.size} bytes, sha256 {fetched.sha256[:12]}")
    return MaterializeResult(metadata={"bytes": fetched.size, "not_modified": fetched.not_modified})


@asset(key=RAW_KEY, deps=[AssetKey(["fetch", SOURCE])], group_name=SOURCE,
       check_specs=[AssetCheckSpec(RECONCILES, asset=RAW_KEY)],
       description="2013 presidential grants by operator, validated; ОГРН flagged, not dropped.")
def oprf2013_grants(context: AssetExecutionContext, warehouse: WarehouseResource):
    store = warehouse.raw_store()
    docs = documents(read_manifest(store, SOURCE), "csv")
    records, _ = parse_documents(store, SOURCE, docs, oprf2013.parse_csv)
    return load_records(context, warehouse, schema.GRANTS, records, oprf2013.PARSER_VERSION)


assets = [oprf2013_fetch, oprf2013_grants]
