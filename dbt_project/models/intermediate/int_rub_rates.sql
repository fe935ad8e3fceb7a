-- Rubles per unit of each other currency, by year: the cross rate through the US dollar of
-- the World Bank's annual-average official rates (seed `exchange_rates`, PA.NUS.FCRF):
-- RUB per US$ ÷ units per US$. No source gives a direct annual som–ruble rate here, so both
-- legs are the same series. A year either leg lacks has no rate, never one filled in.
with rates as (
    select currency, year, units_per_usd, source
    from {{ ref('exchange_rates') }}
)

select
    o.currency,
    o.year,
    r.units_per_usd / o.units_per_usd as rub_rate,
    'cross rate through the US dollar, ' || o.year || ' average: '
        || r.units_per_usd || ' RUB/US$ ÷ ' || o.units_per_usd || ' ' || o.currency
        || '/US$ (' || o.source || ')' as rub_rate_source
from rates as o
join rates as r on r.currency = 'RUB' and r.year = o.year
where o.currency <> 'RUB'
