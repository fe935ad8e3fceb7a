"""LICENSE.md and CITATION.cff of a release: its licence, the share-alike exception, the
terms of each source it holds rows of (from `pipelines.registry`), and how to cite it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import yaml

from pipelines.publish.markup import render
from pipelines.publish.sources import source_where
from pipelines.registry import Source

PUBLISHER = "socfund"
LICENCE_ID = "CC-BY-4.0"
LICENCE_TITLE = "Creative Commons Attribution 4.0 International"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
SHARE_ALIKE_ID = "CC-BY-SA-4.0"
SHARE_ALIKE_URL = "https://creativecommons.org/licenses/by-sa/4.0/"

# dim_region is built from the seed `regions`, adapted from HFLabs «Регионы России»
# (CC BY-SA 4.0): share-alike obliges us to pass it on under the same licence.
SHARE_ALIKE_TABLES = {
    "dim_region": "adapted from HFLabs «Регионы России» (github.com/hflabs/region), CC BY-SA 4.0",
}

REFERENCE_TERMS: tuple[tuple[str, str], ...] = (
    ("HFLabs «Регионы России» (github.com/hflabs/region) — region codes, OKATO, OKTMO, "
     "ISO 3166-2, federal districts (seeds `regions`, `region_names`)", "CC BY-SA 4.0"),
    ("HFLabs «Города России» (github.com/hflabs/city) — city to region (seed "
     "`region_cities`)", "CC BY-SA 4.0"),
    ("World Bank, consumer price inflation FP.CPI.TOTL.ZG (seed `price_index`, the years "
     "it publishes)", "ODC PDDL 1.0 (datasets/cpi)"),
    ("IMF, World Economic Outlook Database, October 2025, PCPIPCH (seed `price_index`, the "
     "measured years after the World Bank series)", "IMF data, free to reuse with citation: "
     "«IMF, World Economic Outlook Database, October 2025»"),
    ("World Bank, official exchange rate PA.NUS.FCRF, local currency per US$ (seed "
     "`exchange_rates`)", "CC BY 4.0"),
    ("Official region names: Конституция Российской Федерации, ст. 65", "official document, "
     "not an object of copyright (ГК РФ ст. 1259 п. 6)"),
)


def licence_markdown(release_date: date, sources: Sequence[Source]) -> str:
    """LICENSE.md naming `sources` (the declared sources the release holds rows of) with
    their terms."""
    return render("release/licence.md.j2", release_date=release_date.isoformat(),
                  licence={"id": LICENCE_ID, "title": LICENCE_TITLE, "url": LICENCE_URL},
                  share_alike=SHARE_ALIKE_TABLES, share_alike_url=SHARE_ALIKE_URL,
                  sources=sources, where=source_where, reference_terms=REFERENCE_TERMS)


_NO_FOLDING = 1 << 16


def citation(release_date: date) -> dict:
    """The Citation File Format 1.2.0 fields of a release."""
    d = release_date.isoformat()
    return {
        "cff-version": "1.2.0",
        "message": "If you use these data, please cite them as below.",
        "type": "dataset",
        "title": f"socfund: social-sector funding in Russia, release {d}",
        "version": d,
        "date-released": d,
        "license": LICENCE_ID,
        "authors": [{"name": f"{PUBLISHER} contributors"}],
        "abstract": "An open-data warehouse of social-sector funding in Russia and its "
                    "neighbours: grant registries, budget reports and competition results, "
                    "validated, with every rejected record kept in a quarantine with its "
                    "reasons.",
        "keywords": ["grants", "non-profit organisations", "Russia", "open data", "360Giving"],
    }


def citation_cff(release_date: date) -> str:
    """CITATION.cff: `citation` as YAML (dates stay strings, quoted, as CFF reads them; a
    value is never folded over lines)."""
    return yaml.safe_dump(citation(release_date), allow_unicode=True, sort_keys=False,
                          default_flow_style=False, width=_NO_FOLDING)
