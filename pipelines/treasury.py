"""Treasury budget execution, form 0503317: expense type 630 by region and year."""

from pipelines.factory import fetch_documents_asset, load_entity_asset
from schemas import treasury as schema
from scrapers import treasury

assets = [
    fetch_documents_asset(
        "treasury", {treasury.HOST}, [("report", url) for url in treasury.REPORT_URLS.values()],
        "Fetch the regions' execution reports (form 0503317) into the raw store.",
    ),
    load_entity_asset(
        schema.EXECUTION, "report", treasury.parse_0503317, treasury.PARSER_VERSION,
        "Expense type 630 (subsidies to non-profits) by region, year and budget: approved "
        "and executed.",
    ),
]
