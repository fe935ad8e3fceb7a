"""Электронный бюджет: the registry of subsidy agreements, paged JSON, non-profit recipients."""

from dagster import AssetExecutionContext

from pipelines.factory import FetchOutcome
from pipelines.loading import Document
from pipelines.progress import Progress
from pipelines.resources import SourcesResource
from scrapers import ebudget
from scrapers.rawstore import RawStore

SOURCE = "ebudget"


def fetch_pages(context: AssetExecutionContext, store: RawStore,
                sources: SourcesResource) -> FetchOutcome:
    # Our offline copies are paged small so the sample has several pages; live pages are 1 000.
    page_size = ebudget.PAGE_SIZE if sources.live else ebudget.SAMPLE_PAGE_SIZE
    if not sources.has_copy(ebudget.page_url(1, page_size)):
        # Offline with no copy of the registry: its pages come on a live night only.
        return FetchOutcome([], live_only=[("page", ebudget.page_url(1, page_size))])
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
    return FetchOutcome(docs, metadata={"pages": pages, "page_size": page_size})

