{# The matching key of a name: lower case, ё as е, everything but Latin and Cyrillic
   letters and digits removed (so `г.Москва`, `г. Москва` and `Челябинск ая область`
   meet). The same rule as schemas.regions.name_key; a test checks both agree. #}
{% macro name_key(expr) -%}
    nullif(regexp_replace(replace(lower({{ expr }}), 'ё', 'е'), '[^0-9a-zа-я]+', '', 'g'), '')
{%- endmacro %}
