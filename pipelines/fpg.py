"""Presidential Grants Fund (ФПГ): list pages, project cards and the bulk XLSX.

`fetch/fpg` keeps the list pages, the open-data catalogue and the bulk XLSX. The
cards (tens of thousands on the live site) are fetched and parsed per contest:
`parsed/fpg_cards` maps one step over every contest named on the list pages, so
Dagster's multiprocess executor (or a Celery/Kubernetes executor) runs contests in
parallel; each step keeps its contest's card manifest in `raw/fpg/cards/<key>.json`
and its validated rows in `parsed/fpg__cards/<key>.parquet`, and re-parses nothing
when the contest's cards, the parser and the schema are unchanged. `raw/fpg__cards`
then loads every contest's rows into the store as one writer.
"""

import hashlib
import json
import re
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq
from dagster import (
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    DynamicOut,
    DynamicOutput,
    In,
    MaterializeResult,
    Nothing,
    Output,
    asset,
    graph_asset,
    op,
)

from pipelines.factory import STORE_POOL, FetchOutcome, fetch_key
from pipelines.inputs import LoadInputs, input_digest, load_inputs
from pipelines.loading import (
    RECONCILES,
    Document,
    LoadCounts,
    SourceFailure,
    documents,
    load_entity,
    read_manifest,
    write_json,
    write_manifest,
)
from pipelines.parsing import parse_documents
from pipelines.progress import Progress
from pipelines.registry import declared_tables
from pipelines.resources import SourcesResource, WarehouseResource
from pipelines.store import entity_batches, replace_entity_files
from schemas import fpg as schema
from schemas.base import validate
from scrapers import fpg
from scrapers.files import replacing
from scrapers.http import FetchError
from scrapers.rawstore import RawStore

SOURCE = "fpg"

# `Первый конкурс 2017` → `c2017_1`: cards are fetched, parsed and kept per contest under
# this key (a Dagster mapping key: letters, digits and `_` only).
_ORDINALS = {"первый": 1, "второй": 2, "третий": 3, "четвертый": 4, "четвёртый": 4}
_SLUG_YEAR = re.compile(r"(?<!\d)(20\d{2})(?!\d)")


def contest_slug(contest: str | None) -> str:
    """A stable key for a normalised contest name; `c_unknown` when a card names none."""
    if not contest:
        return "c_unknown"
    words = contest.lower().split()
    year = _SLUG_YEAR.search(contest)
    if year and len(words) == 3 and words[1] == "конкурс" and words[0] in _ORDINALS:
        return f"c{year.group(1)}_{_ORDINALS[words[0]]}"
    digest = hashlib.sha256(contest.encode("utf-8")).hexdigest()[:10]
    return f"c{year.group(1)}_{digest}" if year else f"c_{digest}"


def cards_dir(store: RawStore) -> Path:
    return store.root / SOURCE / "cards"


def parsed_dir(warehouse: WarehouseResource) -> Path:
    return warehouse.paths().root / "parsed" / schema.CARDS.table


# --- fetch: list pages, catalogue, bulk file --------------------------------------------------

def fetch_lists(context: AssetExecutionContext, store: RawStore,
                sources: SourcesResource) -> FetchOutcome:
    docs: list[Document] = []
    if not sources.has_copy(fpg.list_page_url(1)):
        # Offline with no copy of the list: the fund's pages and files come on a live night
        # only (the bulk file's address is read from the catalogue then).
        return FetchOutcome(docs, live_only=[("list", fpg.list_page_url(1)),
                                             ("open_data", fpg.OPEN_DATA_URL),
                                             ("xlsx", fpg.OPEN_DATA_URL)])
    with sources.client(store, {fpg.HOST}) as client:
        first = client.get(fpg.list_page_url(1), source=SOURCE)
        pages = fpg.parse_page_count(first.body)
        docs.append(Document.of("list", first))
        progress = Progress("ФПГ list pages", pages, context.log)
        progress.advance()
        for page in range(2, pages + 1):
            docs.append(Document.of("list", client.get(fpg.list_page_url(page), source=SOURCE)))
            progress.advance()
        progress.done()
        catalogue = client.get(fpg.OPEN_DATA_URL, source=SOURCE)
        docs.append(Document.of("open_data", catalogue))
        bulk_url = fpg.find_bulk_url(catalogue.body, fpg.OPEN_DATA_URL)
        docs.append(Document.of("xlsx", client.get(bulk_url, source=SOURCE)))
    return FetchOutcome(docs, metadata={"list_pages": pages})


