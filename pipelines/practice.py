"""Best-practice pages and foundations' programme cards: outcome indicators in free text."""

from pipelines.factory import fetch_documents_asset, load_entity_asset
from schemas import practice as practice_schema
from schemas import programme_card as programme_schema
from scrapers import practice, programme_card

assets = [
    fetch_documents_asset(
        "practice", {practice.HOST}, [("page", url) for url in practice.PRACTICE_URLS],
        "Fetch best-practice pages into the raw store.",
    ),
    load_entity_asset(
        practice_schema.INDICATORS, "page", practice.parse_page, practice.PARSER_VERSION,
        "Number–noun indicators in best-practice pages, each with its qualifier and sentence.",
        per_document_errors=True,
    ),
    fetch_documents_asset(
        "programme", {programme_card.HOST},
        [("card", url) for url in programme_card.PROGRAMME_URLS],
        "Fetch foundations' programme cards into the raw store.",
    ),
    load_entity_asset(
        programme_schema.CARDS, "card", programme_card.parse_card, programme_card.PARSER_VERSION,
        "Programme cards: goal, years, regions, target groups.", per_document_errors=True,
    ),
    load_entity_asset(
        programme_schema.INDICATORS, "card", programme_card.parse_card_indicators,
        programme_card.PARSER_VERSION, "Indicators named in programme cards.",
        per_document_errors=True,
    ),
]
