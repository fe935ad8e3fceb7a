-- Foundations' programme cards: goal, years, regions, target groups.
select
    _source_url || '#' || _row as card_id,
    programme,
    funder,
    goal,
    year_start,
    year_end,
    regions,
    target_groups,
    _source_url as source_url,
    _raw_sha256 as raw_sha256
from {{ source('raw', 'programme__cards') }}
