"""Presidential grants 2013 through six operators (consolidated winners list)."""

from pipelines.factory import fetch_documents_asset, load_entity_asset
from schemas import oprf2013 as schema
from scrapers import oprf2013

assets = [
    fetch_documents_asset(
        "oprf2013", {oprf2013.HOST}, [("csv", oprf2013.CSV_URL)],
        "Fetch the consolidated 2013 winners list into the raw store.",
    ),
    load_entity_asset(
        schema.GRANTS, "csv", oprf2013.parse_csv, oprf2013.PARSER_VERSION,
        "2013 presidential grants by operator, validated; ОГРН flagged, not dropped.",
    ),
]
