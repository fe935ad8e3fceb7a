"""Freed memory goes back to the system before dbt starts (pipelines.memory)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.memory import release_memory, resident_mb


def test_freed_arrow_buffers_are_handed_back():
    start = resident_mb()
    assert start is not None
    numbers = pa.array(np.arange(40_000_000))  # 320 MB, and as much again for the sum
    summed = pc.add(numbers, 1)
    assert resident_mb() - start > 400
    del numbers, summed
    before, after = release_memory()
    # Arrow's pool keeps freed pages for reuse until told otherwise.
    assert before - after > 250
    assert after - start < 100
