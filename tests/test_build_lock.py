"""One build of a warehouse at a time: `<warehouse>/.build.lock`.

A second `socfund build` or Dagster run of the same warehouse refuses at once in one line
naming the running build; a lock left by a dead process does not block.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.duckdb_config import quote_ident as ident
from pipelines.paths import WarehousePaths

REPO = Path(__file__).resolve().parent.parent
SINCE = "2025-06-01T09:00:00+00:00"
# A process holding the lock as a build does: flock on the file, its name written in it.
HOLDER = r"""
import fcntl, json, os, sys, time
path, pid, run_id, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
fd = os.open(path, os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.ftruncate(fd, 0)
os.write(fd, json.dumps({"pid": pid or os.getpid(), "started_at": sys.argv[5],
                         "started_by": "socfund build (samples)", "run_id": run_id}).encode())
print("held", flush=True)
time.sleep(seconds)
"""


def _hold(warehouse: Path, *, pid: int = 0, run_id: str = "",
          seconds: float = 600) -> subprocess.Popen:
    warehouse.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(warehouse / ".build.lock"),
                             str(pid), run_id, str(seconds), SINCE], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)


def _dead_pid() -> int:
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


def _socfund(*args: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _refusal(pid: int) -> str:
    return (f"socfund build: another build of this warehouse has been running since "
            f"2025-06-01 09:00:00 UTC, PID {pid}, socfund build (samples)")


def test_a_second_socfund_build_refuses_at_once_in_one_line(tmp_path):
    warehouse = tmp_path / "warehouse"
    holder = _hold(warehouse)
    try:
        started = time.monotonic()
        done = _socfund("build", "--warehouse", str(warehouse), "--log-level", "WARNING",
                        timeout=120)
        took = time.monotonic() - started
    finally:
        _stop(holder)
    assert "Traceback" not in done.stderr
    assert done.returncode == 3, done.stderr[-3000:]
    assert done.stderr.splitlines() == [
        _refusal(holder.pid) + "; run again when it has finished, or with --wait"]
    assert done.stdout == ""
    assert took < 30
    assert sorted(p.name for p in warehouse.iterdir()) == [".build.lock"]  # nothing touched


def test_a_dagster_run_refuses_while_another_build_holds_the_lock(tmp_path):
    from dagster import DagsterInstance, execute_job, reconstructable

    from pipelines.definitions import build_all_job

    warehouse = tmp_path / "warehouse"
    holder = _hold(warehouse)
    run_config = {
        "execution": {"config": {"in_process": {}}},
        "resources": {"warehouse": {"config": {"warehouse_dir": str(warehouse)}}},
        "loggers": {"console": {"config": {"log_level": "WARNING"}}},
    }
    try:
        (tmp_path / "dagster").mkdir()
        with DagsterInstance.local_temp(str(tmp_path / "dagster")) as instance:
            result = execute_job(reconstructable(build_all_job), instance=instance,
                                 run_config=run_config, raise_on_error=False,
                                 tags={"dagster/schedule_name": "nightly_schedule"})
            events = list(result.all_events)
    finally:
        _stop(holder)
    assert not result.success
    assert not [e for e in events if e.event_type_value == "STEP_START"]
    failure = next(e for e in events if e.event_type_value == "PIPELINE_FAILURE")
    message = failure.job_failure_data.error.message
    assert _refusal(holder.pid).removeprefix("socfund build: ") in message
    assert not (warehouse / "store.duckdb").exists()


def test_the_steps_of_the_run_holding_the_lock_go_on_and_no_other(tmp_path):
    from pipelines.buildlock import BuildBusy, build_lock

    paths = WarehousePaths(tmp_path / "warehouse")
    holder = _hold(paths.root, run_id="run-a")
    try:
        with build_lock(paths, "a step", run_id="run-a"):
            pass
        for other in ("run-b", ""):
            with pytest.raises(BuildBusy) as busy, build_lock(paths, "a step", run_id=other):
                pass
            assert str(busy.value) == _refusal(holder.pid).removeprefix("socfund build: ")
    finally:
        _stop(holder)


def test_a_run_inside_socfund_build_goes_on_under_its_lock(tmp_path):
    from pipelines.buildlock import build_lock

    paths = WarehousePaths(tmp_path / "warehouse")
    lock = paths.root / ".build.lock"
    with build_lock(paths, "socfund build (samples)"):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
        with build_lock(paths, "Dagster run", run_id="run-a"):
            held = json.loads(lock.read_text())
            assert (held["pid"], held["run_id"]) == (os.getpid(), "run-a")
        assert json.loads(lock.read_text())["run_id"] == ""
    assert lock.read_text() == ""  # released


def test_a_lock_file_left_by_a_dead_process_does_not_block(tmp_path):
    from pipelines.buildlock import build_lock

    paths = WarehousePaths(tmp_path / "warehouse")
    paths.root.mkdir(parents=True)
    lock = paths.root / ".build.lock"
    lock.write_text(json.dumps({"pid": _dead_pid(), "started_at": SINCE,
                                "started_by": "socfund build (samples)"}))
    started = time.monotonic()
    with build_lock(paths, "socfund build (samples)"):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert time.monotonic() - started < 5


def test_a_lock_held_by_a_child_of_a_killed_build_does_not_block(tmp_path):
    from pipelines.buildlock import build_lock

    paths = WarehousePaths(tmp_path / "warehouse")
    # The file still locked, by a process that outlived the build whose PID it names.
    orphan = _hold(paths.root, pid=_dead_pid())
    try:
        with build_lock(paths, "socfund build (samples)"):
            assert json.loads((paths.root / ".build.lock").read_text())["pid"] == os.getpid()
    finally:
        _stop(orphan)


def test_wait_runs_when_the_running_build_ends(tmp_path):
    from pipelines.buildlock import build_lock

    paths = WarehousePaths(tmp_path / "warehouse")
    holder = _hold(paths.root, seconds=2)
    told = []
    try:
        started = time.monotonic()
        with build_lock(paths, "socfund build (samples)", wait=True, on_wait=told.append):
            waited = time.monotonic() - started
    finally:
        _stop(holder)
    assert [b.holder.pid for b in told] == [holder.pid]
    assert 1 < waited < 30


# --- two real builds ----------------------------------------------------------------------------

def _counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() "
            "WHERE schema_name IN ('main', 'raw', 'quarantine', 'meta') "
            "AND table_name NOT IN ('fetch_log', 'loads', 'source_status') ORDER BY 1, 2"
        ).fetchall()
        return {f"{s}.{t}": con.execute(f"SELECT count(*) FROM {ident(s)}.{ident(t)}")
                .fetchone()[0] for s, t in tables}
    finally:
        con.close()


def _kept_a_document(warehouse: Path) -> bool:
    raw = warehouse / "raw"
    return raw.is_dir() and next(raw.rglob("manifest.json"), None) is not None


def _start_build(warehouse: Path, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "pipelines.cli", "build", "--warehouse",
                                 str(warehouse), "--log-level", "WARNING"], cwd=REPO,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def test_two_builds_of_one_warehouse_at_once_one_builds_the_other_refuses(tmp_path):
    one, other = tmp_path / "one", tmp_path / "other"
    first = _start_build(one, tmp_path / "first.log")
    # A build of another warehouse at the same time is not held up, and is the reference.
    reference = _start_build(other, tmp_path / "reference.log")
    try:
        deadline = time.monotonic() + 900
        while not _kept_a_document(one):
            assert first.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the first build kept no document"
            time.sleep(0.2)
        second = _socfund("build", "--warehouse", str(one), "--log-level", "WARNING",
                          timeout=1800)
        assert first.wait(timeout=1800) == 0, (tmp_path / "first.log").read_text()[-3000:]
        assert reference.wait(timeout=1800) == 0, \
            (tmp_path / "reference.log").read_text()[-3000:]
    finally:
        for proc in (first, reference):
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.wait(timeout=60)
    assert "Traceback" not in second.stderr
    assert second.returncode == 3, second.stderr[-3000:]
    [line] = second.stderr.splitlines()
    assert line.startswith("socfund build: another build of this warehouse has been running "
                           "since "), line
    assert f"PID {first.pid}, socfund build (samples)" in line
    assert second.stdout == ""
    # The warehouse is one build's: the same rows as the other warehouse's, built once.
    assert _counts(one / "socfund.duckdb") == _counts(other / "socfund.duckdb")
    assert _counts(one / "store.duckdb") == _counts(other / "store.duckdb")
    assert _counts(one / "socfund.duckdb")["meta.build"] == 1
