-- Budget money from agreements and execution reports.
--  * Agreements (Электронный бюджет): the planned amounts by year, shared equally among an
--    agreement's non-profit recipients (the registry gives no split); later-year plans
--    (`-1`) have no year and are left out. A year's periods are its months or one year
--    row, never both (stg_ebudget__periods), so their sum counts the year once.
--    Recipients whose legal form does not say whether they are non-profit are left out.
--  * Execution reports (form 0503317, expense type 630): the subject's budget is regional
--    money; the consolidated budget less the subject's is municipal money.
with recipients as (
    select *, count(*) over (partition by agreement_id) as kept_recipients
    from {{ ref('stg_ebudget__agreements') }}
    where is_nonprofit
      and budget_level in ('federal', 'regional', 'municipal')
),

agreement_years as (
    select agreement_id, year, sum(amount) as amount
    from {{ ref('stg_ebudget__periods') }}
    where year is not null
    group by all
),

treasury as (
    select region_code, year, budget, sum(executed) as executed,
           any_value(source_url) as source_url, any_value(raw_sha256) as raw_sha256
    from {{ ref('stg_treasury__0503317') }}
    where executed is not null
    group by all
)

select
    'ebudget:' || r.agreement_recipient_id || ':' || y.year as funding_id,
    'ebudget' as source,
    'agreement' as basis,
    'ebudget:grantor:' || r.grantor_name as programme_id,
    y.year,
    r.region_code,
    null as municipality,
    r.budget_level || '_budget' as funding_kind,
    round(y.amount / r.kept_recipients, 2) as amount,
    r.currency,
    k.organisation_key,
    null as grant_id,
    r.source_url,
    r.raw_sha256
from recipients as r
join agreement_years as y on y.agreement_id = r.agreement_id
left join {{ ref('int_organisation_keys') }} as k
    on k.source = 'ebudget'
    and k.native_id = r.agreement_recipient_id
where r.currency = 'RUB'

union all

select
    'treasury:' || s.region_code || ':' || s.year || ':regional',
    'treasury', 'execution_report', null, s.year, s.region_code, null,
    'regional_budget', s.executed, 'RUB', null, null, s.source_url, s.raw_sha256
from treasury as s
where s.budget = 'subject'

union all

select
    'treasury:' || c.region_code || ':' || c.year || ':municipal',
    'treasury', 'execution_report', null, c.year, c.region_code, null,
    'municipal_budget', c.executed - s.executed, 'RUB', null, null, c.source_url, c.raw_sha256
from treasury as c
join treasury as s on s.region_code = c.region_code and s.year = c.year and s.budget = 'subject'
where c.budget = 'consolidated' and c.executed >= s.executed
