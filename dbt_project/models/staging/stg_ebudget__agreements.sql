-- Subsidy agreements with non-profit recipients, one row per agreement × recipient.
-- A registry that changes while it is paged can show an agreement twice: the first copy
-- is kept. The recipient's region is its region code where the seed knows it, else its
-- region name, else its ОГРН.
with source as (
    select *
    from {{ source('raw', 'ebudget__agreements') }}
    qualify row_number() over (
        partition by agreement_id, coalesce(recipient_inn, recipient_name)
        order by _source_url, _row
    ) = 1
),

{{ region_lookups() }}

select
    s.agreement_id || ':' || coalesce(s.recipient_inn, s.recipient_name) as agreement_recipient_id,
    s.agreement_id,
    s.reg_num,
    s.agreement_number,
    s.agreement_date,
    s.start_date,
    s.end_date,
    s.amount,
    s.currency,
    s.grantor_inn,
    s.grantor_name,
    s.budget_level,
    s.budget_code,
    s.purpose,
    s.kbk,
    s.amendment_count,
    s.recipient_count,
    s.recipient_name,
    s.recipient_short_name,
    s.recipient_inn,
    s.recipient_inn_valid,
    s.recipient_kpp,
    s.recipient_ogrn,
    s.recipient_ogrn_valid,
    s.recipient_okopf,
    s.is_nonprofit,
    s.recipient_oktmo,
    s.recipient_region_name as region_reported,
    coalesce(rc.region_code, {{ region_code_of('r', 's.recipient_region_name') }}) as region_code,
    case when rc.region_code is not null then 'source_region'
         else {{ region_method_of('r', 's.recipient_region_name') }} end as region_method,
    s.repaired,
    {{ lineage_columns('s') }}
from source as s
left join {{ ref('regions') }} as rc on rc.region_code = s.recipient_region_code
{{ resolve_region('r', 's.recipient_region_name', 'null::varchar', 's.recipient_ogrn') }}
