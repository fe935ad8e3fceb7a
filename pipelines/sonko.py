"""Registries of support to socially oriented NGOs: regional (from their portal) and federal.

The regional registries are found on the page that lists them (the Smolensk NGO portal,
SOURCES.md §2a): the page is kept, every registry file it links is fetched. A page that
links no registry is a failed fetch naming what was looked for (`scrapers.sonko
.find_registry_links`); the federal registry is one file at a fixed address.

Offline, each document is fetched only where the samples folder holds it: `samples/` has
the real Smolensk registries and no copy of the federal file, which is live only there.
"""

from dagster import AssetExecutionContext

from pipelines.factory import FetchOutcome
from pipelines.loading import Document
from pipelines.progress import Progress
from pipelines.registry import source
from pipelines.resources import SourcesResource
from scrapers import sonko
from scrapers.rawstore import RawStore

SOURCE = "sonko"


def fetch_registries(context: AssetExecutionContext, store: RawStore,
                     sources: SourcesResource) -> FetchOutcome:
    docs: list[Document] = []
    live_only: list[tuple[str, str]] = []
    with sources.client(store, set(source(SOURCE).hosts)) as client:
        if sources.has_copy(sonko.REGISTRY_PORTAL_URL):
            page = client.get(sonko.REGISTRY_PORTAL_URL, source=SOURCE)
            docs.append(Document.of("portal", page))
            links = sonko.find_registry_links(page.body, sonko.REGISTRY_PORTAL_URL)
            progress = Progress("regional СО НКО registries", len(links), context.log)
            for url in links:
                if sources.has_copy(url):
                    docs.append(Document.of("registry2011", client.get(url, source=SOURCE)))
                else:
                    live_only.append(("registry2011", url))
                progress.advance()
            progress.done()
        else:
            live_only.append(("portal", sonko.REGISTRY_PORTAL_URL))
        if sources.has_copy(sonko.FEDERAL_URL):
            docs.append(Document.of("federal", client.get(sonko.FEDERAL_URL, source=SOURCE)))
        else:
            live_only.append(("federal", sonko.FEDERAL_URL))
    registries = sum(d.kind == "registry2011" for d in docs)
    return FetchOutcome(docs, live_only=live_only, metadata={"regional_registries": registries})
