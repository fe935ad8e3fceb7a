-- Planned amounts of the agreements by period; `year` is null for «later years» (-1).
select distinct on (agreement_id, kbk, period_code)
    agreement_id,
    kbk,
    period_code,
    year,
    month,
    amount,
    _source_url as source_url,
    _raw_sha256 as raw_sha256
from {{ source('raw', 'ebudget__periods') }}
order by agreement_id, kbk, period_code, _source_url
