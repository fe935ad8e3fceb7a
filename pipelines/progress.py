"""Progress for long work: a live line in a terminal, plain log lines elsewhere."""

from __future__ import annotations

import sys
import time
from typing import Protocol


class _Log(Protocol):
    def info(self, msg: str, *args: object) -> None: ...


class Progress:
    def __init__(self, label: str, total: int | None, log: _Log, *, every: float = 0.1):
        self.label = label
        self.total = total
        self.log = log
        self.count = 0
        self.tty = sys.stderr.isatty()
        self._every = every
        self._next_mark = every
        self._started = time.monotonic()

    def advance(self, n: int = 1) -> None:
        self.count += n
        if self.tty:
            of = f"/{self.total}" if self.total else ""
            sys.stderr.write(f"\r{self.label}: {self.count}{of}")
            sys.stderr.flush()
        elif self.total and self.count / self.total >= self._next_mark:
            self.log.info(f"{self.label}: {self.count}/{self.total}")
            while self._next_mark <= self.count / self.total:
                self._next_mark += self._every

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
        elapsed = time.monotonic() - self._started
        of = f" of {self.total}" if self.total else ""
        self.log.info(f"{self.label}: {self.count}{of} in {elapsed:.1f}s")
