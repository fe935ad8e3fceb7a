-- Funding programmes: ФПГ contests and grant directions, the presidential grant operators
-- (one programme per operator and year 2007–2013, shared by its allocation and its list of
-- winners), and the authorities that decide support in the regional registries.
with fpg_contests as (
    select distinct contest as name, contest_year as year
    from {{ ref('int_fpg__applications') }}
    where contest is not null
),

fpg_directions as (
    select distinct direction as name
    from {{ ref('int_fpg__applications') }}
    where direction is not null
),

operator_years as (
    select operator_key, year, operator as name from {{ ref('stg_operators__allocations') }}
    union all
    select operator_key, year, operator from {{ ref('int_operators__winners') }}
    union all
    select operator_key, 2013, operator_name from {{ ref('stg_oprf2013__grants') }}
),

operators as (
    select operator_key, year, min(name) as name
    from operator_years
    group by operator_key, year
),

competitions as (
    select competition as name, min(year) as year, any_value(municipality) as municipality
    from {{ ref('stg_municipal__winners') }}
    group by competition
),

curated_programmes as (
    select programme as name, min(year) as year, any_value(municipality) as municipality
    from {{ ref('stg_curated__figures') }}
    group by programme
),

programme_cards as (
    select programme as name, min(year_start) as year, any_value(funder) as funder
    from {{ ref('stg_programme__cards') }}
    where programme is not null
    group by programme
),

grantors as (
    select distinct grantor_name as name
    from {{ ref('stg_ebudget__agreements') }}
    where grantor_name is not null
),

authorities as (
    select authority as name, min(registry_year) as first_year,
           any_value(registry_region_code) as region_code
    from {{ ref('stg_sonko__registry2011') }}
    where authority is not null
    group by authority
)

select 'fpg:contest:' || name as programme_id, 'contest' as kind, name, year,
       'Фонд президентских грантов' as funder, 'fpg' as source
from fpg_contests
union all
select 'fpg:direction:' || name, 'direction', name, null::integer,
       'Фонд президентских грантов', 'fpg'
from fpg_directions
union all
select {{ operator_programme_id('operator_key', 'year') }}, 'operator', name, year,
       'Президент Российской Федерации (гранты через операторов)', 'operators'
from operators
union all
select 'sonko:authority:' || name, 'authority', name, null::integer,
       name, 'sonko'
from authorities
union all
select 'ebudget:grantor:' || name, 'authority', name, null::integer, name, 'ebudget'
from grantors
union all
select 'municipal:competition:' || name, 'competition', name, year,
       'бюджет муниципального образования ' || coalesce(municipality, ''), 'municipal'
from competitions
union all
select 'curated:programme:' || name, 'municipal_programme', name, year,
       'бюджет муниципального образования ' || coalesce(municipality, ''), 'curated'
from curated_programmes
union all
select 'programme:card:' || name, 'foundation_programme', name, year, funder, 'programme'
from programme_cards
