"""Every source socfund loads, each declared once.

A source's declaration holds what is true of it: its key and titles, the hosts the
client may reach and the addresses a person can open, its terms of reuse, the files it
publishes in bulk, and its entities — the parse kinds, each with its parser, its pandera
schema and the raw table it loads. Everything else reads it from here: the Dagster
assets (`pipelines.definitions`), `socfund parse --list`, the bulk-file sensor, the
licence, the datapackage's sources, the page's source table, the data dictionary and the
change detector. A `raw.*` table without a declaration fails a test.

Plain Python: importing this module imports the parsers and schemas, not Dagster, so
the command line and the fast path before Dagster can read it.

Adding a source: its scraper (`scrapers/<source>.py`), its schema (`schemas/<source>.py`),
a `Source(...)` below, its staging model, its lines in the marts that union it, tests
(CONTRIBUTING.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from schemas import curated as curated_schema
from schemas import ebudget as ebudget_schema
from schemas import fpg as fpg_schema
from schemas import municipal as municipal_schema
from schemas import operators as operators_schema
from schemas import oprf2013 as oprf2013_schema
from schemas import practice as practice_schema
from schemas import programme_card as programme_schema
from schemas import sonko as sonko_schema
from schemas import treasury as treasury_schema
from schemas.base import Entity
from scrapers import (
    curated,
    ebudget,
    fpg,
    municipal,
    operators,
    oprf2013,
    practice,
    programme_card,
    sonko,
    treasury,
)

Parser = Callable[..., list[dict]]


class KeptTables(Protocol):
    """What a parser keeps of the documents it parsed for another parser of the same
    documents, handed between processes (`scrapers.ebudget.KeptTables`)."""

    def holds(self, sha256: str) -> bool: ...
    def take(self, sha256: str) -> Any: ...
    def export(self) -> list[Any]: ...
    def adopt(self, items: list[Any]) -> None: ...

LIVE = "live"
NOT_CONFIGURED = "not configured"
SHIPPED = "shipped with socfund"

UNKNOWN_TERMS = ("not known to us: we have found no statement of terms of reuse; the data are "
                 "published openly by the source")


@dataclass(frozen=True)
class EntityDecl:
    """One parse kind: the documents it reads, its parser, its schema and its raw table."""

    name: str
    document_kind: str
    parse: Parser
    entity: Entity
    description: str
    per_document_errors: bool = False
    # False where the source module builds this load itself (ФПГ cards, per contest).
    standard_asset: bool = True
    # Documents many and each long to parse: parsed by several processes at once
    # (`pipelines.parsing.parse_documents`). The parser must be a module's function.
    parallel: bool = False
    # What the parser keeps of a document for another entity's parser of the same documents
    # (`scrapers.ebudget.KeptTables`), handed back from the processes that parsed them.
    kept: KeptTables | None = None

    @property
    def cli_name(self) -> str:
        return f"{self.entity.source}.{self.name}"

    @property
    def table(self) -> str:
        return self.entity.table


@dataclass(frozen=True)
class BulkFileDecl:
    """A file the source publishes whole; `find_url` reads its address from the page at `url`."""

    name: str
    url: str
    find_url: Callable[[bytes, str], str] | None = None


@dataclass(frozen=True)
class QualityThresholds:
    """What a source's rows are held to in each release's quality scorecard
    (`pipelines.publish.quality`, `quality.json`). A breach is a warning, never a stopped
    night: the asset check `quality_thresholds` fails with severity WARN naming it, and the
    page marks it. None: not checked for this source. A source with nothing to judge (live
    only offline, no rows) breaches nothing.

    The defaults suit a registry of decisions that names each recipient by ИНН or ОГРН. The
    fixture build (tests/fixtures) holds deliberately broken rows, up to 7 % of a small
    source's rows, and passes them; so does the build from the real samples.
    """

    # quarantined / parsed over the source's raw tables: a change of layout the parser half
    # understands shows here before rows go missing downstream.
    max_quarantine_share: float | None = 0.1
    # Of the source's rows that name a recipient, those whose ИНН or ОГРН passes its check
    # digits (`intermediate.int_organisation_mentions`).
    min_valid_identifier_share: float | None = 0.9
    # Days from the last successful fetch to the build: a nightly source missing a week.
    max_fetch_age_days: float | None = 8.0
    # Non-null share of each of amount, year and region in the source's first fact table
    # (fact_grant, else fact_funding, else fact_outcome).
    min_key_field_coverage: float | None = 0.95


@dataclass(frozen=True)
class Source:
    key: str
    title_ru: str
    title_en: str
    hosts: frozenset[str]
    addresses: tuple[str, ...]
    status: str
    terms: str
    parser_version: str
    entities: tuple[EntityDecl, ...]
    fetch_description: str
    # (kind, url) fetched as they are; empty where the source's fetch is its own code.
    documents: tuple[tuple[str, str], ...] = ()
    bulk_files: tuple[BulkFileDecl, ...] = ()
    quality: QualityThresholds = QualityThresholds()

    @property
    def url(self) -> str | None:
        """The address a reader is sent to first, if any is known."""
        return self.addresses[0] if self.addresses else None


SOURCES: tuple[Source, ...] = (
    Source(
        key="fpg",
        title_ru="Фонд президентских грантов: карточки проектов и открытые данные",
        title_en="Фонд президентских грантов (Presidential Grants Fund): project list, "
                 "project cards and the open-data projects file",
        hosts=frozenset({fpg.HOST}),
        addresses=("https://президентскиегранты.рф/public/open-data",
                   "https://президентскиегранты.рф/public/application/cards"),
        status=LIVE,
        terms=UNKNOWN_TERMS,
        parser_version=fpg.PARSER_VERSION,
        fetch_description="Fetch ФПГ list pages (every page, the last one kept), the open-data "
                          "catalogue and the bulk projects XLSX into the raw store.",
        entities=(
            EntityDecl("list", "list", fpg.parse_list, fpg_schema.LIST_ITEMS,
                       "ФПГ list page (HTML): one record per project card link",
                       per_document_errors=True),
            EntityDecl("card", "card", fpg.parse_card, fpg_schema.CARDS,
                       "ФПГ project card page (HTML)", per_document_errors=True,
                       standard_asset=False),
            EntityDecl("xlsx", "xlsx", fpg.parse_xlsx, fpg_schema.APPLICATIONS,
                       "ФПГ open-data projects file (XLSX): one record per application"),
        ),
        bulk_files=(BulkFileDecl("fpg/projects_xlsx", fpg.OPEN_DATA_URL, fpg.find_bulk_url),),
    ),
    Source(
        key="oprf2013",
        title_ru="Президентские гранты 2013 года через шесть операторов",
        title_en="Presidential grants of 2013 through six operators: consolidated winners list",
        hosts=frozenset({oprf2013.HOST}),
        addresses=(oprf2013.CSV_URL,),
        status=LIVE,
        terms=UNKNOWN_TERMS + " (a historical file; no live copy is known)",
        parser_version=oprf2013.PARSER_VERSION,
        fetch_description="Fetch the consolidated 2013 winners list into the raw store.",
        entities=(
            EntityDecl("csv", "csv", oprf2013.parse_csv, oprf2013_schema.GRANTS,
                       "2013 presidential grants through operators (CSV)"),
        ),
        documents=(("csv", oprf2013.CSV_URL),),
        bulk_files=(BulkFileDecl("oprf2013/csv", oprf2013.CSV_URL),),
    ),
    Source(
        key="operators",
        title_ru="Президентские гранты через операторов, 2007–2012: списки победителей "
                 "и распределение средств по операторам 2009–2013",
        title_en="Presidential grants through operators, 2007–2012: the operators' winners' "
                 "lists, and each operator's allocation 2009–2013",
        hosts=frozenset({operators.HOST}),
        addresses=(*operators.LIST_URLS, operators.ALLOCATIONS_URL),
        status=LIVE,
        terms="published official information of the operators, as collected by the ngodata "
              "project (Ivan Begtin, GitHub ivbeg/ngodata, 2014); cite the operator and the "
              "collection",
        parser_version=operators.PARSER_VERSION,
        fetch_description="Fetch the operators' winners' lists 2007–2012 and the allocation "
                          "workbook 2009–2013 (ngodata collection) into the raw store.",
        entities=(
            EntityDecl("winners", "list", operators.parse_winners, operators_schema.WINNERS,
                       "presidential grants through operators 2007–2012: one record per listed "
                       "grant (CSV lists and the «Сопротивление» workbook)"),
            EntityDecl("allocations", "allocations", operators.parse_allocations,
                       operators_schema.ALLOCATIONS,
                       "each operator's allocation per year 2009–2013, with the year's budget "
                       "and the decree that set it (XLSX)"),
        ),
        documents=(*(("list", url) for url in operators.LIST_URLS),
                   ("allocations", operators.ALLOCATIONS_URL)),
        # The lists 2007–2012 name most winners without an ИНН (about 5 % carry a valid one)
        # and some without a region (86 % have one) or a readable amount (94 %): a drop below
        # these means a column was lost, not that the lists are thin.
        quality=QualityThresholds(min_valid_identifier_share=0.02, min_key_field_coverage=0.8),
    ),
    Source(
        key="sonko",
        title_ru="Реестры поддержки социально ориентированных НКО (федеральный и региональные)",
        title_en="Registries of support to socially oriented NGOs: federal registry "
                 "(Минэкономразвития) and regional registries",
        # The portal's registry files are on its own host; REGISTRY2011_HOST is that of the
        # invented registry the fixture portal page links (`.invalid`: never reachable live).
        hosts=frozenset({sonko.FEDERAL_HOST, sonko.REGISTRY_PORTAL_HOST,
                         sonko.REGISTRY2011_HOST}),
        addresses=(sonko.FEDERAL_URL, sonko.REGISTRY_PORTAL_URL),
        status=LIVE,
        terms=UNKNOWN_TERMS,
        parser_version=sonko.PARSER_VERSION,
        fetch_description="Fetch the regional registries (2011 template) linked from the "
                          "Smolensk NGO portal's registries page, and the federal registry "
                          "XLSX.",
        entities=(
            EntityDecl("registry2011", "registry2011", sonko.parse_registry2011,
                       sonko_schema.REGISTRY2011,
                       "regional registry of support to socially oriented NGOs, 2011 template "
                       "(XLS/XLSX): one record per support decision"),
            EntityDecl("federal", "federal", sonko.parse_federal, sonko_schema.FEDERAL,
                       "federal registry of socially oriented NGOs (XLSX): one record per "
                       "decision"),
        ),
        bulk_files=(BulkFileDecl("sonko/federal_xlsx", sonko.FEDERAL_URL),),
    ),
    Source(
        key="ebudget",
        title_ru="Электронный бюджет: соглашения о субсидиях некоммерческим организациям",
        title_en="Электронный бюджет: registry of subsidy agreements, non-profit recipients",
        hosts=frozenset({ebudget.HOST}),
        addresses=(ebudget.DATA_URL,),
        status=LIVE,
        terms=UNKNOWN_TERMS,
        parser_version=ebudget.PARSER_VERSION,
        fetch_description="Fetch every page of the subsidy-agreement registry (the last, short "
                          "page kept) into the raw store.",
        entities=(
            EntityDecl("agreements", "page", ebudget.parse_agreements, ebudget_schema.AGREEMENTS,
                       "Электронный бюджет subsidy agreements (JSON page): one record per "
                       "agreement × non-profit recipient",
                       parallel=True, kept=ebudget.KEPT_AGREEMENTS),
            EntityDecl("periods", "page", ebudget.parse_agreement_periods,
                       ebudget_schema.PERIODS,
                       "Электронный бюджет subsidy agreements (JSON page): planned amount per "
                       "period",
                       parallel=True, kept=ebudget.KEPT_PERIODS),
        ),
    ),
    Source(
        key="treasury",
        title_ru="Исполнение бюджетов, форма 0503317, вид расходов 630",
        title_en="Federal Treasury budget execution reports, form 0503317, expense type 630",
        hosts=frozenset({treasury.HOST}),
        addresses=(),
        status=NOT_CONFIGURED,
        terms=UNKNOWN_TERMS,
        parser_version=treasury.PARSER_VERSION,
        fetch_description="Fetch the regions' execution reports (form 0503317) into the raw "
                          "store.",
        entities=(
            EntityDecl("0503317", "report", treasury.parse_0503317, treasury_schema.EXECUTION,
                       "Treasury execution report, form 0503317 (XLS/XLSX): expense type 630 "
                       "lines"),
        ),
        documents=tuple(("report", url) for url in treasury.REPORT_URLS.values()),
        # Budget execution reports name no recipient organisation.
        quality=QualityThresholds(min_valid_identifier_share=None),
    ),
    Source(
        key="municipal",
        title_ru="Итоги муниципальных конкурсов",
        title_en="Municipal grant competition results",
        hosts=frozenset({municipal.HOST}),
        addresses=(),
        status=NOT_CONFIGURED,
        terms=UNKNOWN_TERMS,
        parser_version=municipal.PARSER_VERSION,
        fetch_description="Fetch municipal competition results pages into the raw store.",
        entities=(
            EntityDecl("winners", "winners", municipal.parse_winners, municipal_schema.WINNERS,
                       "municipal grant competition results (HTML tables of winners)",
                       per_document_errors=True),
        ),
        documents=tuple(("winners", url) for url in municipal.WINNERS_URLS),
        # Municipal results pages name about half of their winners with an ИНН.
        quality=QualityThresholds(min_valid_identifier_share=0.4),
    ),
    Source(
        key="curated",
        title_ru="Цифры из отчётов и презентаций, каждая со ссылкой на документ",
        title_en="Figures from published reports and presentations, one per row with its "
                 "document, curated by socfund",
        hosts=frozenset({curated.HOST}),
        addresses=(),
        status=SHIPPED,
        terms="our curation is CC BY 4.0; each figure is quoted from the document its row "
              "names, whose own terms apply to the document",
        parser_version=curated.PARSER_VERSION,
        fetch_description="Keep the curated figure files (shipped with the project) in the raw "
                          "store.",
        entities=(
            EntityDecl("csv", "csv", curated.parse_curated, curated_schema.FIGURES,
                       "curated figures (CSV): one figure per row with its document and "
                       "locator"),
        ),
        # Kept from the project itself, never fetched from a site: it cannot go stale. Its
        # figures are totals, not grants to a named organisation.
        quality=QualityThresholds(min_valid_identifier_share=None, max_fetch_age_days=None),
    ),
    Source(
        key="practice",
        title_ru="Лучшие практики: показатели в тексте страниц",
        title_en="Best-practice pages: outcome indicators in their free text",
        hosts=frozenset({practice.HOST}),
        addresses=(),
        status=NOT_CONFIGURED,
        terms=UNKNOWN_TERMS,
        parser_version=practice.PARSER_VERSION,
        fetch_description="Fetch best-practice pages into the raw store.",
        entities=(
            EntityDecl("page", "page", practice.parse_page, practice_schema.INDICATORS,
                       "best-practice page (HTML): one record per number–noun indicator",
                       per_document_errors=True),
        ),
        documents=tuple(("page", url) for url in practice.PRACTICE_URLS),
        # Indicators in a page's text name no recipient by identifier.
        quality=QualityThresholds(min_valid_identifier_share=None),
    ),
    Source(
        key="programme",
        title_ru="Карточки программ фондов: цель, годы, регионы, показатели",
        title_en="Foundations' programme cards: goal, years, regions and indicators",
        hosts=frozenset({programme_card.HOST}),
        addresses=(),
        status=NOT_CONFIGURED,
        terms=UNKNOWN_TERMS,
        parser_version=programme_card.PARSER_VERSION,
        fetch_description="Fetch foundations' programme cards into the raw store.",
        entities=(
            EntityDecl("info", "card", programme_card.parse_card, programme_schema.CARDS,
                       "foundation programme card (HTML): goal, years, regions, target groups",
                       per_document_errors=True),
            EntityDecl("card", "card", programme_card.parse_card_indicators,
                       programme_schema.INDICATORS,
                       "foundation programme card (HTML): one record per indicator in its text",
                       per_document_errors=True),
        ),
        documents=tuple(("card", url) for url in programme_card.PROGRAMME_URLS),
        # A card's indicators rarely say their year or region in the same sentence; they
        # name no recipient by identifier.
        quality=QualityThresholds(min_valid_identifier_share=None, min_key_field_coverage=None),
    ),
)


@cache
def _by_key() -> dict[str, Source]:
    keys = [s.key for s in SOURCES]
    if len(set(keys)) != len(keys):
        raise ValueError(f"source keys declared twice: "
                         f"{sorted(k for k in keys if keys.count(k) > 1)}")
    for s in SOURCES:
        for decl in s.entities:
            if decl.entity.source != s.key:
                raise ValueError(f"{s.key}: entity {decl.table} belongs to source "
                                 f"{decl.entity.source!r}")
    return {s.key: s for s in SOURCES}


def source(key: str) -> Source:
    try:
        return _by_key()[key]
    except KeyError:
        raise KeyError(f"no source {key!r} is declared; declared: {', '.join(_by_key())}") \
            from None


def parse_kinds() -> dict[str, EntityDecl]:
    """`SOURCE.KIND` → its declaration, for `socfund parse`."""
    return {decl.cli_name: decl for s in SOURCES for decl in s.entities}


def declared_tables() -> dict[str, EntityDecl]:
    """`<source>__<entity>` → the declaration of the load that fills `raw.<table>`."""
    return {decl.table: decl for s in SOURCES for decl in s.entities}


def bulk_files() -> tuple[tuple[Source, BulkFileDecl], ...]:
    return tuple((s, f) for s in SOURCES for f in s.bulk_files)
