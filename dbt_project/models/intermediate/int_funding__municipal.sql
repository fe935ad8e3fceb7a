-- Municipal money: competition winners (municipal budget) and curated programme figures.
-- Of the curated figures only whole amounts enter (`funds`, `competition_fund`): the
-- `contribution` rows are parts of a competition fund and would count it twice. A figure
-- enters in its own currency (rubles, or som for Kyrgyzstan's): fact_funding converts.
select
    'municipal:' || w.winner_id as funding_id,
    'municipal' as source,
    'competition_result' as basis,
    'municipal:competition:' || w.competition as programme_id,
    w.year,
    w.region_code,
    w.municipality,
    'municipal_budget' as funding_kind,
    w.amount,
    w.currency,
    k.organisation_key,
    null as grant_id,
    w.source_url,
    w.raw_sha256
from {{ ref('stg_municipal__winners') }} as w
left join {{ ref('int_organisation_keys') }} as k
    on k.source = 'municipal' and k.native_id = w.winner_id

union all

select
    'curated:' || f.figure_id,
    'curated',
    'programme_report',
    'curated:programme:' || f.programme,
    f.year,
    f.region_code,
    f.municipality,
    f.funding_kind,
    f.amount,
    f.currency,
    null,
    null,
    f.source_url,
    f.raw_sha256
from {{ ref('stg_curated__figures') }} as f
where f.amount is not null
  and f.indicator in ('funds', 'competition_fund')
  and f.year is not null
