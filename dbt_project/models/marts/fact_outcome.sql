-- What the money achieved: one row per indicator value, with its period, programme or
-- project, organisation, region and the source row it came from. Indicator codes come
-- from the seed `indicators` (a code no source row matches is kept as `other`, with the
-- words in `value_text` / `noun`), so the same indicator from two sources adds up.
with fpg_texts as (
    select *, 'project_evaluation' as kind, evaluation as text
    from {{ ref('fact_application') }} where evaluation is not null
    union all
    select *, 'violations', violations
    from {{ ref('fact_application') }} where violations is not null
),

fpg as (
    select
        'fpg:' || application_number || ':' || kind as outcome_id,
        'fpg' as source,
        kind as indicator,
        1 as value,
        null::decimal(18, 3) as value_max,
        'единиц' as unit,
        text as value_text,
        null as qualifier,
        null as noun,
        year,
        programme_id,
        case when is_winner then {{ grant_id('fpg', 'application_number') }} end as grant_id,
        organisation_key,
        region_reported,
        region_code,
        null as sentence,
        source_url,
        raw_sha256
    from fpg_texts
),

registry as (
    select
        grant_id || ':violations', 'sonko', 'violations', 1, null, 'единиц', violations,
        null, null, year, programme_id, grant_id, organisation_key, null, region_code, null,
        source_url, raw_sha256
    from {{ ref('fact_grant') }}
    where source = 'sonko' and violations is not null
),

curated as (
    select
        'curated:' || figure_id, 'curated', indicator, value, null, unit, value_text, null,
        null, year, 'curated:programme:' || programme, null, null, municipality, region_code,
        locator, source_url, raw_sha256
    from {{ ref('stg_curated__figures') }}
    where funding_kind = 'outcome'
),

practice as (
    select
        'practice:' || indicator_id, 'practice', indicator, value, value_max, unit, value_text,
        qualifier, noun, year(published_on), null, null, null, region_reported, region_code,
        sentence, source_url, raw_sha256
    from {{ ref('stg_practice__indicators') }}
),

programme as (
    select
        'programme:' || indicator_id, 'programme', indicator, value, value_max, unit,
        value_text, qualifier, noun, null, 'programme:card:' || programme, null, null,
        region_reported, region_code, sentence, source_url, raw_sha256
    from {{ ref('stg_programme__indicators') }}
),

unioned as (
    select * from fpg
    union all select * from registry
    union all select * from curated
    union all select * from practice
    union all select * from programme
)

select
    u.outcome_id,
    u.source,
    case when i.indicator is not null then u.indicator else 'other' end as indicator,
    u.value::decimal(18, 3) as value,
    u.value_max::decimal(18, 3) as value_max,
    u.unit,
    u.value_text,
    u.qualifier,
    u.noun,
    u.year,
    u.programme_id,
    u.grant_id,
    u.organisation_key,
    u.region_reported,
    u.region_code,
    u.sentence,
    u.source_url,
    u.raw_sha256
from unioned as u
left join {{ ref('indicators') }} as i on i.indicator = u.indicator
