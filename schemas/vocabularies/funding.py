"""Curated figures: whose money, what is measured, in which unit, and the flags.

`raw.curated__figures` takes `funding_kind` from `FUNDING_KINDS`, `indicator` from
`INDICATORS`, `unit` from `UNITS` and every name of `flag` (separated by
`FLAG_SEPARATOR`) from `FLAGS`. Money indicators take a money kind and a money unit,
the others a count unit.
"""

from __future__ import annotations

from decimal import Decimal

# Whose money a figure is, or `outcome` for what a programme did or reached.
MONEY_KINDS = frozenset({
    "municipal_budget",        # a city's or district's budget (Perm: «средства бюджета»)
    "regional_budget",
    "federal_budget",
    "business",                # companies' money: customers, sponsors of a fund
    "attracted_by_executors",  # «средства, привлеченные исполнителями», «привлечено»
    "cofinancing",             # the applicant's own contribution
    "foreign_donor",           # a foreign government's or donor's programme (GIZ …)
})
FUNDING_KINDS = MONEY_KINDS | {"outcome"}

# What is measured. Money indicators take a money unit, the others a count unit.
MONEY_INDICATORS = frozenset({
    "funds",             # money of the row's funding kind
    "competition_fund",  # a competition's whole fund, as announced
    "contribution",      # one party's share of a fund (`party` names it)
})
COUNT_INDICATORS = frozenset({
    "budget_customers",      # customers from the budget sphere placing a social order
    "business_customers",    # companies placing an order
    "municipalities",        # municipalities taking part
    "funders",
    "projects_submitted",
    "projects_funded",
    "participants",          # people taking part in the projects' events
    "events",                # events of any kind, where a source gives no kind
    "holidays",              # «праздники»
    "exhibitions",
    "concerts",
    "sports_competitions",
    "seminars",
    "lectures",
    "improvement_events",    # «мероприятия по благоустройству»
    "playgrounds",           # «спортивно-игровые площадки»
    "territories_improved",  # «обустроенные территории»
    "publications",          # «издания»
    "media_stories",         # «сюжеты в СМИ»
})
INDICATORS = MONEY_INDICATORS | COUNT_INDICATORS

# Unit as written in a curated file -> (currency, scale). Count units have neither.
UNITS: dict[str, tuple[str | None, Decimal | None]] = {
    "руб.": ("RUB", Decimal(1)),
    "тыс. руб.": ("RUB", Decimal(1000)),
    "млн руб.": ("RUB", Decimal(1_000_000)),
    "сом": ("KGS", Decimal(1)),
    "тыс. сом": ("KGS", Decimal(1000)),
    "человек": (None, None),
    "единиц": (None, None),
}

FLAGS = frozenset({
    "parts_do_not_add_up",  # a total and its published parts disagree; both kept
    "year_not_stated",      # the document gives no year for the figure
    "year_inferred",        # the year is read from a date elsewhere on the same slide or page
})
FLAG_SEPARATOR = ";"
