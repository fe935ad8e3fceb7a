"""The controlled vocabularies of socfund, gathered in one place.

A vocabulary is the list of values a column may hold, or the table that maps what a
source writes to one of them. Parsers map to them and the pandera models check
against them, so both read them from here; nothing here imports a parser or a model.

- `budgets`: the budgets of a treasury report's columns (`BUDGETS`, `BUDGET_NAMES`),
  the units its figures are printed in (`REPORT_UNITS`, `UNIT_MULTIPLIERS`) and the
  budget levels of agreements and registries (`BUDGET_LEVELS`,
  `REGISTRY_BUDGET_LEVELS`).
- `funding`: the curated figures' funding kinds, indicators, units and flags.
- `indicators`: the controlled list of indicators and their counted nouns (the seeds
  `indicators.csv` and `indicator_nouns.csv`, read here), the qualifiers before a
  number and the units of a figure read from text.
- `legal_forms`: the ОКОПФ codes that make a recipient a non-profit of expense type 630.
- `operators`: the operators of the presidential grants 2007–2013, their full names and
  every spelling the lists, the allocation workbook and the 2013 file use (`operator_key`).
- `statuses`: the statuses of a ФПГ application.

The other reference seeds (`regions`, `region_names`, `region_cities`, `legal_forms`,
`funding_basis_precedence`, `price_index`, `organisation_overrides`) are read by dbt
alone; a module that reads a seed at run time names it in its `DATA_FILES`, so a
change to the seed re-parses the loads that use it.

Each vocabulary is a module of its own, and this package imports none of them, so a
parser depends on the seeds of the vocabularies it uses only.
"""

from __future__ import annotations

from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
