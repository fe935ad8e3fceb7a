-- Budget money per funder (dim_programme.funder) and year: the figures of the page's
-- funders chart. Sources overlap, so for each programme × year, then for each funder ×
-- year × territory × budget level, one basis is taken by the precedence of the seed
-- `funding_basis_precedence` (the macro `budget_bases`, as in mart_budget_vs_attracted);
-- the others are not added.
with funding as (
    select
        p.funder,
        f.programme_id,
        f.year,
        f.currency,
        f.region_code,
        f.funding_kind,
        f.funding_group,
        f.basis,
        f.basis_precedence,
        f.amount
    from {{ ref('fact_funding') }} as f
    join {{ ref('dim_programme') }} as p on p.programme_id = f.programme_id
    where p.funder is not null
),

{{ budget_bases(['funder', 'year', 'currency', 'region_code']) }}

select
    funder,
    year,
    currency,
    sum(amount)::decimal(18, 2) as budget_total
from chosen
group by funder, year, currency
