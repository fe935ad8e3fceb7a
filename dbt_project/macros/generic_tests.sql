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
