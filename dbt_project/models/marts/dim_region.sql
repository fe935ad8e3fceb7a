-- Federal subjects of Russia (with Baikonur), foreign countries the sources name, and the
-- municipalities sources name (keyed `<subject code>:<name key>`, under their subject).
with subjects as (
    select
        region_code,
        name,
        kind,
        null as parent_region_code,
        okato,
        oktmo,
        iso_3166_2,
        federal_district,
        source
    from {{ ref('regions') }}
    -- Subjects whose codes no source at hand publishes yet stay in the seed, not here.
    where region_code is not null
),

named_municipalities as (
    select municipality, region_code, 'municipal competition results' as named_by
    from {{ ref('stg_municipal__winners') }}
    union all
    select municipality, region_code, 'curated figures'
    from {{ ref('stg_curated__figures') }}
),

municipalities as (
    select
        m.region_code || ':' || {{ name_key('m.municipality') }} as region_code,
        m.municipality as name,
        'municipality' as kind,
        m.region_code as parent_region_code,
        null as okato,
        null as oktmo,
        null as iso_3166_2,
        s.federal_district,
        'named by ' || string_agg(distinct m.named_by, ', ' order by m.named_by)
            || '; OKTMO not yet from a published source' as source
    from named_municipalities as m
    join subjects as s on s.region_code = m.region_code
    where m.municipality is not null
    group by all
)

select * from subjects
union all
select * from municipalities
