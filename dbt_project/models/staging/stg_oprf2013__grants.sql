-- Presidential grants 2013 by operator: region from the region column, else the city,
-- else the subject code in the ОГРН. The operator as the file writes it (`ИПГО`, `РСМ`)
-- gets its key among the operators of every year (stg_reference__operator_names).
with source as (
    select * from {{ source('raw', 'oprf2013__grants') }}
),

operators as (
    select name_key, operator_key, operator_name from {{ ref('stg_reference__operator_names') }}
),

{{ region_lookups() }}

select
    s.grant_key,
    s.operator,
    o.operator_key,
    o.operator_name,
    s.row_number,
    s.application_number,
    s.organisation_name,
    s.ogrn,
    s.ogrn_valid,
    s.title,
    s.amount,
    s.region as region_reported,
    s.city,
    s.federal_district,
    {{ region_code_of('r', 's.region') }} as region_code,
    {{ region_method_of('r', 's.region') }} as region_method,
    s.repaired,
    s.repair_note,
    s.source_file,
    {{ lineage_columns('s') }}
from source as s
left join operators as o on o.name_key = {{ name_key('s.operator') }}
{{ resolve_region('r', 's.region', 's.city', 's.ogrn') }}
