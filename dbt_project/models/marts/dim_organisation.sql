-- One row per organisation, keyed by valid ИНН (else valid ОГРН, else a flagged name key
-- within a region), with every source that mentions it.
with keyed as (
    select * from {{ ref('int_organisation_keys') }}
)

select
    organisation_key,
    any_value(match_method) as match_method,
    mode(organisation_name) as name,
    max(case when inn_valid then inn end) as inn,
    max(case when ogrn_valid then ogrn end) as ogrn,
    count(distinct case when ogrn_valid then ogrn end) > 1 as has_several_ogrn,
    mode(region_code) as region_code,
    list_sort(list_distinct(list(source))) as sources,
    count(*) as mentions,
    min(year) as first_year,
    max(year) as last_year
from keyed
group by organisation_key
