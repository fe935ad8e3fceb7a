"""Write dbt_project/seeds/price_index.csv from the published series in ../shared.

The seed holds exactly the published figures of annual-average consumer price inflation,
% a year, for the countries socfund covers, each row naming its source: the World Bank
(indicator FP.CPI.TOTL.ZG) for every year it publishes, and the IMF World Economic
Outlook (October 2025, concept PCPIPCH) for the later years the World Bank series lacks —
actual years only: a WEO forecast (`is_projection`) is never used as a measurement.
`tests/test_price_index_seed.py` checks the seed against both reference files.
Run: .venv/bin/python -m tests.sample_makers.make_price_index_seed
"""

import csv
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REFERENCE_DIR = REPO.parent / "shared" / "data" / "reference"
WORLD_BANK = REFERENCE_DIR / "inflation_worldbank.csv"
IMF_WEO = REFERENCE_DIR / "imf_weo_2025-10_cpi_rus_kgz.csv"
SEED = REPO / "dbt_project" / "seeds" / "price_index.csv"
COUNTRIES = {"RUS": "RU", "KGZ": "KG"}
WORLD_BANK_SOURCE = ("World Bank, indicator FP.CPI.TOTL.ZG (Inflation, consumer prices, "
                     "annual %), ODC PDDL 1.0 (datasets/cpi)")
IMF_SOURCE = ("IMF, World Economic Outlook Database, October 2025, concept PCPIPCH "
              "(inflation, average consumer prices, % change), actual year")


def world_bank() -> dict[tuple[str, int], str]:
    with WORLD_BANK.open(encoding="utf-8") as fh:
        return {(COUNTRIES[r["Country Code"]], int(r["Year"])): r["CPI"]
                for r in csv.DictReader(fh) if r["Country Code"] in COUNTRIES and r["CPI"]}


def imf_actual() -> dict[tuple[str, int], str]:
    """The WEO's measured annual-average inflation; its forecast years are left out."""
    with IMF_WEO.open(encoding="utf-8") as fh:
        return {(COUNTRIES[r["ref_area"]], int(r["year"])): r["value"]
                for r in csv.DictReader(fh)
                if r["ref_area"] in COUNTRIES and r["concept"] == "PCPIPCH"
                and r["is_projection"] == "False" and r["value"]
                and int(r["year"]) <= int(r["lastactualdate"])}


def series() -> list[tuple[str, int, str, str]]:
    """(country, year, inflation %, source): the World Bank's years, then the IMF's after."""
    rows = {key: (value, WORLD_BANK_SOURCE) for key, value in world_bank().items()}
    last = {c: max(y for cc, y in rows if cc == c) for c, _ in rows}
    for (country, year), value in imf_actual().items():
        if year > last[country]:
            rows[(country, year)] = (value, IMF_SOURCE)
    return [(c, y, v, s) for (c, y), (v, s) in sorted(rows.items())]


def main() -> None:
    with SEED.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["country_code", "year", "inflation_pct", "source"])
        out.writerows(series())


if __name__ == "__main__":
    main()
