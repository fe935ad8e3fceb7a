-- An operator's listed grants come to more than its allocation for the year: the list and
-- the allocation are the same money, so a list above it is a list to check (a grant listed
-- twice, an amount misread, a list of another year). A warning: the figures stay as the
-- documents give them. A row names the operator, the year and both figures.
{{ config(severity='warn') }}

select operator_key, operator, year, allocation, listed_amount
from {{ ref('mart_operator_reconciliation') }}
where listed_amount > allocation
