-- Federal subjects of Russia (with Baikonur) and foreign countries the sources name.
select
    region_code,
    name,
    kind,
    okato,
    oktmo,
    iso_3166_2,
    federal_district,
    source
from {{ ref('regions') }}
-- Subjects whose codes no source at hand publishes yet stay in the seed, not here.
where region_code is not null
