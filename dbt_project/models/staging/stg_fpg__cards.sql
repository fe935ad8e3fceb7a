-- ФПГ project cards: texts, co-financing and transfers; the region comes from the list page.
with source as (
    select * from {{ source('raw', 'fpg__cards') }}
),

list_regions as (
    select application_number, any_value(region) as region
    from {{ source('raw', 'fpg__list_items') }}
    group by application_number
),

{{ region_lookups() }}

select
    s.card_id,
    s.application_number,
    s.contest,
    s.contest_year,
    lower(s.direction) as direction,
    s.title,
    lower(s.status) as status,
    s.rating,
    s.submitted_on,
    s.start_date,
    s.end_date,
    s.organisation_name,
    s.inn,
    s.inn_valid,
    s.ogrn,
    s.ogrn_valid,
    l.region as region_reported,
    {{ region_code_of('r', 'l.region') }} as region_code,
    {{ region_method_of('r', 'l.region') }} as region_method,
    s.amount_requested,
    s.amount_awarded,
    s.cofinancing,
    s.amount_transferred,
    s.total_cost,
    s.summary,
    s.aims,
    s.tasks,
    s.social_significance,
    s.geography,
    s.target_groups,
    s.address,
    s.website,
    {{ lineage_columns('s') }}
from source as s
left join list_regions as l on l.application_number = s.application_number
{{ resolve_region('r', 'l.region', 'null::varchar', 's.ogrn') }}
