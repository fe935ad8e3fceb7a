-- One row per award or support decision: ФПГ winners, the presidential grants through
-- operators (the operators' own lists 2007–2012, one list per operator and year, and the
-- 2013 file), and the decisions of the regional registries of support to socially
-- oriented NGOs. The year is the year the award was decided (for ФПГ the contest year,
-- for an operator's list the list's year). No person's name is loaded.
with fpg as (
    select
        {{ grant_id('fpg', 'application_number') }} as grant_id,
        'fpg' as source,
        application_number as native_id,
        programme_id,
        direction_programme_id,
        year,
        title,
        organisation_key,
        organisation_name as recipient_name,
        inn,
        inn_valid,
        ogrn,
        ogrn_valid,
        region_code,
        region_method,
        amount_requested,
        amount_awarded,
        cofinancing,
        amount_transferred,
        currency,
        start_date,
        end_date,
        decision_date,
        status,
        evaluation,
        violations,
        status_disagrees or amount_disagrees as sources_disagree,
        false as repaired,
        'federal' as budget_level,
        'грант' as support_form,
        null::boolean as carried_out,
        source_url,
        raw_sha256
    from {{ ref('fact_application') }}
    where is_winner
),

oprf as (
    select
        {{ grant_id('oprf2013', 'g.grant_key') }} as grant_id,
        'oprf2013' as source,
        g.grant_key as native_id,
        {{ operator_programme_id('g.operator_key', '2013') }} as programme_id,
        null as direction_programme_id,
        2013 as year,
        g.title,
        k.organisation_key,
        g.organisation_name as recipient_name,
        null as inn,
        null::boolean as inn_valid,
        g.ogrn,
        g.ogrn_valid,
        g.region_code,
        g.region_method,
        null::decimal(18, 2) as amount_requested,
        g.amount as amount_awarded,
        null::decimal(18, 2) as cofinancing,
        null::decimal(18, 2) as amount_transferred,
        'RUB' as currency,
        null::date as start_date,
        null::date as end_date,
        null::date as decision_date,
        'победитель конкурса' as status,
        null as evaluation,
        null as violations,
        false as sources_disagree,
        g.repaired,
        'federal' as budget_level,
        'грант' as support_form,
        null::boolean as carried_out,
        g.source_url,
        g.raw_sha256
    from {{ ref('stg_oprf2013__grants') }} as g
    left join {{ ref('int_organisation_keys') }} as k
        on k.source = 'oprf2013' and k.native_id = g.grant_key
),

operators as (
    select
        {{ grant_id('operators', 'w.listed_grant_key') }} as grant_id,
        'operators' as source,
        w.listed_grant_key as native_id,
        {{ operator_programme_id('w.operator_key', 'w.year') }} as programme_id,
        null as direction_programme_id,
        w.year,
        w.title,
        k.organisation_key,
        w.organisation_name as recipient_name,
        w.inn,
        w.inn_valid,
        null as ogrn,
        null::boolean as ogrn_valid,
        w.region_code,
        w.region_method,
        null::decimal(18, 2) as amount_requested,
        w.amount as amount_awarded,
        null::decimal(18, 2) as cofinancing,
        null::decimal(18, 2) as amount_transferred,
        'RUB' as currency,
        null::date as start_date,
        null::date as end_date,
        null::date as decision_date,
        'победитель конкурса' as status,
        null as evaluation,
        null as violations,
        -- The two copies of a list disagree on this grant (int_operators__winners).
        len(w.differences) > 0 as sources_disagree,
        false as repaired,
        'federal' as budget_level,
        'грант' as support_form,
        null::boolean as carried_out,
        w.source_url,
        w.raw_sha256
    from {{ ref('int_operators__winners') }} as w
    left join {{ ref('int_organisation_keys') }} as k
        on k.source = 'operators' and k.native_id = w.listed_grant_key
),

sonko as (
    select
        {{ grant_id('sonko', 'r.decision_key') }} as grant_id,
        'sonko' as source,
        r.decision_key as native_id,
        'sonko:authority:' || r.authority as programme_id,
        null as direction_programme_id,
        r.registry_year as year,
        null as title,
        k.organisation_key,
        r.organisation_name as recipient_name,
        r.inn,
        r.inn_valid,
        r.ogrn,
        r.ogrn_valid,
        coalesce(r.region_code, r.registry_region_code) as region_code,
        case when r.region_code is not null then r.region_method else 'registry_region' end
            as region_method,
        null::decimal(18, 2) as amount_requested,
        r.amount as amount_awarded,
        null::decimal(18, 2) as cofinancing,
        null::decimal(18, 2) as amount_transferred,
        'RUB' as currency,
        null::date as start_date,
        null::date as end_date,
        r.decision_date,
        case when r.not_carried_out then 'решение не исполнено' else 'поддержка оказана' end
            as status,
        null as evaluation,
        r.violations,
        false as sources_disagree,
        false as repaired,
        r.budget_level,
        r.support_form,
        not r.not_carried_out as carried_out,
        r.source_url,
        r.raw_sha256
    from {{ ref('stg_sonko__registry2011') }} as r
    left join {{ ref('int_organisation_keys') }} as k
        on k.source = 'sonko' and k.native_id = r.decision_key
)

select * from fpg
union all by name
select * from oprf
union all by name
select * from operators
union all by name
select * from sonko
