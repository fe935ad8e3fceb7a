-- Regional registries of support to socially oriented NGOs: one support decision per row.
-- The registry names no region per record: a record's region is its ОГРН's subject code;
-- the registry's own region (part of the key) is the one most of its records share.
with source as (
    select * from {{ source('raw', 'sonko__registry2011') }}
),

{{ region_lookups() }},

resolved as (
    select
        s.*,
        {{ region_code_of('r', 'null::varchar') }} as region_code,
        {{ region_method_of('r', 'null::varchar') }} as region_method
    from source as s
    {{ resolve_region('r', 'null::varchar', 'null::varchar', 's.ogrn') }}
),

registered as (
    select *, mode(region_code) over (partition by _source_url) as registry_region_code
    from resolved
)

select
    registry_region_code || ':' || registry_year || ':' || record_number as decision_key,
    registry_region_code,
    registry_year,
    record_number,
    included_on,
    decision_date,
    decision_text,
    organisation_name,
    address,
    ogrn,
    ogrn_valid,
    inn,
    inn_valid,
    activities,
    support_form,
    budget_level,
    amount,
    support_term,
    term_year,
    violations,
    not_carried_out,
    authority,
    region_code,
    region_method,
    {{ lineage_columns() }}
from registered
