-- A table, not a view: every fact, mart and test that joins organisations reads it, and
-- resolving 400 000 mentions takes minutes at full size — once, not once per reader.
{{ config(materialized='table') }}

-- The organisation key of each mention: a valid ИНН, else the valid ИНН that another
-- mention with the same valid ОГРН reports, else a valid ОГРН, else the normalised name
-- (legal form split off) within the region — flagged as the weakest match. Identifiers
-- that fail their check never join. Curated overrides (seed `organisation_overrides`) are
-- applied last: `split` moves one mention to a key of its own, `merge` folds a key into
-- another.
with mentions as (
    select * from {{ ref('int_organisation_names') }}
),

inn_by_ogrn as (
    select ogrn, min(inn) as inn
    from mentions
    where ogrn_valid and inn_valid
    group by ogrn
    having count(distinct inn) = 1
),

keyed as (
    select
        m.*,
        case
            when m.inn_valid then 'inn:' || m.inn
            when m.ogrn_valid and o.inn is not null then 'inn:' || o.inn
            when m.ogrn_valid then 'ogrn:' || m.ogrn
            else 'name:' || coalesce(m.region_code, '??') || ':'
                || md5(coalesce({{ name_key('m.name_core') }}, ''))
        end as resolved_key,
        case
            when m.inn_valid then 'inn'
            when m.ogrn_valid and o.inn is not null then 'inn'
            when m.ogrn_valid then 'ogrn'
            else 'name_region'
        end as match_method
    from mentions as m
    left join inn_by_ogrn as o on o.ogrn = m.ogrn and m.ogrn_valid
),

overrides as (
    select * from {{ ref('organisation_overrides') }}
),

split as (
    select k.*, coalesce(s.into_key, k.resolved_key) as split_key, s.into_key is not null as was_split
    from keyed as k
    left join overrides as s
        on s.action = 'split' and s.source = k.source and s.native_id = k.native_id
)

select
    s.* exclude (split_key, was_split, resolved_key),
    coalesce(g.into_key, s.split_key) as organisation_key,
    s.was_split or g.into_key is not null as overridden
from split as s
left join overrides as g on g.action = 'merge' and g.organisation_key = s.split_key
