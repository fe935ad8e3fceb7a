{# Generic tests the project needs, without a package download (CI has no dbt hub). #}
{% test non_negative(model, column_name) %}
    select * from {{ model }} where {{ column_name }} < 0
{% endtest %}

{% test unique_combination(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as n
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{# A record whose region could not be resolved. Severity is set where the test is used:
   an error on samples and real files, a warning on a live night (the row is kept with
   the region unknown, and the run reports it). #}
{% test region_resolved(model, column_name) %}
    select * from {{ model }} where {{ column_name }} is null
{% endtest %}

{# leverage = attracted_total / budget_total, and null (not 0, not infinite) when the
   budget is 0. #}
{% test leverage_consistent(model, column_name) %}
    select * from {{ model }}
    where (budget_total = 0 and {{ column_name }} is not null)
       or (budget_total <> 0 and abs({{ column_name }} - attracted_total / budget_total) > 0.0001)
{% endtest %}

{# In the base year a real amount equals the amount in rubles; elsewhere it is null only
   when flagged missing. #}
{% test real_equals_nominal_in_base_year(model, column_name) %}
    select * from {{ model }}
    where (year = real_base_year and {{ column_name }} <> amount_rub)
       or ({{ column_name }} is null and not real_missing)
       or ({{ column_name }} is not null and real_missing)
{% endtest %}

{% test weights_add_up_to_one(model) %}
    select grant_id, sum(weight) as total
    from {{ model }}
    group by grant_id
    having abs(sum(weight) - 1) > 0.000001
{% endtest %}

{# No organisation is joined on an identifier that fails its check: a key made of an ИНН
   or ОГРН needs a mention whose identifier passed (or a curated override). #}
{% test keys_from_valid_identifiers(model, column_name) %}
    select * from {{ model }}
    where not overridden and (
           ({{ column_name }} like 'inn:%' and not coalesce(inn_valid, false)
                                           and not coalesce(ogrn_valid, false))
        or ({{ column_name }} like 'ogrn:%' and not coalesce(ogrn_valid, false)))
{% endtest %}

{% test region_resolved_when_named(model, column_name) %}
    select * from {{ model }} where {{ column_name }} is null and region_reported is not null
{% endtest %}

{# A rule between columns of one row, written as SQL that is true for a good row. A row
   where it is null (a value it needs is missing) passes: pair it with not_null where the
   value is required. #}
{% test expression_is_true(model, expression, column_name=none) %}
    select * from {{ model }} where not ({{ expression }})
{% endtest %}

{# The whole value matches the regular expression (nulls pass). #}
{% test matches_pattern(model, column_name, pattern) %}
    select * from {{ model }}
    where {{ column_name }} is not null and not regexp_full_match({{ column_name }}, '{{ pattern }}')
{% endtest %}

{# A date that has already happened (a decision, a filing): never after the build's day. #}
{% test not_in_future(model, column_name) %}
    select * from {{ model }} where {{ column_name }} > current_date
{% endtest %}

{# The column is not before another column of the same row (an end and its start). #}
{% test not_before(model, column_name, other) %}
    select * from {{ model }} where {{ column_name }} < {{ other }}
{% endtest %}

{# The value lies within [min_value, max_value]; either bound may be left out. #}
{% test value_between(model, column_name, min_value=none, max_value=none) %}
    select * from {{ model }}
    where {% if min_value is not none %}{{ column_name }} < {{ min_value }}{% else %}false{% endif %}
       or {% if max_value is not none %}{{ column_name }} > {{ max_value }}{% else %}false{% endif %}
{% endtest %}

{# A plan's year is given once: by its months, or by one row with no month — never both,
   never two year rows — so a sum of its rows counts the year once. `keys` name the plan
   (the columns besides `year` and `month`). #}
{% test months_or_one_year_row(model, keys) %}
    select {{ keys | join(', ') }}, year,
           count(*) filter (where month is null) as year_rows,
           count(*) filter (where month is not null) as month_rows
    from {{ model }}
    where year is not null
    group by all
    having count(*) filter (where month is null) > 1
        or (count(*) filter (where month is null) = 1
            and count(*) filter (where month is not null) > 0)
{% endtest %}

{# One value per group of rows (nulls count as a value): a fact of the whole document,
   such as the date a registry file was taken on. #}
{% test same_within(model, column_name, group_by) %}
    select {{ group_by }}, count(distinct coalesce({{ column_name }}::varchar, '')) as distinct_values
    from {{ model }}
    group by {{ group_by }}
    having count(distinct coalesce({{ column_name }}::varchar, '')) > 1
{% endtest %}
