-- Unambiguous city names (seed `region_cities`) by their matching key, for records that
-- give a city but no region.
select distinct {{ name_key('city') }} as city_key, region_code
from {{ ref('region_cities') }}
