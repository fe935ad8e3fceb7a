-- Winners of municipal grant competitions; the territory is the municipality the page
-- belongs to (a city resolves to its region through the city seed).
with source as (
    select * from {{ source('raw', 'municipal__winners') }}
),

{{ region_lookups() }}

select
    {{ row_key('s') }} as winner_id,
    s.competition,
    s.year,
    s.municipality,
    s.nomination,
    s.organisation_name,
    s.inn,
    s.inn_valid,
    s.project_title,
    s.amount,
    s.currency,
    {{ region_code_of('r', 'null::varchar') }} as region_code,
    {{ region_method_of('r', 'null::varchar') }} as region_method,
    {{ lineage_columns('s') }}
from source as s
{{ resolve_region('r', 'null::varchar', 's.municipality', 'null::varchar') }}
