-- What each grant operator received against what its list of winners grants, per operator
-- and year 2007–2013: the allocation by decree (2009–2013) and the sum of the grants of its
-- list (the operators' own lists 2007–2012, the 2013 file). The two are the same money
-- counted twice over, not two sums to add: a list should come to the allocation or less
-- (the operator's own costs and grants missing from a list make up the gap). A list whose
-- grants exceed the allocation is reported by the test
-- `assert_listed_grants_within_allocation` (a warning naming the operator and year).
with allocations as (
    select
        {{ operator_programme_id('operator_key', 'year') }} as programme_id,
        operator_key,
        operator,
        year,
        amount,
        decree,
        decree_url
    from {{ ref('stg_operators__allocations') }}
),

lists as (
    select operator_key, year, min(operator) as operator
    from {{ ref('int_operators__winners') }}
    group by operator_key, year
    union all
    select operator_key, 2013, min(operator_name)
    from {{ ref('stg_oprf2013__grants') }}
    group by operator_key
),

listed as (
    select
        programme_id,
        count(*) as listed_grants,
        count(amount_awarded) as listed_with_amount,
        sum(amount_awarded) as listed_amount
    from {{ ref('fact_grant') }}
    where source in ('operators', 'oprf2013')
    group by programme_id
),

operator_years as (
    select
        {{ operator_programme_id('coalesce(a.operator_key, l.operator_key)',
                                 'coalesce(a.year, l.year)') }} as programme_id,
        coalesce(a.operator_key, l.operator_key) as operator_key,
        coalesce(a.operator, l.operator) as operator,
        coalesce(a.year, l.year) as year,
        a.amount as allocation,
        a.decree,
        a.decree_url
    from allocations as a
    full outer join lists as l on l.operator_key = a.operator_key and l.year = a.year
)

select
    o.programme_id,
    o.operator_key,
    o.operator,
    o.year,
    o.allocation::decimal(18, 2) as allocation,
    s.listed_amount::decimal(18, 2) as listed_amount,
    (o.allocation - s.listed_amount)::decimal(18, 2) as gap,
    round(s.listed_amount / nullif(o.allocation, 0), 4)::double as share,
    coalesce(s.listed_grants, 0) as listed_grants,
    coalesce(s.listed_with_amount, 0) as listed_with_amount,
    case when o.allocation is null then 'no allocation'
         when s.programme_id is null then 'no list at hand'
         else 'ok'
    end as status,
    o.decree,
    o.decree_url
from operator_years as o
left join listed as s on s.programme_id = o.programme_id
