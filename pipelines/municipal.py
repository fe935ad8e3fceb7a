"""Municipal grant competitions: HTML tables of winners."""

from pipelines.factory import fetch_documents_asset, load_entity_asset
from schemas import municipal as schema
from scrapers import municipal

assets = [
    fetch_documents_asset(
        "municipal", {municipal.HOST}, [("winners", url) for url in municipal.WINNERS_URLS],
        "Fetch municipal competition results pages into the raw store.",
    ),
    load_entity_asset(
        schema.WINNERS, "winners", municipal.parse_winners, municipal.PARSER_VERSION,
        "Winners of municipal grant competitions: organisation, project, nomination, amount.",
        per_document_errors=True,
    ),
]
