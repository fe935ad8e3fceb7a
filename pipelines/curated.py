"""Curated figures: one figure per row, each with its document; project data, not a site.

The files ship with the project (our curated copies under `samples/curated.socfund.invalid/`),
so the same files are read on an offline and a live night; they are kept in the raw store
and logged like any fetched body, so lineage and re-parsing work the same way.
"""

from datetime import UTC, datetime

from dagster import AssetExecutionContext

from pipelines.factory import FetchOutcome
from pipelines.loading import Document
from pipelines.resources import SourcesResource
from scrapers import curated
from scrapers.rawstore import FetchRecord, RawStore
from scrapers.samples import sample_path

SOURCE = "curated"


def keep_files(context: AssetExecutionContext, store: RawStore,
               sources: SourcesResource) -> FetchOutcome:
    previous = store.last_success()
    docs = []
    for url in curated.CURATED_URLS:
        body = sample_path(url).read_bytes()
        digest = store.put(SOURCE, body)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        unchanged = url in previous and previous[url].sha256 == digest
        store.log(FetchRecord(source=SOURCE, url=url, fetched_at=now, status=200, sha256=digest,
                              bytes=len(body), content_type="text/csv; charset=utf-8",
                              not_modified=unchanged))
        docs.append(Document("csv", url, digest, now, unchanged))
    return FetchOutcome(docs)

