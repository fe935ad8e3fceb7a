-- A profile per organisation, ready for export: identity, where it works, how it was
-- matched across sources, and every source's money in one row.
with funding as (
    select
        organisation_key,
        sum(amount) filter (where funding_group = 'budget') as budget_funding,
        sum(amount) filter (where funding_kind = 'cofinancing') as cofinancing_declared,
        list_sort(list_distinct(list(source))) as funding_sources
    from {{ ref('fact_funding') }}
    where organisation_key is not null
    group by organisation_key
)

select
    o.organisation_key,
    o.name,
    o.legal_form,
    o.inn,
    o.ogrn,
    o.region_code,
    r.name as region_name,
    o.match_method,
    o.sources,
    o.first_year,
    o.last_year,
    o.grants,
    o.amount_awarded,
    o.cofinancing,
    coalesce(f.budget_funding, 0)::decimal(18, 2) as budget_funding,
    o.grant_regions,
    len(o.grant_regions) as regions_active,
    o.has_several_ogrn,
    o.overridden
from {{ ref('dim_organisation') }} as o
left join {{ ref('dim_region') }} as r on r.region_code = o.region_code
left join funding as f on f.organisation_key = o.organisation_key
