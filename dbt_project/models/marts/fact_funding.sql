-- Money by programme × year × territory × funding kind, each figure with its basis and
-- the source row it came from. Amounts are rubles (DECIMAL(18,2)); `currency` says so.
with unioned as (
    select * from {{ ref('int_funding__grants') }}
    union all by name
    select * from {{ ref('int_funding__budget_reports') }}
    union all by name
    select * from {{ ref('int_funding__municipal') }}
)

select
    u.funding_id,
    u.source,
    u.basis,
    p.precedence as basis_precedence,
    u.programme_id,
    u.year,
    u.region_code,
    u.municipality,
    case when u.municipality is not null
         then u.region_code || ':' || {{ name_key('u.municipality') }} end as municipality_code,
    u.funding_kind,
    case when u.funding_kind in ('federal_budget', 'regional_budget', 'municipal_budget')
         then 'budget' else 'attracted' end as funding_group,
    u.amount::decimal(18, 2) as amount,
    u.currency,
    case when u.currency = 'RUB' then round(u.amount * pi.to_base_year, 2)::decimal(18, 2)
    end as amount_real,
    {{ var('real_base_year') }} as real_base_year,
    u.currency <> 'RUB' or pi.to_base_year is null as real_missing,
    u.organisation_key,
    u.grant_id,
    u.source_url,
    u.raw_sha256
from unioned as u
left join {{ ref('funding_basis_precedence') }} as p on p.basis = u.basis
left join {{ ref('int_price_index') }} as pi
    on pi.country_code = case when u.region_code = 'KG' then 'KG' else 'RU' end
    and pi.year = u.year
