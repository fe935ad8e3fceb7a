"""The exchange-rate seed holds exactly the World Bank's published rates (PA.NUS.FCRF),
every year the reference download has, each row naming the indicator and the download."""

import csv

from tests.conftest import REFERENCE, REPO

SEED = REPO / "dbt_project" / "seeds" / "exchange_rates.csv"
WDI = REFERENCE / "worldbank_wdi_exchange_rates_rus_kgz.csv"
COUNTRIES = {"RUS": ("RU", "RUB"), "KGZ": ("KG", "KGS")}


def _published() -> dict[tuple[str, int], str]:
    """(currency, year) -> LCU per US$, read straight from the WDI download."""
    with WDI.open(encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.reader(fh) if r]
    (header,) = [r for r in rows if r[:2] == ["Country Name", "Country Code"]]
    out = {}
    for row in rows:
        if len(row) > 3 and row[1] in COUNTRIES:
            assert row[3] == "PA.NUS.FCRF", row[:4]
            for i, cell in enumerate(row[4:], start=4):
                if cell:
                    out[(COUNTRIES[row[1]][1], int(header[i]))] = cell
    return out


def _seed() -> list[dict]:
    with SEED.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_every_figure_is_the_published_one_and_none_is_added():
    published = _published()
    seed = {(r["currency"], int(r["year"])): r for r in _seed()}
    assert len(seed) == len(_seed())  # one rate per currency and year
    assert set(seed) == set(published)
    for key, value in published.items():
        assert seed[key]["units_per_usd"] == value, key
    # The reference README: Russia 2024 92.5524 RUB/US$, Kyrgyzstan 2024 87.1503 KGS/US$.
    assert float(seed[("RUB", 2024)]["units_per_usd"]) == 92.5524
    assert round(float(seed[("KGS", 2024)]["units_per_usd"]), 4) == 87.1503


def test_each_row_names_its_country_the_indicator_and_the_download():
    with WDI.open(encoding="utf-8-sig", newline="") as fh:
        (updated,) = [r[1] for r in csv.reader(fh) if r and r[0] == "Last Updated Date"]
    for row in _seed():
        assert (row["country_code"], row["currency"]) in COUNTRIES.values(), row
        assert "World Bank" in row["source"] and "PA.NUS.FCRF" in row["source"], row
        assert f"last updated {updated}" in row["source"], row


def test_both_currencies_reach_the_latest_measured_year_and_gaps_stay_gaps():
    years = {c: {int(r["year"]) for r in _seed() if r["currency"] == c} for c in ("RUB", "KGS")}
    assert max(years["RUB"]) == max(years["KGS"]) == 2024
    # The download has no Russian rate for 1994-1995: those years get none (no cross
    # rate for a som amount), never one filled in.
    assert {1994, 1995}.isdisjoint(years["RUB"]) and {1994, 1995} <= years["KGS"]
