{# Resolve a record's federal subject: the source's region name where given, else its
   city, else the subject code in its ОГРН (also when the ОГРН fails its check digit:
   the prefix is still evidence), else the subject code of its ИНН (digits 1-2, likewise),
   for a source that gives an ИНН and no ОГРН. Emits `region_code` and `region_method`.
   Needs the CTEs from `region_lookups()` in the same query. The lookups are the staging
   models of the region seeds, so a staging model that resolves regions reads only its
   source and seeds. #}
{% macro region_lookups() -%}
    region_by_name as (select name_key, region_code from {{ ref('stg_reference__region_names') }}),
    region_by_city as (select city_key, region_code from {{ ref('stg_reference__region_cities') }}),
    region_by_code as (select subject_code, region_code from {{ ref('stg_reference__region_subject_codes') }})
{%- endmacro %}

{% macro resolve_region(alias, region_expr, city_expr, ogrn_expr, inn_expr='null::varchar') -%}
    left join region_by_name as {{ alias }}_n on {{ alias }}_n.name_key = {{ name_key(region_expr) }}
    left join region_by_city as {{ alias }}_c on {{ alias }}_c.city_key = {{ name_key(city_expr) }}
    left join region_by_code as {{ alias }}_o
        on {{ alias }}_o.subject_code = case when length({{ ogrn_expr }}) in (13, 15)
                                              and regexp_full_match({{ ogrn_expr }}, '[0-9]+')
                                             then substr({{ ogrn_expr }}, 4, 2) end
    left join region_by_code as {{ alias }}_i
        on {{ alias }}_i.subject_code = case when length({{ inn_expr }}) in (10, 12)
                                              and regexp_full_match({{ inn_expr }}, '[0-9]+')
                                             then substr({{ inn_expr }}, 1, 2) end
{%- endmacro %}

{% macro region_code_of(alias, region_expr) -%}
    case when {{ alias }}_n.region_code is not null then {{ alias }}_n.region_code
         when {{ region_expr }} is null
             then coalesce({{ alias }}_c.region_code, {{ alias }}_o.region_code, {{ alias }}_i.region_code)
    end
{%- endmacro %}

{% macro region_method_of(alias, region_expr) -%}
    case when {{ alias }}_n.region_code is not null then 'source_region'
         when {{ region_expr }} is not null then 'unknown_name'
         when {{ alias }}_c.region_code is not null then 'city'
         when {{ alias }}_o.region_code is not null then 'ogrn_prefix'
         when {{ alias }}_i.region_code is not null then 'inn_prefix'
         else 'unknown'
    end
{%- endmacro %}
