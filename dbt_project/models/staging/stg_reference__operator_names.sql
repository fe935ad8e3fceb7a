-- Every spelling of a grant operator the sources use (seed `operator_spellings`, the
-- vocabulary `schemas.vocabularies.operators` written out), by its matching key.
select distinct
    {{ name_key('spelling') }} as name_key,
    operator_key,
    operator_name
from {{ ref('operator_spellings') }}
where spelling is not null
