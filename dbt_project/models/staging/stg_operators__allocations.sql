-- Each operator's allocation per year 2009–2013 (the programme's budget workbook): the
-- operator's share of the year's budget, with the decree that set it.
with source as (
    select * from {{ source('raw', 'operators__allocations') }}
)

select
    allocation_key,
    operator_key,
    operator,
    operator_as_written,
    operator_website,
    theme,
    year,
    amount,
    amount_text,
    programme_budget,
    programme_budget_text,
    decree,
    decree_url,
    {{ lineage_columns() }}
from source
