-- Presidential grants 2013 by operator: region from the region column, else the city,
-- else the subject code in the ОГРН.
with source as (
    select * from {{ source('raw', 'oprf2013__grants') }}
),

{{ region_lookups() }}

select
    s.grant_key,
    s.operator,
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
{{ resolve_region('r', 's.region', 's.city', 's.ogrn') }}
