-- Every mention of a recipient organisation in every source, with its identifiers as
-- reported and flags; the key is resolved in dim_organisation. A mention's `native_id` is
-- its staging model's grain key, the one fact_grant builds `grant_id` from.
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
    'operators' as source,
    listed_grant_key as native_id,
    organisation_name,
    inn,
    inn_valid,
    null as ogrn,
    null as ogrn_valid,
    region_code,
    year
from {{ ref('int_operators__winners') }}

union all

select
    'sonko' as source,
    decision_key as native_id,
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
    -- A row with no decision date still shows the organisation in the registry on the
    -- registry's own date.
    year(coalesce(decision_date, snapshot_date)) as year
from {{ ref('stg_sonko__federal') }}

union all

select
    'ebudget' as source,
    agreement_recipient_id as native_id,
    recipient_name as organisation_name,
    recipient_inn as inn,
    recipient_inn_valid as inn_valid,
    recipient_ogrn as ogrn,
    recipient_ogrn_valid as ogrn_valid,
    region_code,
    year(coalesce(agreement_date, start_date)) as year
from {{ ref('stg_ebudget__agreements') }}
where is_nonprofit

union all

select
    'municipal' as source,
    winner_id as native_id,
    organisation_name,
    inn,
    inn_valid,
    null as ogrn,
    null as ogrn_valid,
    region_code,
    year
from {{ ref('stg_municipal__winners') }}
