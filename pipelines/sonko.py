"""Registries of support to socially oriented NGOs: regional (2011 template) and federal."""

from pipelines.factory import fetch_documents_asset, load_entity_asset
from schemas import sonko as schema
from scrapers import sonko

assets = [
    fetch_documents_asset(
        "sonko",
        {sonko.FEDERAL_HOST, sonko.REGISTRY2011_HOST},
        [*(("registry2011", url) for url in sonko.REGISTRY2011_URLS),
         ("federal", sonko.FEDERAL_URL)],
        "Fetch the regional registries (2011 template) and the federal registry XLSX.",
    ),
    load_entity_asset(
        schema.REGISTRY2011, "registry2011", sonko.parse_registry2011, sonko.PARSER_VERSION,
        "Regional registry records: one support decision each (form, amount, term, authority).",
    ),
    load_entity_asset(
        schema.FEDERAL, "federal", sonko.parse_federal, sonko.PARSER_VERSION,
        "Federal registry of supported NGOs: one row per decision.",
    ),
]
