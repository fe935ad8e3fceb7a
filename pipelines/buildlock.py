"""One build of a warehouse at a time: `<warehouse>/.build.lock`, held for the whole build.

Whoever starts a build holds it: `socfund build` for its whole command, a Dagster run (UI,
schedule, sensor) in its executor, which lives in the run's own process for as long as the
run lasts, whichever process each step runs in. The steps that rewrite the aside copy or
swap it in check it again: they go on when the lock is held by their own process or names
their own run, and take it for themselves when nobody holds it (a run started from Python).

The lock is `flock` on the file, so the kernel drops it when the holding process dies. The
file names the holder (PID, start time, how it was started, its Dagster run) for the one
line a second build prints. A lock still held but naming a dead process was inherited by a
child that outlived a killed build: it is stale, and the file is replaced.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from pipelines.paths import WarehousePaths

# How often a waiting build tries again, and how long a reader gives a new holder to
# write its name into the file it has just locked.
WAIT_INTERVAL = 1.0
NAME_GRACE = 1.0


@dataclass(frozen=True)
class Holder:
    """Who holds the build lock, as written in the lock file."""

    pid: int
    started_at: str  # ISO 8601, UTC
    started_by: str
    run_id: str = ""

    def describe(self) -> str:
        try:
            since = datetime.fromisoformat(self.started_at).astimezone(UTC)
            when = f"{since:%Y-%m-%d %H:%M:%S} UTC"
        except ValueError:
            when = self.started_at or "an unknown time"
        how = f", {self.started_by}" if self.started_by else ""
        return f"has been running since {when}, PID {self.pid}{how}"


class BuildBusy(Exception):
    """Another build of this warehouse is running."""

    def __init__(self, holder: Holder | None) -> None:
        self.holder = holder
        running = holder.describe() if holder else "is running (its PID is not recorded yet)"
        super().__init__(f"another build of this warehouse {running}")


@dataclass
class _Held:
    fd: int
    holder: Holder


# The locks this process holds, by lock file: a run started inside `socfund build` (the
# same process) goes on under the command's lock instead of waiting for itself.
_HELD: dict[Path, _Held] = {}


def lock_path(paths: WarehousePaths) -> Path:
    return paths.root / ".build.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        # A zombie has exited (its files are closed) and only waits to be reaped.
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _read_holder(fd: int) -> Holder | None:
    text = os.pread(fd, 64 * 1024, 0).decode("utf-8", errors="replace")
    try:
        fields = json.loads(text)
        return Holder(pid=int(fields["pid"]), started_at=str(fields["started_at"]),
                      started_by=str(fields.get("started_by", "")),
                      run_id=str(fields.get("run_id", "")))
    except (ValueError, KeyError, TypeError):
        return None


def _write_holder(fd: int, holder: Holder) -> None:
    body = json.dumps(asdict(holder), ensure_ascii=False).encode() + b"\n"
    os.pwrite(fd, body, 0)
    os.ftruncate(fd, len(body))


def _holder_of_locked(fd: int) -> Holder | None:
    """The name in a file another process has locked (it may be writing it right now)."""
    deadline = time.monotonic() + NAME_GRACE
    while True:
        holder = _read_holder(fd)
        if holder is not None or time.monotonic() > deadline:
            return holder
        time.sleep(0.05)


def _replace_stale(path: Path, fd: int) -> None:
    """Unlink the lock file `fd` is, if it still is the one at `path`: the next try makes
    a new one. A guard lock keeps two builds from each unlinking the other's new file."""
    guard = os.open(path.with_name(path.name + ".guard"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                    0o644)
    try:
        fcntl.flock(guard, fcntl.LOCK_EX)
        with contextlib.suppress(FileNotFoundError):
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                os.unlink(path)
    finally:
        os.close(guard)


def _try_lock(path: Path) -> int | None:
    """The locked file's descriptor, or None to try again at once (the file was replaced).

    Raises BuildBusy naming the holder when a live process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder_of_locked(fd)
        if holder is not None and not _alive(holder.pid):
            _replace_stale(path, fd)
            os.close(fd)
            return None
        os.close(fd)
        raise BuildBusy(holder) from None
    try:
        same = os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        same = False
    if not same:  # replaced as stale between our open and our lock
        os.close(fd)
        return None
    return fd


def _acquire(path: Path, holder: Holder) -> int:
    while True:
        fd = _try_lock(path)
        if fd is not None:
            _write_holder(fd, holder)
            return fd


def _release(fd: int) -> None:
    try:
        os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing the only descriptor drops the flock


@contextlib.contextmanager
def build_lock(paths: WarehousePaths, started_by: str, *, run_id: str = "", wait: bool = False,
               on_wait: Callable[[BuildBusy], None] | None = None) -> Iterator[None]:
    """Hold the build lock of the warehouse at `paths` for the body.

    Already held by this process: the body runs under it (the holder gains `run_id`).
    Held by another process for the run `run_id`: the body runs under that run's lock.
    Otherwise held: BuildBusy at once, or with `wait` the body runs when it is free
    (`on_wait` is told once whom it waits for).
    """
    paths.root.mkdir(parents=True, exist_ok=True)
    path = lock_path(paths).resolve()
    held = _HELD.get(path)
    if held is not None:
        before = held.holder
        if run_id and before.run_id != run_id:
            held.holder = replace(before, run_id=run_id)
            _write_holder(held.fd, held.holder)
        try:
            yield
        finally:
            if held.holder != before:
                held.holder = before
                _write_holder(held.fd, before)
        return
    told = False
    while True:
        holder = Holder(pid=os.getpid(),
                        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
                        started_by=started_by, run_id=run_id)
        try:
            fd: int | None = _acquire(path, holder)
            break
        except BuildBusy as busy:
            if run_id and busy.holder is not None and busy.holder.run_id == run_id:
                fd = None  # a step of the run whose own process holds the lock
                break
            if not wait:
                raise
            if on_wait is not None and not told:
                on_wait(busy)
                told = True
        time.sleep(WAIT_INTERVAL)
    if fd is None:
        yield
        return
    _HELD[path] = _Held(fd, holder)
    try:
        yield
    finally:
        del _HELD[path]
        _release(fd)
