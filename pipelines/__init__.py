"""socfund's pipelines: Dagster assets, the warehouse, the release and the page.

A night parses its large sources into polars frames in the `socfund` process, then starts
dbt as a child. polars allocates through its own jemalloc, which by default keeps freed
pages for a while and gives them back only as later allocations tick it: the parent then
still holds some 200 MB of its parses while dbt's DuckDB takes its gigabyte. Told here,
before anything imports polars (the setting is read once, at its first allocation), its
background thread returns pages idle for a second. A setting of the operator's own wins.
"""

import os

os.environ.setdefault("_RJEM_MALLOC_CONF",
                      "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0")
