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

-- Each distinct name is matched once, not each mention: the patterns are rows of a seed,
-- so every match compiles its regular expression again, and at full size the sources'
-- 400 000 mentions hold far fewer names.
names as (
    select distinct name_normalised from mentions where name_normalised is not null
),

forms as (
    select n.name_normalised, f.legal_form, f.pattern,
           row_number() over (partition by n.name_normalised order by f.priority) as rank
    from names as n
    join {{ ref('legal_forms') }} as f on regexp_matches(n.name_normalised, f.pattern)
),

cores as (
    select
        name_normalised,
        legal_form,
        nullif(trim(regexp_replace(name_normalised, pattern, '')), '') as name_core
    from forms
    where rank = 1
)

select
    m.*,
    c.legal_form,
    coalesce(c.name_core, m.name_normalised) as name_core
from mentions as m
left join cores as c on c.name_normalised = m.name_normalised
