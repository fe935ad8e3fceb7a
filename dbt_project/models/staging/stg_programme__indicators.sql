-- Indicators named in programme cards; the card's regions, where it names any, resolved.
with source as (
    select * from {{ source('raw', 'programme__indicators') }}
),

{{ region_lookups() }}

select
    s._source_url || '#' || s._row as indicator_id,
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
    s._source_url as source_url,
    s._raw_sha256 as raw_sha256
from source as s
{{ resolve_region('r', 's.region_text', 'null::varchar', 'null::varchar') }}
