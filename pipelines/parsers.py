"""Every parser by its SOURCE.KIND name, with the schema that validates its records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from schemas import curated as curated_schema
from schemas import ebudget as ebudget_schema
from schemas import fpg as fpg_schema
from schemas import municipal as municipal_schema
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
    oprf2013,
    practice,
    programme_card,
    sonko,
    treasury,
)


@dataclass(frozen=True)
class ParserSpec:
    name: str
    parse: Callable[..., list[dict]]
    entity: Entity
    description: str


PARSERS: dict[str, ParserSpec] = {
    spec.name: spec
    for spec in (
        ParserSpec("fpg.list", fpg.parse_list, fpg_schema.LIST_ITEMS,
                   "ФПГ list page (HTML): one record per project card link"),
        ParserSpec("fpg.card", fpg.parse_card, fpg_schema.CARDS,
                   "ФПГ project card page (HTML)"),
        ParserSpec("fpg.xlsx", fpg.parse_xlsx, fpg_schema.APPLICATIONS,
                   "ФПГ open-data projects file (XLSX): one record per application"),
        ParserSpec("oprf2013.csv", oprf2013.parse_csv, oprf2013_schema.GRANTS,
                   "2013 presidential grants through operators (CSV)"),
        ParserSpec("sonko.registry2011", sonko.parse_registry2011, sonko_schema.REGISTRY2011,
                   "regional registry of support to socially oriented NGOs, 2011 template "
                   "(XLS/XLSX): one record per support decision"),
        ParserSpec("sonko.federal", sonko.parse_federal, sonko_schema.FEDERAL,
                   "federal registry of socially oriented NGOs (XLSX): one record per decision"),
        ParserSpec("ebudget.agreements", ebudget.parse_agreements, ebudget_schema.AGREEMENTS,
                   "Электронный бюджет subsidy agreements (JSON page): one record per "
                   "agreement × non-profit recipient"),
        ParserSpec("ebudget.periods", ebudget.parse_agreement_periods, ebudget_schema.PERIODS,
                   "Электронный бюджет subsidy agreements (JSON page): planned amount per period"),
        ParserSpec("treasury.0503317", treasury.parse_0503317, treasury_schema.EXECUTION,
                   "Treasury execution report, form 0503317 (XLS/XLSX): expense type 630 lines"),
        ParserSpec("municipal.winners", municipal.parse_winners, municipal_schema.WINNERS,
                   "municipal grant competition results (HTML tables of winners)"),
        ParserSpec("curated.csv", curated.parse_curated, curated_schema.FIGURES,
                   "curated figures (CSV): one figure per row with its document and locator"),
        ParserSpec("practice.page", practice.parse_page, practice_schema.INDICATORS,
                   "best-practice page (HTML): one record per number–noun indicator"),
        ParserSpec("programme.card", programme_card.parse_card_indicators,
                   programme_schema.INDICATORS,
                   "foundation programme card (HTML): one record per indicator in its text"),
        ParserSpec("programme.info", programme_card.parse_card, programme_schema.CARDS,
                   "foundation programme card (HTML): goal, years, regions, target groups"),
    )
}
