"""Presidential Grants Fund (ФПГ): list pages, project cards and the bulk XLSX."""

from dagster import AssetExecutionContext, MaterializeResult, asset

from pipelines.factory import FETCH_RETRY, fetch_key, load_entity_asset
from pipelines.loading import Document, write_manifest
from pipelines.progress import Progress
from pipelines.resources import SourcesResource, WarehouseResource
from schemas import fpg as schema
from scrapers import fpg
from scrapers.http import FetchError

SOURCE = "fpg"


@asset(
    key=fetch_key(SOURCE),
    group_name=SOURCE,
    retry_policy=FETCH_RETRY,
    description="Fetch ФПГ list pages (every page, the last one kept), the project cards they "
    "link to, the open-data catalogue and the bulk projects XLSX into the raw store.",
)
def fpg_fetch(
    context: AssetExecutionContext, warehouse: WarehouseResource, sources: SourcesResource
) -> MaterializeResult:
    store = warehouse.raw_store()
    docs: list[Document] = []
    failures: list[dict] = []
    with sources.client(store, {fpg.HOST}) as client:
        first = client.get(fpg.list_page_url(1), source=SOURCE)
        pages = fpg.parse_page_count(first.body)
        docs.append(Document.of("list", first))
        progress = Progress("ФПГ list pages", pages, context.log)
        progress.advance()
        card_urls: list[str] = [item["card_url"] for item in fpg.parse_list(first.body)]
        for page in range(2, pages + 1):
            fetched = client.get(fpg.list_page_url(page), source=SOURCE)
            docs.append(Document.of("list", fetched))
            card_urls.extend(item["card_url"] for item in fpg.parse_list(fetched.body))
            progress.advance()
        progress.done()

        progress = Progress("ФПГ cards", len(card_urls), context.log)
        for url in dict.fromkeys(card_urls):
            try:
                docs.append(Document.of("card", client.get(url, source=SOURCE)))
            except FetchError as exc:
                context.log.warning(str(exc))
                failures.append({"url": url, "error": str(exc)})
            progress.advance()
        progress.done()

        catalogue = client.get(fpg.OPEN_DATA_URL, source=SOURCE)
        docs.append(Document.of("open_data", catalogue))
        bulk_url = fpg.find_bulk_url(catalogue.body, fpg.OPEN_DATA_URL)
        docs.append(Document.of("xlsx", client.get(bulk_url, source=SOURCE)))

    if card_urls and len(failures) == len(set(card_urls)):
        raise FetchError(f"{SOURCE}: every one of {len(failures)} card fetches failed")
    write_manifest(store, SOURCE, docs, failures)
    unchanged = sum(d.not_modified for d in docs)
    return MaterializeResult(metadata={
        "list_pages": pages,
        "cards": sum(d.kind == "card" for d in docs),
        "card_failures": len(failures),
        "documents": len(docs),
        "not_modified": unchanged,
    })


fpg_list_items = load_entity_asset(
    schema.LIST_ITEMS, "list", fpg.parse_list, fpg.PARSER_VERSION,
    "ФПГ list-page entries, validated; one row per card link.", per_document_errors=True,
)
fpg_cards = load_entity_asset(
    schema.CARDS, "card", fpg.parse_card, fpg.PARSER_VERSION,
    "ФПГ project cards, validated; texts, co-financing and transfers.", per_document_errors=True,
)
fpg_applications = load_entity_asset(
    schema.APPLICATIONS, "xlsx", fpg.parse_xlsx, fpg.PARSER_VERSION,
    "ФПГ bulk open-data file, validated; one row per application, authoritative for status "
    "and amounts.",
)

assets = [fpg_fetch, fpg_list_items, fpg_cards, fpg_applications]
