-- Money by programme × year × territory × funding kind, each figure with its basis and
-- the source row it came from. `amount` is DECIMAL(18,2) in `currency`, as the source
-- gives it; `amount_rub` is the same money in rubles: a ruble amount itself, another
-- currency's (KGS) at its year's cross rate through the US dollar (int_rub_rates), or
-- null when that year has no rate. Real rubles are `amount_rub` deflated by the Russian
-- price series, whatever the territory: once converted, the money is rubles.
with unioned as (
    select * from {{ ref('int_funding__grants') }}
    union all by name
    select * from {{ ref('int_funding__budget_reports') }}
    union all by name
    select * from {{ ref('int_funding__municipal') }}
    union all by name
    select * from {{ ref('int_funding__allocations') }}
),

in_rubles as (
    select
        u.*,
        r.rub_rate,
        r.rub_rate_source,
        case when u.currency = 'RUB' then u.amount
             else round(u.amount * r.rub_rate, 2) end::decimal(18, 2) as amount_rub
    from unioned as u
    left join {{ ref('int_rub_rates') }} as r on r.currency = u.currency and r.year = u.year
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
    u.amount_rub,
    u.rub_rate,
    u.rub_rate_source,
    round(u.amount_rub * pi.to_base_year, 2)::decimal(18, 2) as amount_real,
    {{ var('real_base_year') }} as real_base_year,
    u.amount_rub is null or pi.to_base_year is null as real_missing,
    u.organisation_key,
    u.grant_id,
    u.source_url,
    u.raw_sha256
from in_rubles as u
left join {{ ref('funding_basis_precedence') }} as p on p.basis = u.basis
left join {{ ref('int_price_index') }} as pi on pi.country_code = 'RU' and pi.year = u.year
