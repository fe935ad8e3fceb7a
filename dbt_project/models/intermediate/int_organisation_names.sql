-- Organisation names normalised: quotes of every kind removed, every space kind folded,
-- lower case with ё as е; the legal form (АНО, фонд, общественная организация, …) split
-- off into its own column by the first pattern of the seed `legal_forms` that matches.
with mentions as (
    select
        *,
        trim(regexp_replace(
            regexp_replace(replace(lower(organisation_name), 'ё', 'е'),
                           '[«»"“”„‟''`]', ' ', 'g'),
            '[\s' || chr(160) || chr(8239) || ']+', ' ', 'g')) as name_normalised
    from {{ ref('int_organisation_mentions') }}
),

forms as (
    select m.source, m.native_id, f.legal_form, f.pattern,
           row_number() over (partition by m.source, m.native_id order by f.priority) as rank
    from mentions as m
    join {{ ref('legal_forms') }} as f on regexp_matches(m.name_normalised, f.pattern)
)

select
    m.*,
    f.legal_form,
    coalesce(nullif(trim(regexp_replace(m.name_normalised, f.pattern, '')), ''),
             m.name_normalised) as name_core
from mentions as m
left join forms as f on f.source = m.source and f.native_id = m.native_id and f.rank = 1
