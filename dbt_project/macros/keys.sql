{# The matching key of a name: lower case, ё as е, everything but Latin and Cyrillic
   letters and digits removed (so `г.Москва`, `г. Москва` and `Челябинск ая область`
   meet). The same rule as schemas.regions.name_key; a test checks both agree. #}
{% macro name_key(expr) -%}
    nullif(regexp_replace(replace(lower({{ expr }}), 'ё', 'е'), '[^0-9a-zа-я]+', '', 'g'), '')
{%- endmacro %}

{# The key of an award or support decision in fact_grant and everything that points at
   it: `<source>:<native id>`, the native id being the grain key of the source's staging
   model (ФПГ application number, `<operator>:<application number>` of 2013, a regional
   registry's `decision_key`). #}
{% macro grant_id(source, native_id) -%}
    '{{ source }}:' || {{ native_id }}
{%- endmacro %}

{# The programme of a grant operator in a year: one id for the operator's allocation by
   decree and the grants of its list (`operators:operator:<operator key>:<year>`), the
   2013 file's operators included. #}
{% macro operator_programme_id(operator_key, year) -%}
    'operators:operator:' || {{ operator_key }} || ':' || {{ year }}
{%- endmacro %}
