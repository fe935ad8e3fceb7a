"""The price-index seed holds exactly the published World Bank figures, with its source."""

import csv

from tests.conftest import REFERENCE, REPO

SEED = REPO / "dbt_project" / "seeds" / "price_index.csv"
CODES = {"RUS": "RU", "KGZ": "KG"}


def _reference() -> dict[tuple[str, int], str]:
    with (REFERENCE / "inflation_worldbank.csv").open(encoding="utf-8") as fh:
        return {(CODES[r["Country Code"]], int(r["Year"])): r["CPI"]
                for r in csv.DictReader(fh) if r["Country Code"] in CODES and r["CPI"]}


def _seed() -> list[dict]:
    with SEED.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_every_seed_figure_is_the_published_one():
    reference = _reference()
    seed = {(r["country_code"], int(r["year"])): r["inflation_pct"] for r in _seed()}
    assert seed == reference


def test_every_row_names_its_source():
    assert all("World Bank" in r["source"] and "FP.CPI.TOTL.ZG" in r["source"] for r in _seed())


def test_years_are_contiguous_so_the_index_can_be_chained():
    by_country: dict[str, list[int]] = {}
    for r in _seed():
        by_country.setdefault(r["country_code"], []).append(int(r["year"]))
    assert set(by_country) == {"RU", "KG"}
    for years in by_country.values():
        assert years == list(range(min(years), max(years) + 1))
    assert max(by_country["RU"]) == 2021  # the default base year must be covered
