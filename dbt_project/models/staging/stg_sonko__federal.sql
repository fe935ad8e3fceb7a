-- Federal registry of socially oriented NGOs: one row per support decision, with the
-- registry's date from its file's title (`snapshot_date`).
with source as (
    select * from {{ source('raw', 'sonko__federal') }}
),

{{ region_lookups() }}

select
    {{ row_key('s') }} as decision_id,
    s.inn,
    s.inn_valid,
    s.ogrn,
    s.ogrn_valid,
    s.full_name,
    s.short_name,
    s.address,
    s.legal_form,
    s.okved,
    s.sonko_status,
    s.nko_status,
    s.inclusion_criterion,
    s.authority,
    s.decision_date,
    s.included_on,
    s.snapshot_date,
    {{ region_code_of('r', 'null::varchar') }} as region_code,
    {{ region_method_of('r', 'null::varchar') }} as region_method,
    {{ lineage_columns('s') }}
from source as s
{{ resolve_region('r', 'null::varchar', 'null::varchar', 's.ogrn') }}
