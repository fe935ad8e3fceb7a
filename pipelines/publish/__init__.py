"""Publish a dated release of the warehouse for people to download.

`pipelines.publish.release.export_release` copies the published DuckDB file, reads
everything from that copy (so every file of a release describes the same data), and writes
`<exports_dir>/<YYYY-MM-DD>/`:

```
csv/<table>.csv             every public table (schema main): UTF-8 with BOM, comma, CRLF,
                            RFC 4180 quoting, ISO dates, dot decimals, lists joined with `;`
parquet/<table>.parquet     the same tables as stored (zstd), values untouched
xlsx/<table>.xlsx           the same tables for spreadsheets; text cells typed as text
quarantine/records.csv      every quarantined record, its `table` and its reasons
360giving/grants.json       fact_grant in the 360Giving Data Standard 1.4 (package JSON)
360giving/grants.csv        the same grants, flat, with the standard's column titles
datapackage.json            Frictionless Data Package describing every CSV
data-dictionary.md|.html    every table and column: description, type, rules, source
socfund.duckdb              the warehouse, read-only snapshot
CHANGES.md                  rows added / changed / removed per table since the last release
changes/<table>.csv|.parquet  the change feed: those rows by key, each changed column with its
                            old and new value (none in a first release)
quality.json                the quality scorecard per source, thresholds and their breaches
quality.schema.json         its JSON Schema
CITATION.cff  LICENSE.md    how to cite; the licence and each source's terms as known
README.md                   what each file is (an illustrative release: a warning first)
manifest.json               [{path, format, table, rows, bytes, sha256, description}]
SHA256SUMS                  `sha256sum -c` checks every file above
```

and then points `<exports_dir>/latest` (a one-line text file) at it. A release of an
illustrative build (`pipelines.illustrative`, `meta.build.illustrative`) says so at the top
of each file: `illustrative` (true) is the first column of every CSV, XLSX and Parquet file,
each XLSX `about` sheet and the README begin with a warning, the datapackage's title with
«ILLUSTRATIVE —». The release is written aside and renamed into place, so a reader never
sees half a release.

One module per artefact: `dbt_docs` (what the dbt manifest says), `tables` (what is
exported, CSV and Parquet), `xlsx` (spreadsheets, in worker processes), `sources` (the
declared sources a release holds rows of), `datapackage`, `giving` (360Giving),
`dictionary`, `changes`, `quality` (the scorecard), `legal` (LICENSE.md, CITATION.cff) and
`release` (the dated folder, its snapshot, checksums and `latest`). Markdown and HTML come
from the Jinja2 templates in `pipelines/templates/release/` (`markup`).

Spreadsheet safety (CSV and XLSX): a text cell whose first character is `=`, `+`, `-`, `@`,
a tab or a carriage return gets a leading apostrophe (`'`), so Excel and LibreOffice show
it as text instead of evaluating it as a formula ("CSV injection"). Only text cells are
touched: numbers, negative ones included, are written as numbers. Parquet, the DuckDB file
and the 360Giving JSON keep values exactly as they are.

This package imports nothing heavy at its top: the XLSX worker processes import
`pipelines.publish.xlsx` and what it needs, not the source registry.
"""
