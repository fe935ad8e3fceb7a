-- Money from award and support decisions (fact_grant): the award itself at its budget
-- level, and the co-financing the recipient declared. A decision that was not carried
-- out (the agreement was not signed) is not money given: it stays in fact_grant only.
select
    grant_id || ':' || case when budget_level is null then 'budget' else budget_level end
        as funding_id,
    source,
    case when source = 'sonko' then 'registry_decision' else 'competition_result' end as basis,
    programme_id,
    year,
    region_code,
    null as municipality,
    budget_level || '_budget' as funding_kind,
    amount_awarded as amount,
    currency,
    organisation_key,
    grant_id,
    source_url,
    raw_sha256
from {{ ref('fact_grant') }}
where amount_awarded is not null
  and budget_level is not null
  and coalesce(carried_out, true)

union all

select
    grant_id || ':cofinancing',
    source,
    'competition_result',
    programme_id,
    year,
    region_code,
    null,
    'cofinancing',
    cofinancing,
    currency,
    organisation_key,
    grant_id,
    source_url,
    raw_sha256
from {{ ref('fact_grant') }}
where cofinancing is not null
