-- ФПГ bulk file: one row per application; authoritative for status and amounts.
with source as (
    select * from {{ source('raw', 'fpg__applications') }}
),

{{ region_lookups() }}

select
    s.application_number,
    s.contest,
    s.contest_year,
    lower(s.direction) as direction,
    s.organisation_name,
    s.inn,
    s.inn_valid,
    s.ogrn,
    s.ogrn_valid,
    s.region as region_reported,
    {{ region_code_of('r', 's.region') }} as region_code,
    {{ region_method_of('r', 's.region') }} as region_method,
    s.title,
    s.amount_requested,
    s.total_cost,
    s.amount_awarded,
    s.start_date,
    s.end_date,
    lower(s.status) as status,
    s.decision_date,
    s.evaluation,
    s.violations,
    {{ lineage_columns('s') }}
from source as s
{{ resolve_region('r', 's.region', 'null::varchar', 's.ogrn') }}
