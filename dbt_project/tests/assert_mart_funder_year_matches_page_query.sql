-- mart_funder_year gives, per funder, the RUB total and the first and last year the page's
-- funders chart computed itself from fact_funding before the chart read the mart: the
-- same precedence rule written out here as the page wrote it (the best basis_precedence
-- per funder, year, territory and budget level), after one basis per programme and year
-- (an operator's allocation and its listed grants are the same money). A row is a funder
-- on which they differ. In Dagster it is a check of mart_funder_year (it reads three models).
{{ config(meta={'dagster': {'ref': {'name': 'mart_funder_year'}}}) }}

with one_basis_per_programme as (
    select *
    from {{ ref('fact_funding') }}
    where funding_group = 'budget'
    qualify programme_id is null or basis_precedence = min(basis_precedence) over (
        partition by programme_id, year, funding_kind)
),

by_basis as (
    select p.funder, f.year, f.region_code, f.funding_kind, f.basis_precedence,
           sum(f.amount) as amount
    from one_basis_per_programme as f
    join {{ ref('dim_programme') }} as p using (programme_id)
    where f.currency = 'RUB' and p.funder is not null
    group by p.funder, f.year, f.region_code, f.funding_kind, f.basis_precedence
    qualify row_number() over (
        partition by p.funder, f.year, f.region_code, f.funding_kind
        order by f.basis_precedence) = 1
),

page as (
    select funder, sum(amount) as amount, min(year) as first_year, max(year) as last_year
    from by_basis
    group by funder
),

mart as (
    select funder, sum(budget_total) as amount, min(year) as first_year, max(year) as last_year
    from {{ ref('mart_funder_year') }}
    where currency = 'RUB'
    group by funder
)

select
    funder,
    page.amount as page_amount,
    mart.amount as mart_amount,
    page.first_year as page_first_year,
    mart.first_year as mart_first_year,
    page.last_year as page_last_year,
    mart.last_year as mart_last_year
from page
full outer join mart using (funder)
where page.amount is distinct from mart.amount
   or page.first_year is distinct from mart.first_year
   or page.last_year is distinct from mart.last_year
