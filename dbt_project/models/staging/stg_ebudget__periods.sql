-- Planned amounts of the agreements by period; `year` is null for «later years» (-1).
select distinct on (agreement_id, kbk, period_code)
    agreement_id || ':' || kbk || ':' || period_code as period_id,
    agreement_id,
    kbk,
    period_code,
    year,
    month,
    amount,
    {{ lineage_columns() }}
from {{ source('raw', 'ebudget__periods') }}
order by agreement_id, kbk, period_code, _source_url, _row
