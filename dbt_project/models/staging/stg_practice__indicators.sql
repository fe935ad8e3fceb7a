-- Indicators extracted from best-practice pages, with the page's region resolved.
with source as (
    select * from {{ source('raw', 'practice__indicators') }}
),

{{ region_lookups() }}

select
    {{ row_key('s') }} as indicator_id,
    s.page_title,
    s.published_on,
    s.region_text as region_reported,
    {{ region_code_of('r', 's.region_text') }} as region_code,
    s.value,
    s.value_max,
    s.value_text,
    s.qualifier,
    s.noun,
    s.noun_lemma,
    s.indicator,
    s.unit,
    s.sentence,
    {{ lineage_columns('s') }}
from source as s
{{ resolve_region('r', 's.region_text', 'null::varchar', 'null::varchar') }}
