-- The two-digit subject code of ИНН/ОГРН (digits 4-5 of an ОГРН) for each federal subject
-- of the seed `regions`.
select region_code as subject_code, region_code
from {{ ref('regions') }}
where kind in ('subject', 'territory') and region_code is not null
