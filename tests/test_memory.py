"""Freed memory goes back to the system before dbt starts (pipelines.memory)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.memory import release_memory, resident_mb

ROOT = Path(__file__).resolve().parents[1]


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



def _allocator_setting(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c",
         "import os, pipelines, polars; print(os.environ['_RJEM_MALLOC_CONF'])"],
        env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    return done.stdout.strip()


def test_polars_allocator_in_a_socfund_process_hands_idle_pages_back():
    # polars adds its own defaults in front when imported; jemalloc takes an option's last
    # value, so socfund's must come last (measured: a full-scale parse's process keeps
    # some 200 MB less when dbt starts).
    setting = _allocator_setting({k: v for k, v in os.environ.items()
                                  if k != "_RJEM_MALLOC_CONF"})
    options = dict(pair.split(":") for pair in setting.split(","))
    assert options["background_thread"] == "true"
    assert options["dirty_decay_ms"] == "1000" and options["muzzy_decay_ms"] == "0"


def test_an_operators_allocator_setting_wins():
    setting = _allocator_setting({**os.environ, "_RJEM_MALLOC_CONF": "narenas:2"})
    assert setting.split(",")[-1] == "narenas:2"
    assert "background_thread" not in setting
