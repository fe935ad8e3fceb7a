{# The matching key of a name: lower case, ё as е, everything but Latin and Cyrillic
   letters and digits removed (so `г.Москва`, `г. Москва` and `Челябинск ая область`
   meet). The same rule as schemas.regions.name_key; a test checks both agree. #}
{% macro name_key(expr) -%}
    nullif(regexp_replace(replace(lower({{ expr }}), 'ё', 'е'), '[^0-9a-zа-я]+', '', 'g'), '')
{%- endmacro %}

{# Organisation key: a valid ИНН, else a valid ОГРН, else a flagged name key within
   a region. An identifier that fails its check digit never joins anything. #}
{% macro organisation_key(inn, inn_valid, ogrn, ogrn_valid, name, region_code) -%}
    case
        when {{ inn_valid }} then 'inn:' || {{ inn }}
        when {{ ogrn_valid }} then 'ogrn:' || {{ ogrn }}
        else 'name:' || coalesce({{ region_code }}, '??') || ':' || md5(coalesce({{ name_key(name) }}, ''))
    end
{%- endmacro %}
