-- One row per award: ФПГ winners and the 2013 grants through operators.
-- The year is the year the award was decided (for ФПГ the contest year).
with fpg as (
    select
        'fpg:' || application_number as grant_id,
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
        source_url,
        raw_sha256
    from {{ ref('fact_application') }}
    where is_winner
),

oprf as (
    select
        'oprf2013:' || g.grant_key as grant_id,
        'oprf2013' as source,
        g.grant_key as native_id,
        'oprf2013:operator:' || g.operator as programme_id,
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
        g.source_url,
        g.raw_sha256
    from {{ ref('stg_oprf2013__grants') }} as g
    left join {{ ref('int_organisation_keys') }} as k
        on k.source = 'oprf2013' and k.native_id = g.grant_key
)

select * from fpg
union all by name
select * from oprf
