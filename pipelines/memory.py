"""Handing freed memory back to the system before a memory-hungry step.

A night parses and loads every source in the `socfund` process, then starts dbt as a
child. Python, Arrow (mimalloc) and glibc keep freed pages for reuse, so without this
the parent still holds about a gigabyte of its parses while dbt's DuckDB takes its own
gigabyte, and the two together pass the benchmark's 2 GB for the whole process tree.
"""

from __future__ import annotations

import ctypes
import gc
import re
from pathlib import Path

import pyarrow as pa

_STATUS = Path("/proc/self/status")


def resident_mb() -> int | None:
    """This process's resident memory in MB (None where /proc is not there)."""
    try:
        found = re.search(r"VmRSS:\s+(\d+) kB", _STATUS.read_text())
    except OSError:
        return None
    return int(found.group(1)) // 1024 if found else None


def release_memory() -> tuple[int | None, int | None]:
    """Collect garbage and return free pages to the system: (MB before, MB after)."""
    before = resident_mb()
    gc.collect()
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: its allocator keeps what it keeps
        pass
    return before, resident_mb()
