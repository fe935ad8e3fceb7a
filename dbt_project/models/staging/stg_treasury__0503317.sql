-- Treasury execution reports, expense type 630 (subsidies to non-profits), one row per line
-- × budget column, with the region resolved from the report's own name for it.
with source as (
    select * from {{ source('raw', 'treasury__0503317') }}
),

{{ region_lookups() }}

select
    s._source_url || '#' || s.sheet || '!' || s._row || ':' || s.budget as line_id,
    s.region_name as region_reported,
    {{ region_code_of('r', 's.region_name') }} as region_code,
    {{ region_method_of('r', 's.region_name') }} as region_method,
    s.year,
    s.report_date,
    s.budget,
    s.kbk,
    s.line_code,
    s.line_name,
    s.unit_multiplier,
    s.approved,
    s.executed,
    s.sheet,
    {{ lineage_columns('s') }}
from source as s
{{ resolve_region('r', 's.region_name', 'null::varchar', 'null::varchar') }}
