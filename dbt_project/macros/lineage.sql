{# The lineage every staging model carries from its raw row: the document's URL, the
   SHA-256 of its kept bytes and the record's row or position in it. The other lineage
   columns of a raw row (`_source`, `_fetched_at`, `_parser_version`) stay in `raw`: they
   follow from the source and the document (raw.fetch_log, meta.loads). `alias` is the
   raw table's alias in the query, if it has one. #}
{% macro lineage_columns(alias=none) -%}
    {%- set p = alias ~ '.' if alias else '' -%}
    {{ p }}_source_url as source_url,
    {{ p }}_raw_sha256 as raw_sha256,
    {{ p }}_row as source_row
{%- endmacro %}

{# A staging model's key made of its document and row, where the source has no id of
   its own that is unique (or none at all): `<source url>#<row>`. #}
{% macro row_key(alias=none) -%}
    {%- set p = alias ~ '.' if alias else '' -%}
    {{ p }}_source_url || '#' || {{ p }}_row
{%- endmacro %}
