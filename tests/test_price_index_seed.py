"""The price-index seed holds exactly the published figures, each row naming its source:
the World Bank's series, then the IMF WEO's measured years after it, never a forecast."""

import csv

from tests.conftest import REFERENCE, REPO

SEED = REPO / "dbt_project" / "seeds" / "price_index.csv"
CODES = {"RUS": "RU", "KGZ": "KG"}


def _world_bank() -> dict[tuple[str, int], str]:
    with (REFERENCE / "inflation_worldbank.csv").open(encoding="utf-8") as fh:
        return {(CODES[r["Country Code"]], int(r["Year"])): r["CPI"]
                for r in csv.DictReader(fh) if r["Country Code"] in CODES and r["CPI"]}


def _imf() -> dict[tuple[str, int], dict]:
    with (REFERENCE / "imf_weo_2025-10_cpi_rus_kgz.csv").open(encoding="utf-8") as fh:
        return {(CODES[r["ref_area"]], int(r["year"])): r for r in csv.DictReader(fh)
                if r["concept"] == "PCPIPCH"}


def _seed() -> list[dict]:
    with SEED.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_every_world_bank_figure_is_the_published_one():
    world_bank = _world_bank()
    seed = {(r["country_code"], int(r["year"])): r for r in _seed()}
    for key, value in world_bank.items():
        assert seed[key]["inflation_pct"] == value, key
        assert "World Bank" in seed[key]["source"] and "FP.CPI.TOTL.ZG" in seed[key]["source"]


def test_later_years_are_the_imf_measured_figures_never_a_forecast():
    world_bank, imf = _world_bank(), _imf()
    later = [r for r in _seed() if (r["country_code"], int(r["year"])) not in world_bank]
    assert {(r["country_code"], int(r["year"])) for r in later} == {
        ("RU", 2022), ("RU", 2023), ("RU", 2024), ("KG", 2024)}
    for r in later:
        published = imf[(r["country_code"], int(r["year"]))]
        assert published["is_projection"] == "False"
        assert int(r["year"]) <= int(published["lastactualdate"])
        assert r["inflation_pct"] == published["value"]
        assert "IMF" in r["source"] and "October 2025" in r["source"] and "PCPIPCH" in r["source"]
    # SOURCES.md / the reference README: Russia 2022 13.750, 2023 5.859, 2024 8.444.
    ru = {int(r["year"]): float(r["inflation_pct"]) for r in later if r["country_code"] == "RU"}
    assert ru == {2022: 13.75, 2023: 5.859, 2024: 8.444}


def test_years_are_contiguous_so_the_index_can_be_chained():
    by_country: dict[str, list[int]] = {}
    for r in _seed():
        by_country.setdefault(r["country_code"], []).append(int(r["year"]))
    assert set(by_country) == {"RU", "KG"}
    for years in by_country.values():
        assert years == list(range(min(years), max(years) + 1))
    # The default base year (dbt var real_base_year) must be covered for both countries.
    assert max(by_country["RU"]) == max(by_country["KG"]) == 2024
