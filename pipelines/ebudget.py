"""Электронный бюджет: the registry of subsidy agreements, paged JSON, non-profit recipients."""

from dagster import AssetExecutionContext, MaterializeResult, asset

from pipelines.factory import FETCH_RETRY, fetch_key, load_entity_asset
from pipelines.loading import Document, write_manifest
from pipelines.progress import Progress
from pipelines.resources import SourcesResource, WarehouseResource
from schemas import ebudget as schema
from scrapers import ebudget

SOURCE = "ebudget"


@asset(key=fetch_key(SOURCE), group_name=SOURCE, retry_policy=FETCH_RETRY,
       description="Fetch every page of the subsidy-agreement registry (the last, short page "
       "kept) into the raw store.")
def ebudget_fetch(context: AssetExecutionContext, warehouse: WarehouseResource,
                  sources: SourcesResource) -> MaterializeResult:
    # Our offline copies are paged small so the sample has several pages; live pages are 1 000.
    page_size = ebudget.PAGE_SIZE if sources.live else ebudget.SAMPLE_PAGE_SIZE
    store = warehouse.raw_store()
    with sources.client(store, {ebudget.HOST}) as client:
        first = client.get(ebudget.page_url(1, page_size), source=SOURCE)
        pages = ebudget.parse_page_count(first.body, page_size, url=first.url)
        docs = [Document.of("page", first)]
        progress = Progress("Электронный бюджет pages", pages, context.log)
        progress.advance()
        for page in range(2, pages + 1):
            docs.append(Document.of("page", client.get(ebudget.page_url(page, page_size),
                                                       source=SOURCE)))
            progress.advance()
        progress.done()
    write_manifest(store, SOURCE, docs)
    return MaterializeResult(metadata={"pages": pages, "page_size": page_size,
                                       "not_modified": sum(d.not_modified for d in docs)})


assets = [
    ebudget_fetch,
    load_entity_asset(
        schema.AGREEMENTS, "page", ebudget.parse_agreements, ebudget.PARSER_VERSION,
        "Subsidy agreements with non-profit recipients: one row per agreement × recipient.",
    ),
    load_entity_asset(
        schema.PERIODS, "page", ebudget.parse_agreement_periods, ebudget.PARSER_VERSION,
        "Planned amounts of those agreements by period (month, year, later years).",
    ),
]
