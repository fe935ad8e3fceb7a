"""Budgets: the columns of a treasury report, the units it prints, budget levels.

`BUDGETS` maps a budget column's header in form 0503317 (lower case, `ё` as `е`) to our
name for the budget; `raw.treasury__0503317.budget` holds one of `BUDGET_NAMES`.
`REPORT_UNITS` maps the unit a report states (`тыс. руб.`) to the multiplier that makes
its figures rubles; `unit_multiplier` holds one of `UNIT_MULTIPLIERS`.

`BUDGET_LEVELS` are the levels of the budget a subsidy agreement is paid from;
`REGISTRY_BUDGET_LEVELS` those a registry of support names.
"""

from __future__ import annotations

# First match wins, so the more specific texts come first (`городских округов с
# внутригородским делением` before `внутригородских`, `городских и сельских поселений`
# before either kind).
BUDGETS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("консолидированн", "внебюджетн"), "consolidated_with_fund"),
    (("консолидированн",), "consolidated"),
    (("внебюджетн",), "territorial_fund"),
    (("городских округов",), "urban_districts"),
    (("внутригородск",), "intracity_municipalities"),
    (("муниципальных районов",), "municipal_districts"),
    (("муниципальных округов",), "municipal_okrugs"),
    (("городских и сельских поселений",), "settlements"),
    (("городских поселений",), "urban_settlements"),
    (("сельских поселений",), "rural_settlements"),
    (("бюджет субъекта",), "subject"),
    (("муниципальн",), "municipal"),
)
BUDGET_NAMES = sorted({name for _, name in BUDGETS})

# First match wins and `тыс. руб.` holds `руб` too, so the larger units come first.
REPORT_UNITS: tuple[tuple[str, int], ...] = (
    ("млрд", 1_000_000_000), ("млн", 1_000_000), ("тыс", 1_000), ("руб", 1),
)
UNIT_MULTIPLIERS = tuple(sorted(multiplier for _, multiplier in REPORT_UNITS))

BUDGET_LEVELS = frozenset({"federal", "regional", "municipal", "extrabudgetary_fund"})
# A registry's form of support names the federal, a regional or a municipal budget, never
# an extrabudgetary fund.
REGISTRY_BUDGET_LEVELS = BUDGET_LEVELS - {"extrabudgetary_fund"}
