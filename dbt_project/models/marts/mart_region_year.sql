-- Applications, grants, amounts awarded and co-financing by recipient region and year:
-- the table most people start from.
with applications as (
    select region_code, year, count(*) as applications
    from {{ ref('fact_application') }}
    group by all
),

grants as (
    select
        region_code,
        year,
        count(*) as grants,
        sum(amount_awarded) as amount_awarded,
        sum(cofinancing) as cofinancing,
        count(cofinancing) as grants_with_cofinancing,
        list_sort(list_distinct(list(source))) as sources
    from {{ ref('fact_grant') }}
    group by all
)

select
    coalesce(g.region_code, a.region_code) as region_code,
    r.name as region_name,
    r.federal_district,
    coalesce(g.year, a.year) as year,
    coalesce(a.applications, 0) as applications,
    coalesce(g.grants, 0) as grants,
    coalesce(g.amount_awarded, 0)::decimal(18, 2) as amount_awarded,
    g.cofinancing::decimal(18, 2) as cofinancing,
    coalesce(g.grants_with_cofinancing, 0) as grants_with_cofinancing,
    coalesce(g.sources, []) as sources
from grants as g
full outer join applications as a
    on a.region_code is not distinct from g.region_code and a.year = g.year
left join {{ ref('dim_region') }} as r on r.region_code = coalesce(g.region_code, a.region_code)
