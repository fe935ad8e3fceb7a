"""Every parser by its SOURCE.KIND name, with the schema that validates its records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from schemas import fpg as fpg_schema
from schemas import oprf2013 as oprf2013_schema
from schemas import sonko as sonko_schema
from schemas.base import Entity
from scrapers import fpg, oprf2013, sonko


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
    )
}
