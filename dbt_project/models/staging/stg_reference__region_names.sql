-- Every spelling of a federal subject the sources use (the official names in the seed
-- `regions` and the variants in `region_names`), by its matching key.
with spellings as (
    select name, region_code from {{ ref('regions') }}
    union all
    select name, region_code from {{ ref('region_names') }}
)

select distinct {{ name_key('name') }} as name_key, region_code
from spellings
where name is not null and region_code is not null
