{# Budget money by basis, and the one basis taken, as CTEs: `budget_by_basis` (the sum of
   every basis per group and budget level, for comparison), `budget_rows` (the budget rows,
   one basis per programme and year) and `chosen` (of those, per group and budget level the
   basis of the best precedence in the seed `funding_basis_precedence`, 1 first). Sources overlap — the
   treasury's expense type 630 contains the subsidies the registries list, an operator's
   allocation is the money its list of winners names — so bases are compared, never added.
   A programme's money for a year is taken on one basis first: an allocation (a figure for
   the whole programme, with no territory) and the grants of the same programme listed by
   region are the same money, so only the better basis of the two enters, whatever the
   group. `funding` names a relation or CTE with the columns of fact_funding the keys need
   and `programme_id`. Every mart that weighs budget money by basis uses this. #}
{% macro budget_bases(keys, funding='funding') -%}
{%- set cols = keys | join(', ') -%}
budget_by_basis as (
    select {{ cols }}, funding_kind, basis, basis_precedence, sum(amount) as amount
    from {{ funding }}
    where funding_group = 'budget'
    group by all
),

budget_rows as (
    select *
    from {{ funding }}
    where funding_group = 'budget'
    qualify programme_id is null
         or basis_precedence = min(basis_precedence) over (
                partition by programme_id, year, funding_kind)
),

chosen as (
    select *
    from (
        select {{ cols }}, funding_kind, basis, basis_precedence, sum(amount) as amount
        from budget_rows
        group by all
    )
    qualify row_number() over (
        partition by {{ cols }}, funding_kind order by basis_precedence
    ) = 1
)
{%- endmacro %}

{# Budget versus attracted money, grouped by the given key columns (region and year, or
   programme and year). For each group and budget level one basis is taken
   (`budget_bases`) and the others are listed beside it for comparison, never added.
   Attracted money (business, co-financing, funds attracted by executors, foreign donors)
   is summed over all sources. The sums are rubles: money in another currency enters at its
   year's rate (fact_funding.amount_rub); a figure whose year has no rate cannot be added
   in rubles and is left out. Grouped by region, figures of a whole programme with no
   territory (a basis the seed marks `programme_level`: an operator's allocation) are left
   out: never shown under no region, never added to a region's money. #}
{% macro budget_vs_attracted(keys) %}
{%- set cols = keys | join(', ') -%}
with funding as (
    select f.* exclude (amount), f.amount_rub as amount
    from {{ ref('fact_funding') }} as f
    {%- if 'region_code' in keys %}
    join {{ ref('funding_basis_precedence') }} as b
        on b.basis = f.basis and not b.programme_level
    {%- endif %}
    where f.amount_rub is not null
),

{{ budget_bases(keys) }},

budget as (
    select
        {{ cols }},
        sum(amount) filter (where funding_kind = 'federal_budget') as budget_federal,
        sum(amount) filter (where funding_kind = 'regional_budget') as budget_regional,
        sum(amount) filter (where funding_kind = 'municipal_budget') as budget_municipal,
        sum(amount) as budget_total,
        list_sort(list(funding_kind || '=' || basis)) as budget_basis
    from chosen
    group by all
),

budget_compared as (
    select
        {{ cols }},
        list_sort(list(funding_kind || '/' || basis || '=' || amount::varchar)) as budget_by_basis
    from budget_by_basis
    group by all
),

attracted as (
    select
        {{ cols }},
        sum(amount) filter (where funding_kind = 'business') as business,
        sum(amount) filter (where funding_kind = 'cofinancing') as cofinancing,
        sum(amount) filter (where funding_kind = 'attracted_by_executors')
            as attracted_by_executors,
        sum(amount) filter (where funding_kind = 'foreign_donor') as foreign_donor,
        sum(amount) as attracted_total
    from funding
    where funding_group = 'attracted'
    group by all
),

coverage as (
    select {{ cols }}, list_sort(list(distinct source || ':' || basis)) as coverage
    from funding
    group by all
),

keys as (
    select {{ cols }} from budget
    union
    select {{ cols }} from attracted
)

select
    {% for k in keys %}k.{{ k }},
    {% endfor -%}
    b.budget_federal::decimal(18, 2) as budget_federal,
    b.budget_regional::decimal(18, 2) as budget_regional,
    b.budget_municipal::decimal(18, 2) as budget_municipal,
    coalesce(b.budget_total, 0)::decimal(18, 2) as budget_total,
    a.business::decimal(18, 2) as business,
    a.cofinancing::decimal(18, 2) as cofinancing,
    a.attracted_by_executors::decimal(18, 2) as attracted_by_executors,
    a.foreign_donor::decimal(18, 2) as foreign_donor,
    coalesce(a.attracted_total, 0)::decimal(18, 2) as attracted_total,
    case when coalesce(b.budget_total, 0) = 0 then null
         else round(coalesce(a.attracted_total, 0) / b.budget_total, 4) end as leverage,
    coalesce(b.budget_basis, []) as budget_basis,
    coalesce(bc.budget_by_basis, []) as budget_by_basis,
    c.coverage
from keys as k
{% for rel in ['budget as b', 'budget_compared as bc', 'attracted as a', 'coverage as c'] -%}
{%- set alias = rel.split(' as ')[1] %}
left join {{ rel }}
    on {% for key in keys %}{% if not loop.first %} and {% endif %}{{ alias }}.{{ key }} is not distinct from k.{{ key }}{% endfor %}
{%- endfor %}
{% endmacro %}
