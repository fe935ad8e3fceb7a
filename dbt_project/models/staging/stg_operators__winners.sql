-- Presidential grants through operators 2007–2012, one row per listed grant as its list
-- gives it (both copies of «Сопротивление» 2009: int_operators__winners makes one list).
-- The recipient's region from the list's region, else its city, else the subject code of
-- its ИНН (Госклуб); the territory a project serves is kept as written.
with source as (
    select
        *,
        -- `г. Орел`, `г.Санкт-Петербург`: the city seed names the city alone.
        regexp_replace(city, '^\s*(г|гор|город)(\.\s*|\s+)', '', 'i') as city_name
    from {{ source('raw', 'operators__winners') }}
),

{{ region_lookups() }}

select
    s.record_key,
    s.operator_key,
    s.operator,
    s.year,
    s.copy,
    case when s.copy ilike '%.xls%' then 'workbook' else 'csv' end as copy_kind,
    s.sheet,
    s.row_number,
    s.application_number,
    s.grant_key,
    s.organisation_name,
    s.inn,
    s.inn_valid,
    s.title,
    s.region as region_reported,
    s.city,
    s.federal_district,
    s.place,
    s.territory,
    s.amount,
    s.amount_text,
    s.continued_rows,
    {{ region_code_of('r', 's.region') }} as region_code,
    {{ region_method_of('r', 's.region') }} as region_method,
    {{ lineage_columns('s') }}
from source as s
{{ resolve_region('r', 's.region', 's.city_name', 'null::varchar', 's.inn') }}
