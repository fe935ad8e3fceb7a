{# The matching key of a place name: the same rule as schemas.regions.name_key
   (lower case, ё → е, every space, no-break space and dash removed). A test checks
   both give the same keys for every name in the seeds. #}
{% macro name_key(expr) -%}
    nullif(regexp_replace(lower(replace({{ expr }}, 'ё', 'е')),
        '[\s' || chr(160) || chr(8239) || chr(8199) || chr(8201) || '\-' || chr(8211) || chr(8212) || chr(8208) || ']+', '', 'g'), '')
{%- endmacro %}

{# Organisation key: a valid ИНН, else a valid ОГРН, else a flagged name key within
   a region. An identifier that fails its check digit never joins anything. #}
{% macro organisation_key(inn, inn_valid, ogrn, ogrn_valid, name, region_code) -%}
    case
        when {{ inn_valid }} then 'inn:' || {{ inn }}
        when {{ ogrn_valid }} then 'ogrn:' || {{ ogrn }}
        else 'name:' || coalesce({{ region_code }}, '??') || ':' || md5(coalesce({{ organisation_name_key(name) }}, ''))
    end
{%- endmacro %}

{% macro organisation_name_key(expr) -%}
    nullif(regexp_replace(lower(replace({{ expr }}, 'ё', 'е')),
        '[^0-9a-zа-я]+', '', 'g'), '')
{%- endmacro %}