# --- cards, per contest -----------------------------------------------------------------------

@op(ins={"fetched": In(Nothing)}, out=DynamicOut(dict),
    description="The contests named on the kept list pages, each with its card links.")
def fpg_card_contests(context, warehouse: WarehouseResource, sources: SourcesResource):
    store = warehouse.raw_store()
    by_slug: dict[str, dict] = {}
    if sources.from_raw:
        for path in sorted(cards_dir(store).glob("*.json")):
            manifest = json.loads(path.read_text(encoding="utf-8"))
            by_slug[path.stem] = {"slug": path.stem, "contest": manifest.get("contest"),
                                  "urls": [d["url"] for d in manifest["documents"]]}
    else:
        urls: dict[str, dict] = defaultdict(dict)
        names: dict[str, str | None] = {}
        for doc in documents(read_manifest(store, SOURCE), "list"):
            for item in fpg.parse_list(store.get(SOURCE, doc.sha256), url=doc.url):
                slug = contest_slug(item["contest"])
                names.setdefault(slug, item["contest"])
                urls[slug][item["card_url"]] = None
        by_slug = {slug: {"slug": slug, "contest": names[slug], "urls": list(found)}
                   for slug, found in urls.items()}
    context.log.info(f"ФПГ cards: {sum(len(c['urls']) for c in by_slug.values())} cards in "
                     f"{len(by_slug)} contests")
    for slug in sorted(by_slug):
        yield DynamicOutput(by_slug[slug], mapping_key=slug)


def _fetch_contest(context, store: RawStore, sources: SourcesResource, contest: dict) -> None:
    """Fetch one contest's cards; keep its manifest (the old one if every fetch failed)."""
    docs: list[Document] = []
    failures: list[dict] = []
    with sources.client(store, {fpg.HOST}) as client:
        for url in contest["urls"]:
            try:
                docs.append(Document.of("card", client.get(url, source=SOURCE)))
            except FetchError as exc:
                context.log.warning(str(exc))
                failures.append({"url": url, "error": str(exc)})
    manifest = cards_dir(store) / f"{contest['slug']}.json"
    if contest["urls"] and not docs:
        if manifest.exists():
            context.log.error(f"ФПГ {contest['contest']}: every card fetch failed; the cards "
                              f"kept earlier are parsed instead")
            return
        raise SourceFailure(f"ФПГ {contest['contest']}: every one of {len(failures)} card "
                            f"fetches failed")
    write_manifest(store, SOURCE, docs, failures, target=manifest, contest=contest["contest"])


def _card_inputs() -> LoadInputs:
    return load_inputs(declared_tables()[schema.CARDS.table], fpg.PARSER_VERSION)


@op(description="Fetch (unless rebuilding from the raw store), parse and validate the cards "
    "of one contest into a Parquet file; nothing re-parsed when nothing changed.")
def fpg_contest_cards(context, contest: dict, warehouse: WarehouseResource,
                      sources: SourcesResource) -> dict:
    store = warehouse.raw_store()
    slug = contest["slug"]
    if not sources.from_raw:
        _fetch_contest(context, store, sources, contest)
    manifest = json.loads((cards_dir(store) / f"{slug}.json").read_text(encoding="utf-8"))
    docs = [Document(**d) for d in manifest["documents"]]
    digest = input_digest(_card_inputs(), docs)
    folder = parsed_dir(warehouse)
    summary_path = folder / f"{slug}.json"
    if summary_path.exists():
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        if summary["digest"] == digest and (folder / f"{slug}.parquet").exists():
            context.log.info(f"ФПГ {contest['contest']}: {len(docs)} cards unchanged; "
                             f"nothing re-parsed")
            return {**summary, "reparsed": 0}
    progress = Progress(f"ФПГ cards of {contest['contest']}", len(docs), context.log)
    records, rejected = parse_documents(store, SOURCE, docs, fpg.parse_card, progress=progress,
                                        per_document_errors=True)
    validated = validate(records, schema.CARDS)
    validated.quarantined.extend(rejected)
    valid, quarantined = entity_batches(
        schema.CARDS, validated, {"_source": SOURCE, "_parser_version": fpg.PARSER_VERSION})
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in ((f"{slug}.parquet", valid), (f"{slug}.quarantine.parquet", quarantined)):
        with replacing(folder / name) as tmp:
            pq.write_table(table, tmp)
    summary = {"slug": slug, "contest": contest["contest"], "digest": digest,
               "documents": len(docs), "parsed": validated.parsed,
               "loaded": valid.num_rows, "quarantined": quarantined.num_rows}
    write_json(summary_path, summary)
    return {**summary, "reparsed": validated.parsed}


