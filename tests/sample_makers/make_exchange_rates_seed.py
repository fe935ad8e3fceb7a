"""Write dbt_project/seeds/exchange_rates.csv from the World Bank's rates in ../shared.

The seed holds exactly the published official exchange rates, local currency units per
US dollar, annual (period) average — World Bank WDI indicator PA.NUS.FCRF — for the
countries socfund covers, every year the download has a figure for, each row naming its
source and the download's date. A som amount becomes rubles at its year's cross rate
through the dollar (RUB per US$ ÷ KGS per US$, the model int_rub_rates); a year either
country lacks has no rate. `tests/test_exchange_rates_seed.py` checks every figure.
Run: .venv/bin/python -m tests.sample_makers.make_exchange_rates_seed
"""

import csv
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WDI = REPO.parent / "shared" / "data" / "reference" / "worldbank_wdi_exchange_rates_rus_kgz.csv"
SEED = REPO / "dbt_project" / "seeds" / "exchange_rates.csv"
INDICATOR = "PA.NUS.FCRF"
# WDI country code -> (ISO 3166-1 alpha-2, ISO 4217 currency)
COUNTRIES = {"RUS": ("RU", "RUB"), "KGZ": ("KG", "KGS")}


def _rows() -> list[list[str]]:
    # The download opens with a byte-order mark and three lines about itself before the
    # header row (`Country Name`, `Country Code`, …, one column per year).
    with WDI.open(encoding="utf-8-sig", newline="") as fh:
        return [row for row in csv.reader(fh) if row]


def last_updated() -> str:
    """The download's `Last Updated Date` (ISO), as its preamble states it."""
    (date,) = [row[1] for row in _rows() if row[0] == "Last Updated Date"]
    return date


def source_text() -> str:
    return (f"World Bank, World Development Indicators, indicator {INDICATOR} (Official "
            f"exchange rate, LCU per US$, period average), CC BY 4.0; WDI download last "
            f"updated {last_updated()}")


def rates() -> dict[tuple[str, int], str]:
    """(WDI country code, year) -> local currency units per US$, as the file writes it."""
    rows = _rows()
    (header,) = [r for r in rows if r[:2] == ["Country Name", "Country Code"]]
    years = {i: int(h) for i, h in enumerate(header) if h.isdigit()}
    out: dict[tuple[str, int], str] = {}
    for row in rows:
        if len(row) > 3 and row[1] in COUNTRIES and row[3] == INDICATOR:
            out.update({(row[1], year): row[i] for i, year in years.items()
                        if i < len(row) and row[i]})
    return out


def series() -> list[tuple[str, str, int, str, str]]:
    """(country, currency, year, units per US$, source), by currency and year."""
    source = source_text()
    rows = [(*COUNTRIES[code], year, value, source) for (code, year), value in rates().items()]
    return sorted(rows, key=lambda r: (r[1], r[2]))


def main() -> None:
    with SEED.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["country_code", "currency", "year", "units_per_usd", "source"])
        out.writerows(series())


if __name__ == "__main__":
    main()
