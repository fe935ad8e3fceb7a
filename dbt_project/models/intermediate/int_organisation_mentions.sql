-- Every mention of a recipient organisation in every source, with its identifiers as
-- reported and flags; the key is resolved in dim_organisation.
select
    'fpg' as source,
    application_number as native_id,
    organisation_name,
    inn,
    inn_valid,
    ogrn,
    ogrn_valid,
    region_code,
    contest_year as year
from {{ ref('int_fpg__applications') }}

union all

select
    'oprf2013' as source,
    grant_key as native_id,
    organisation_name,
    null as inn,
    null as inn_valid,
    ogrn,
    ogrn_valid,
    region_code,
    2013 as year
from {{ ref('stg_oprf2013__grants') }}

union all

select
    'sonko' as source,
    registry_region_code || ':' || registry_year || ':' || record_number as native_id,
    organisation_name,
    inn,
    inn_valid,
    ogrn,
    ogrn_valid,
    coalesce(region_code, registry_region_code) as region_code,
    registry_year as year
from {{ ref('stg_sonko__registry2011') }}

union all

select
    'sonko_federal' as source,
    inn || ':' || source_row as native_id,
    full_name as organisation_name,
    inn,
    inn_valid,
    ogrn,
    ogrn_valid,
    region_code,
    year(decision_date) as year
from {{ ref('stg_sonko__federal') }}
