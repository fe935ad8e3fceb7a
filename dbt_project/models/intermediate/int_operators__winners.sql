-- One list per operator and year. «Сопротивление» 2009 comes in two copies (the CSV and
-- the workbook's sheet `2009`) that do not agree row for row; the rule is that of
-- `scrapers.operators.merge_copies`: the first copy is the one giving the most application
-- numbers; rows are matched one to one by application number where both copies give one,
-- else by organisation and project compared on letters and digits alone (macro
-- `name_key`). A matched grant keeps the first copy's row; a row found in one copy only
-- is kept, and `found_in` says which (`csv`, `workbook`, `both`).
with winners as (
    select
        *,
        {{ name_key('organisation_name') }} as organisation_match,
        {{ name_key('title') }} as title_match
    from {{ ref('stg_operators__winners') }}
),

copies as (
    select
        operator_key,
        year,
        copy,
        row_number() over (
            partition by operator_key, year
            order by count(application_number) desc, copy
        ) as copy_rank
    from winners
    group by operator_key, year, copy
),

ranked as (
    select w.*, c.copy_rank
    from winners as w
    join copies as c using (operator_key, year, copy)
),

first_copy as (
    select * from ranked where copy_rank = 1
),

second_copy as (
    select * from ranked where copy_rank = 2
),

-- Application numbers, one to one: the n-th row of a number in one copy meets the n-th
-- row of the same number in the other.
by_application as (
    select f.record_key as first_key, s.record_key as second_key
    from (
        select *, row_number() over (
            partition by operator_key, year, application_number order by source_row, record_key
        ) as n
        from first_copy where application_number is not null
    ) as f
    join (
        select *, row_number() over (
            partition by operator_key, year, application_number order by source_row, record_key
        ) as n
        from second_copy where application_number is not null
    ) as s
        on s.operator_key = f.operator_key and s.year = f.year
        and s.application_number = f.application_number and s.n = f.n
),

-- What the numbers left unmatched, by organisation and project, one to one likewise.
by_name as (
    select f.record_key as first_key, s.record_key as second_key
    from (
        select *, row_number() over (
            partition by operator_key, year, organisation_match, title_match
            order by source_row, record_key
        ) as n
        from first_copy
        where record_key not in (select first_key from by_application)
          and organisation_match is not null and title_match is not null
    ) as f
    join (
        select *, row_number() over (
            partition by operator_key, year, organisation_match, title_match
            order by source_row, record_key
        ) as n
        from second_copy
        where record_key not in (select second_key from by_application)
          and organisation_match is not null and title_match is not null
    ) as s
        on s.operator_key = f.operator_key and s.year = f.year
        and s.organisation_match = f.organisation_match and s.title_match = f.title_match
        and s.n = f.n
),

matches as (
    select *, 'application_number' as matched_by from by_application
    union all
    select *, 'organisation_and_project' from by_name
),

has_copies as (
    select operator_key, year from copies where copy_rank = 2
),

listed as (
    select
        f.* exclude (copy_rank),
        m.second_key as other_record_key,
        m.matched_by,
        case when m.second_key is not null then 'both' else f.copy_kind end as found_in,
        (h.operator_key is not null) as has_copies
    from first_copy as f
    left join matches as m on m.first_key = f.record_key
    left join has_copies as h on h.operator_key = f.operator_key and h.year = f.year
    union all
    select
        s.* exclude (copy_rank),
        null as other_record_key,
        null as matched_by,
        s.copy_kind as found_in,
        true as has_copies
    from second_copy as s
    where s.record_key not in (select second_key from matches)
)

select
    -- The grant's id in its list: the operator's application number where the list gives
    -- it to this grant alone, else the row's own key (its file and row).
    l.operator_key || ':' || l.year || ':' || case
        when l.application_number is not null
             and count(*) over (
                 partition by l.operator_key, l.year, l.application_number) = 1
            then l.application_number
        else l.record_key
    end as listed_grant_key,
    l.* exclude (organisation_match, title_match, has_copies),
    -- Fields on which the two copies of a matched grant disagree (the first copy's value
    -- is the one kept), compared as the match compares names.
    case when l.other_record_key is null then []
         else list_filter([
             case when l.amount is distinct from o.amount then 'amount' end,
             case when l.organisation_match is distinct from o.organisation_match
                  then 'organisation_name' end,
             case when l.title_match is distinct from o.title_match then 'title' end,
             case when {{ name_key('l.city') }} is distinct from {{ name_key('o.city') }}
                  then 'city' end,
             case when {{ name_key('l.region_reported') }} is distinct from {{ name_key('o.region_reported') }}
                  then 'region' end
         ], lambda d: d is not null)
    end as differences,
    case when l.has_copies and l.found_in <> 'both' then l.found_in end as only_in
from listed as l
left join winners as o on o.record_key = l.other_record_key
