-- Budget versus attracted funds per programme or competition and year.
with summary as (
    {{ budget_vs_attracted(['programme_id', 'year']) }}
)

select s.programme_id, p.name as programme_name, p.kind as programme_kind, s.* exclude (programme_id)
from summary as s
left join {{ ref('dim_programme') }} as p on p.programme_id = s.programme_id
