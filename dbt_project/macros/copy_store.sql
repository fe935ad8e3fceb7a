{# Copy every table of the persistent store's `raw`, `quarantine` and `meta` schemas into the
   warehouse being built. The store is attached read-only as `store` (profiles.yml). #}
{% macro copy_store() %}
  {% if execute %}
    {% set tables = run_query(
        "select schema_name, table_name from duckdb_tables() "
        ~ "where database_name = 'store' and schema_name in ('raw', 'quarantine', 'meta') order by 1, 2"
    ) %}
    {% for row in tables.rows %}
      {% do run_query("create schema if not exists " ~ row[0]) %}
      {% do run_query(
          "create or replace table " ~ row[0] ~ "." ~ row[1]
          ~ " as select * from store." ~ row[0] ~ "." ~ row[1]
      ) %}
    {% endfor %}
    {{ log("copied " ~ (tables.rows | length) ~ " tables from the store", info=True) }}
  {% endif %}
  select 1
{% endmacro %}
