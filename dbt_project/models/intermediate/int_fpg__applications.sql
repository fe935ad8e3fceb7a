-- One ФПГ application from its bulk row and its card: the bulk file is authoritative for
-- status and amounts, the card adds texts, co-financing and transfers. Disagreements are
-- flagged, not hidden.
with bulk as (
    select * from {{ ref('stg_fpg__applications') }}
),

cards as (
    select * from {{ ref('stg_fpg__cards') }}
)

select
    coalesce(b.application_number, c.application_number) as application_number,
    coalesce(b.contest, c.contest) as contest,
    coalesce(b.contest_year, c.contest_year) as contest_year,
    coalesce(b.direction, c.direction) as direction,
    coalesce(b.title, c.title) as title,
    coalesce(b.status, c.status) as status,
    coalesce(b.organisation_name, c.organisation_name) as organisation_name,
    coalesce(b.inn, c.inn) as inn,
    coalesce(b.inn_valid, c.inn_valid) as inn_valid,
    coalesce(b.ogrn, c.ogrn) as ogrn,
    coalesce(b.ogrn_valid, c.ogrn_valid) as ogrn_valid,
    -- The bulk file's region where it resolves, else the list page's (for carded
    -- applications); the name reported is the one the region came from.
    case when b.region_code is null and c.region_code is not null
         then c.region_reported else coalesce(b.region_reported, c.region_reported)
    end as region_reported,
    coalesce(b.region_code, c.region_code) as region_code,
    case when b.region_code is null and c.region_code is not null
         then c.region_method else coalesce(b.region_method, c.region_method)
    end as region_method,
    coalesce(b.amount_requested, c.amount_requested) as amount_requested,
    coalesce(b.amount_awarded, c.amount_awarded) as amount_awarded,
    c.cofinancing,
    c.amount_transferred,
    coalesce(b.total_cost, c.total_cost) as total_cost,
    coalesce(b.start_date, c.start_date) as start_date,
    coalesce(b.end_date, c.end_date) as end_date,
    b.decision_date,
    c.submitted_on,
    c.rating,
    b.evaluation,
    b.violations,
    c.card_id,
    c.geography,
    c.website,
    b.application_number is not null as in_bulk,
    c.application_number is not null as has_card,
    (b.status is not null and c.status is not null and b.status <> c.status) as status_disagrees,
    (b.amount_awarded is not null and c.amount_awarded is not null
        and b.amount_awarded <> c.amount_awarded)
    or (b.amount_requested is not null and c.amount_requested is not null
        and b.amount_requested <> c.amount_requested) as amount_disagrees,
    coalesce(b.source_url, c.source_url) as source_url,
    coalesce(b.raw_sha256, c.raw_sha256) as raw_sha256
from bulk as b
full outer join cards as c on c.application_number = b.application_number
