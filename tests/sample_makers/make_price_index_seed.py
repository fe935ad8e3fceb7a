"""Write dbt_project/seeds/price_index.csv from the World Bank series in ../shared.

The seed holds exactly the published figures (annual-average consumer price inflation,
% a year, indicator FP.CPI.TOTL.ZG) for the countries socfund covers, each row naming
its source; `tests/test_price_index_seed.py` checks the seed against the reference file.
Run: .venv/bin/python -m tests.sample_makers.make_price_index_seed
"""

import csv
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared" / "data" / "reference" / "inflation_worldbank.csv"
SEED = REPO / "dbt_project" / "seeds" / "price_index.csv"
COUNTRIES = {"RUS": "RU", "KGZ": "KG"}
SOURCE = ("World Bank, indicator FP.CPI.TOTL.ZG (Inflation, consumer prices, annual %), "
          "ODC PDDL 1.0 (datasets/cpi)")


def main() -> None:
    with REFERENCE.open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["Country Code"] in COUNTRIES and r["CPI"]]
    rows.sort(key=lambda r: (COUNTRIES[r["Country Code"]], int(r["Year"])))
    with SEED.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["country_code", "year", "inflation_pct", "source"])
        for r in rows:
            out.writerow([COUNTRIES[r["Country Code"]], r["Year"], r["CPI"], SOURCE])


if __name__ == "__main__":
    main()
