-- Indicators named in programme cards; the card's regions, where it names any, resolved.
with source as (
    select * from {{ source('raw', 'programme__indicators') }}
),

{{ region_lookups() }}

select
    {{ row_key('s') }} as indicator_id,
    s.page_title as programme,
    s.region_text as region_reported,
    {{ region_code_of('r', 's.region_text') }} as region_code,
    s.value,
    s.value_max,
    s.value_text,
    s.qualifier,
    s.noun,
    s.indicator,
    s.unit,
    s.sentence,
    {{ lineage_columns('s') }}
from source as s
{{ resolve_region('r', 's.region_text', 'null::varchar', 'null::varchar') }}
