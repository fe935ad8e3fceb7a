-- Grant × beneficiary region, with a weight per region: equal shares of the grant among
-- the regions its project serves (no source gives another split), so a multi-region
-- project's money is never counted once per region. A grant whose source names no
-- geography serves its recipient's region (weight 1).
with geography as (
    select distinct grant_id, region_code
    from {{ ref('int_grant_geography') }}
    where region_code is not null
),

grants as (
    select grant_id, region_code from {{ ref('fact_grant') }}
),

served as (
    select g.grant_id, geo.region_code, 'project_geography' as method
    from grants as g
    join geography as geo on geo.grant_id = g.grant_id
    union all
    select g.grant_id, g.region_code, 'recipient_region'
    from grants as g
    where g.grant_id not in (select grant_id from geography)
)

select
    grant_id,
    region_code,
    method,
    1.0 / count(*) over (partition by grant_id) as weight
from served
