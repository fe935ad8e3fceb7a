"""Run a command as a whole process and measure it: wall time, the processor time and the
peak memory of its tree.

Processor time is user plus system seconds of the process and of every descendant it
waited for (helper processes included), from the kernel's accounting of the children of
this process: on a machine of n cores a command takes at least 1/n of it in wall time.

Peak memory is the largest sum, over the process and every descendant alive at that
moment, of their resident set sizes, sampled from /proc every `interval` seconds
(dbt, DuckDB and worker processes all count). Pages shared between a parent and its
forked children count once per process, as `ps` would show them: an upper bound.
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
PROC = Path("/proc")


@dataclass(frozen=True)
class Measured:
    returncode: int
    wall_s: float
    peak_rss_bytes: int
    peak_processes: int
    # The processes at the peak, largest first: (command, resident bytes).
    peak_breakdown: tuple[tuple[str, int], ...] = ()
    # User and system seconds of the process tree.
    user_s: float | None = None
    system_s: float | None = None

    @property
    def cpu_s(self) -> float | None:
        if self.user_s is None or self.system_s is None:
            return None
        return self.user_s + self.system_s

    @property
    def peak_rss_mb(self) -> float:
        return self.peak_rss_bytes / 1024**2


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process now alive."""
    out: dict[int, int] = {}
    for entry in os.scandir(PROC):
        if not entry.name.isdigit():
            continue
        try:
            stat = (PROC / entry.name / "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        # The command name (field 2) may hold spaces and parentheses: split after its end.
        fields = stat[stat.rindex(")") + 2:].split()
        out[int(entry.name)] = int(fields[1])
    return out


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    tree, queue = [], [root]
    while queue:
        pid = queue.pop()
        tree.append(pid)
        queue.extend(children.get(pid, ()))
    return tree


def _rss(pid: int) -> int:
    try:
        return int((PROC / str(pid) / "statm").read_text().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def _command(pid: int) -> str:
    """A short name for a process: its program and first arguments."""
    try:
        argv = (PROC / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    words = [a.decode(errors="replace") for a in argv if a]
    if not words:
        return "?"
    return " ".join([Path(words[0]).name, *words[1:3]])[:80]


def tree_rss(root: int) -> tuple[int, dict[int, int]]:
    """(resident bytes summed over the tree, resident bytes per process)."""
    sizes = {pid: _rss(pid) for pid in descendants(root)}
    return sum(sizes.values()), sizes


def run_measured(command: list[str], *, env: dict[str, str] | None = None,
                 cwd: Path | None = None, interval: float = 0.1,
                 stdout=None, stderr=None) -> Measured:
    """Run `command` to its end; its wall time, its tree's processor time and peak resident
    memory."""
    peak: dict = {"rss": 0, "processes": 0, "breakdown": ()}
    # Children of this process end one at a time here: the difference is this command's.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=stdout, stderr=stderr)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            rss, sizes = tree_rss(process.pid)
            if rss > peak["rss"]:
                peak["rss"] = rss
                peak["breakdown"] = tuple(sorted(
                    ((_command(pid), size) for pid, size in sizes.items()),
                    key=lambda item: -item[1]))
            peak["processes"] = max(peak["processes"], len(sizes))
            stop.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        returncode = process.wait()
    finally:
        wall = time.perf_counter() - started
        stop.set()
        sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Measured(returncode, wall, peak["rss"], peak["processes"], peak["breakdown"],
                    user_s=after.ru_utime - before.ru_utime,
                    system_s=after.ru_stime - before.ru_stime)