@op(description="Every contest's summary, in contest order.")
def fpg_cards_summary(context, contests: list[dict]) -> Output:
    contests = sorted(contests, key=lambda c: c["slug"])
    # The code counts even when no contest is listed: the digest of the load with no cards.
    digest = hashlib.sha256("".join([f"{input_digest(_card_inputs(), [])}\n",
                                     *(f"{c['slug']}:{c['digest']}\n" for c in contests)])
                            .encode()).hexdigest()
    reparsed = sum(c["reparsed"] for c in contests)
    return Output(
        {"digest": digest, "contests": contests},
        metadata={"contests": len(contests), "cards": sum(c["documents"] for c in contests),
                  "reparsed": reparsed,
                  "contests_reparsed": sum(bool(c["reparsed"]) for c in contests)},
    )


@graph_asset(
    key=AssetKey(["parsed", "fpg_cards"]),
    group_name=SOURCE,
    ins={"fetched": AssetIn(key=fetch_key(SOURCE), dagster_type=Nothing)},
    description="ФПГ cards fetched, parsed and validated per contest (one mapped step per "
    "contest) into Parquet files; unchanged contests are not re-parsed.",
)
def fpg_parsed_cards(fetched):
    contests = fpg_card_contests(fetched)
    return fpg_cards_summary(contests.map(fpg_contest_cards).collect())


CARDS_KEY = AssetKey(["raw", schema.CARDS.table])
# The store's memory limit while the cards load: their texts (some 220 MB in DuckDB at full
# scale) are held by the transaction until its commit, and past this limit they spill to
# disk instead. At full scale the load's peak went from +935 MB (Arrow batches, 1 GB limit)
# to +545 MB (DuckDB reading the Parquet files) and +265 MB (with this limit), for 0.4 s of
# CPU time more than with no lower limit and 1.7 s less than the Arrow batches.
CARDS_MEMORY_LIMIT = "256MB"


@asset(key=CARDS_KEY, group_name=SOURCE, pool=STORE_POOL,
       ins={"parsed": AssetIn(key=AssetKey(["parsed", "fpg_cards"]))},
       check_specs=[AssetCheckSpec(RECONCILES, asset=CARDS_KEY)],
       description="ФПГ project cards, validated; texts, co-financing and transfers. Loaded "
       "from every contest's Parquet file in one transaction.")
def fpg_cards(context: AssetExecutionContext, warehouse: WarehouseResource,
              parsed: dict) -> MaterializeResult:
    folder = parsed_dir(warehouse)
    contests = parsed["contests"]

    def produce():
        if contests and not any(c["loaded"] for c in contests):
            raise SourceFailure(f"{schema.CARDS.table}: no card of {len(contests)} contests "
                                f"passed validation")
        valid = [folder / f"{c['slug']}.parquet" for c in contests]
        held = [folder / f"{c['slug']}.quarantine.parquet" for c in contests]
        parsed_rows = sum(c["parsed"] for c in contests)

        def write(con, digest: str) -> LoadCounts:
            return replace_entity_files(con, schema.CARDS, valid, held, parsed=parsed_rows,
                                        input_digest=digest, memory_limit=CARDS_MEMORY_LIMIT)

        return LoadCounts(schema.CARDS.table, parsed_rows, sum(c["loaded"] for c in contests),
                          sum(c["quarantined"] for c in contests)), write

    return load_entity(context, warehouse, schema.CARDS, parsed["digest"], produce,
                       extra_metadata={"contests": len(contests)})


# The list pages and the bulk file load through the standard assets of the declaration;
# the cards, per contest, through these.
card_assets = [fpg_parsed_cards, fpg_cards]
