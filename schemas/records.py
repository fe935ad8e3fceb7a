"""What a parse gives beside its rows, light enough for a process that only parses.

A helper process parsing documents (`pipelines.parsing`) imports this module, not
`schemas.base`, whose pandera and pandas take most of a second to import.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl


@dataclass
class Quarantined:
    row: int | None
    record: dict
    reasons: list[str]
    meta: dict = field(default_factory=dict)


def with_lineage(parsed: list[dict] | pl.DataFrame, lineage: dict[str, str]
                 ) -> list[dict] | pl.DataFrame:
    """A parser's output with its document's lineage (`_source_url`, `_raw_sha256`,
    `_fetched_at`): keys added to every record, or columns of one value."""
    if isinstance(parsed, list):
        for record in parsed:
            record.update(lineage)
        return parsed
    import polars as pl

    if any(name in parsed.columns for name in lineage):
        return parsed.with_columns(pl.lit(value, pl.String).alias(name)
                                   for name, value in lineage.items())
    # Each value repeated as a column of its own and set beside the frame's: a third of the
    # cost of `with_columns` of literals, paid once per page of a paged source.
    n = parsed.height
    return parsed.hstack([pl.Series(name, [value], pl.String).new_from_index(0, n)
                          for name, value in lineage.items()])


@contextmanager
def cycles_not_collected() -> Iterator[None]:
    """The cyclic garbage collector paused, and resumed as it was.

    Parsing a page or turning a batch's failing rows into records makes tens of thousands
    of short-lived dicts, lists and tuples, none in a cycle; the collector, run again and
    again by their number over every object the process holds, finds nothing and costs a
    good part of the work. What becomes garbage in a cycle meanwhile is collected once it
    runs again.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
