-- Consumer price level by country and year, from the published annual-average inflation
-- (seed `price_index`, World Bank FP.CPI.TOTL.ZG): level(y) = Π (1 + inflation(t)/100) over
-- the series up to y. A ruble of year y is worth level(base)/level(y) rubles of the base
-- year (dbt var `real_base_year`). Years the series does not cover get no factor.
with series as (
    select country_code, year, inflation_pct
    from {{ ref('price_index') }}
),

levels as (
    select
        country_code,
        year,
        exp(sum(ln(1 + inflation_pct / 100)) over (
            partition by country_code order by year
            rows between unbounded preceding and current row
        )) as price_level
    from series
),

base as (
    select country_code, price_level as base_level
    from levels
    where year = {{ var('real_base_year') }}
)

select
    l.country_code,
    l.year,
    l.price_level,
    {{ var('real_base_year') }} as base_year,
    b.base_level / l.price_level as to_base_year
from levels as l
join base as b using (country_code)
