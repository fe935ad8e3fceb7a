-- One row per organisation, keyed by valid ИНН (else valid ОГРН, else a flagged name key
-- within a region), with every source that mentions it and what it received.
with keyed as (
    select * from {{ ref('int_organisation_keys') }}
),

renamed as (
    select organisation_key, any_value(name) as name
    from {{ ref('organisation_overrides') }}
    where action = 'rename'
    group by organisation_key
),

grants as (
    select
        organisation_key,
        count(*) as grants,
        sum(amount_awarded) as amount_awarded,
        sum(cofinancing) as cofinancing,
        list_sort(list_distinct(list(region_code))) as grant_regions
    from {{ ref('fact_grant') }}
    group by organisation_key
),

organisations as (
    select
        organisation_key,
        -- inn beats ogrn beats name: the strongest way any mention was joined.
        case when bool_or(match_method = 'inn') then 'inn'
             when bool_or(match_method = 'ogrn') then 'ogrn'
             else 'name_region' end as match_method,
        -- A tie between equally frequent values goes to the first in order, so a rebuild
        -- from the same documents gives the same row (the change feed shows no false change).
        mode(organisation_name order by organisation_name) as name_reported,
        mode(name_core order by name_core) as name_core,
        mode(legal_form order by legal_form) as legal_form,
        max(case when inn_valid then inn end) as inn,
        max(case when ogrn_valid then ogrn end) as ogrn,
        count(distinct case when ogrn_valid then ogrn end) > 1 as has_several_ogrn,
        mode(region_code order by region_code) as region_code,
        list_sort(list_distinct(list(source))) as sources,
        count(*) as mentions,
        min(year) as first_year,
        max(year) as last_year,
        bool_or(overridden) as overridden
    from keyed
    group by organisation_key
)

select
    o.organisation_key,
    o.match_method,
    coalesce(r.name, o.name_reported) as name,
    o.name_core,
    o.legal_form,
    o.inn,
    o.ogrn,
    o.has_several_ogrn,
    o.region_code,
    o.sources,
    o.mentions,
    o.first_year,
    o.last_year,
    coalesce(g.grants, 0) as grants,
    coalesce(g.amount_awarded, 0)::decimal(18, 2) as amount_awarded,
    g.cofinancing::decimal(18, 2) as cofinancing,
    coalesce(g.grant_regions, []) as grant_regions,
    o.overridden or r.name is not null as overridden
from organisations as o
left join renamed as r on r.organisation_key = o.organisation_key
left join grants as g on g.organisation_key = o.organisation_key
