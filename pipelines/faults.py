"""Named points of a build where the kill tests stop it.

A build passes `checkpoint("fetch" | "load" | "dbt" | "swap")` at fixed moments. When
`SOCFUND_PAUSE_AT` names the point, the build writes the file `SOCFUND_PAUSE_MARKER`
and waits there until it is killed: a test then reads the published warehouse while
the build is stuck half-way, kills the build's process group, and starts it again.
Without the variable a checkpoint costs one dictionary lookup.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

POINTS = ("fetch", "load", "dbt", "swap")


def checkpoint(point: str) -> None:
    if os.environ.get("SOCFUND_PAUSE_AT") != point:
        return
    marker = os.environ.get("SOCFUND_PAUSE_MARKER")
    if marker:
        Path(marker).write_text(f"{point} {os.getpid()}\n", encoding="utf-8")
    while True:  # until the test kills the process group
        time.sleep(1)
