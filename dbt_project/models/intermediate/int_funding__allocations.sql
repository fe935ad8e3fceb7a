-- The operators' allocations by presidential decree (2009–2013): federal budget money of a
-- programme (operator × year) with no territory. The operator's list of winners is the
-- same money as it reached organisations, under the same programme id: the marts take
-- one of the two by the precedence of their bases (seed `funding_basis_precedence`), and
-- the marts by region leave the allocation out.
select
    'operators:' || a.allocation_key || ':allocation' as funding_id,
    'operators' as source,
    'allocation' as basis,
    {{ operator_programme_id('a.operator_key', 'a.year') }} as programme_id,
    a.year,
    null as region_code,
    null as municipality,
    'federal_budget' as funding_kind,
    a.amount,
    'RUB' as currency,
    null as organisation_key,
    null as grant_id,
    a.source_url,
    a.raw_sha256
from {{ ref('stg_operators__allocations') }} as a
