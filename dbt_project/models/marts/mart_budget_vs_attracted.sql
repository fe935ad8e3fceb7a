-- Budget versus attracted funds by recipient region and year, with the leverage ratio
-- (see the macro `budget_vs_attracted` for the precedence of bases).
with summary as (
    {{ budget_vs_attracted(['region_code', 'year']) }}
)

select s.region_code, r.name as region_name, s.* exclude (region_code)
from summary as s
left join {{ ref('dim_region') }} as r on r.region_code = s.region_code
