-- Planned amounts of the agreements by period; `year` is null for «later years» (-1).
-- The parser emits each year's money once (`origin` says how: its months, one year row,
-- or plansNormalized's total), so a sum by year never counts a year twice.
select distinct on (agreement_id, kbk, period_code)
    agreement_id || ':' || kbk || ':' || period_code as period_id,
    agreement_id,
    kbk,
    period_code,
    year,
    month,
    amount,
    origin,
    {{ lineage_columns() }}
from {{ source('raw', 'ebudget__periods') }}
order by agreement_id, kbk, period_code, _source_url, _row
