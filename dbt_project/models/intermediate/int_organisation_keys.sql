-- The organisation key of each mention: a valid ИНН, else the valid ИНН that another
-- mention with the same valid ОГРН reports, else a valid ОГРН, else a name key within
-- the region (flagged). Identifiers that fail their check never join.
with mentions as (
    select * from {{ ref('int_organisation_mentions') }}
),

inn_by_ogrn as (
    select ogrn, min(inn) as inn
    from mentions
    where ogrn_valid and inn_valid
    group by ogrn
    having count(distinct inn) = 1
)

select
    m.*,
    case
        when m.inn_valid then 'inn:' || m.inn
        when m.ogrn_valid and o.inn is not null then 'inn:' || o.inn
        else {{ organisation_key('m.inn', 'false', 'm.ogrn', 'm.ogrn_valid',
                                 'm.organisation_name', 'm.region_code') }}
    end as organisation_key,
    case
        when m.inn_valid then 'inn'
        when m.ogrn_valid and o.inn is not null then 'inn'
        when m.ogrn_valid then 'ogrn'
        else 'name_region'
    end as match_method
from mentions as m
left join inn_by_ogrn as o on o.ogrn = m.ogrn and m.ogrn_valid
