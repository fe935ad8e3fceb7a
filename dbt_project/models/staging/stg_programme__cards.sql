-- Foundations' programme cards: goal, years, regions, target groups.
select
    {{ row_key() }} as card_id,
    programme,
    funder,
    goal,
    year_start,
    year_end,
    regions,
    target_groups,
    {{ lineage_columns() }}
from {{ source('raw', 'programme__cards') }}
