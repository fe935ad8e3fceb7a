-- Grants and money by the region the projects serve (beneficiary region), weighted:
-- compare mart_region_year, which counts each grant in its recipient's region.
select
    b.region_code,
    r.name as region_name,
    g.year,
    round(sum(b.weight), 4) as grants_weighted,
    count(*) as grants_serving,
    sum(g.amount_awarded * b.weight)::decimal(18, 2) as amount_awarded,
    sum(g.cofinancing * b.weight)::decimal(18, 2) as cofinancing
from {{ ref('bridge_grant_region') }} as b
join {{ ref('fact_grant') }} as g on g.grant_id = b.grant_id
left join {{ ref('dim_region') }} as r on r.region_code = b.region_code
group by all
