-- The regions a grant's project serves: the ФПГ card's geography list, each name resolved
-- through the region seeds. Names that do not resolve are kept here with no region.
with names as (
    select
        {{ grant_id('fpg', 'c.application_number') }} as grant_id,
        unnest(c.geography) as region_reported
    from {{ ref('stg_fpg__cards') }} as c
    where len(c.geography) > 0
)

select
    n.grant_id,
    n.region_reported,
    r.region_code
from names as n
left join {{ ref('stg_reference__region_names') }} as r on r.name_key = {{ name_key('n.region_reported') }}
