"""Time every stage over the corpus as a whole process; print a table, write results.json.

    .venv/bin/python -m bench.run [--warehouse DIR] [--stages cards,xlsx,...]

Each stage and its baseline run in the same invocation, on the same input, one
after the other, each as its own process (`bench.stages`, or the `socfund` command
itself for the rebuilds); the wall time is the process's from start to exit and the
peak memory is its whole process tree's (`bench.measure`). DuckDB's memory limit and
threads are set for every stage through SOCFUND_DUCKDB_MEMORY_LIMIT and
SOCFUND_DUCKDB_THREADS. The corpus must exist (`python -m bench.generate`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench.generate import clear_derived, default_warehouse, read_stamp
from bench.measure import Measured, run_measured
from pipelines.duckdb_config import (
    DEFAULT_MEMORY_LIMIT,
    DEFAULT_THREADS,
    MEMORY_LIMIT_ENV,
    THREADS_ENV,
    quote_ident,
)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_RESULTS = REPO / "bench" / "results.json"
# Below this scale the corpus is a smoke test: a missing `--from-raw` skips the rebuilds.
TINY_SCALE = 0.01
MB = 1024**2


@dataclass(frozen=True)
class Spec:
    name: str
    description: str
    baseline: str | None = None
    baseline_description: str = ""
    # "rate": ratio = items/s ÷ baseline items/s (higher is better);
    # "time": ratio = wall ÷ baseline wall (lower is better).
    compare: str = "time"
    target: str = ""


SPECS = [
    Spec("cards", "ФПГ cards: parse_card + schema, per contest, every core",
         "cards-baseline", "lxml.html.fromstring alone, one process", "rate",
         "≥ 0.5× the bare parse's pages/s"),
    Spec("xlsx", "ФПГ bulk XLSX: parse_xlsx + schema + store load",
         "xlsx-baseline", "python-calamine reading the sheet", "time",
         "≤ 1.5× calamine's time"),
    Spec("rebuild", "socfund build --from-raw: parse, validate, load, dbt build, exports",
         target="< 600 s wall, < 2048 MB peak RSS"),
    Spec("rebuild-unchanged", "socfund build --from-raw again, nothing changed",
         target="< 10 s wall"),
    Spec("csv", "CSV exports (pipelines.publish.tables.write_csv) of every public table "
         "+ quarantine",
         "csv-baseline", "DuckDB COPY … (FORMAT csv) of the same tables", "time",
         "none set (reported)"),
    Spec("aggregate", "sum(amount_awarded) by region_code, year over main.fact_grant",
         target="median < 100 ms"),
]
STAGE_NAMES = [s.name for s in SPECS]


# --- the machine ----------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024**2, 1)
    return 0.0


def load_average() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def machine() -> dict:
    return {"cpu_model": _cpu_model(), "cores": os.cpu_count(), "ram_gb": _ram_gb(),
            "kernel": platform.release(), "load_average_at_start": load_average()}


def versions() -> dict:
    out = {"python": platform.python_version()}
    for package in ("duckdb", "dagster", "dbt-core", "dbt-duckdb", "pandera", "lxml",
                    "python-calamine", "xlsxwriter", "zstandard"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = None
    return out


# --- running --------------------------------------------------------------------------------


def socfund_command() -> Path:
    return Path(sys.executable).parent / "socfund"


def from_raw_supported() -> bool:
    done = subprocess.run([str(socfund_command()), "build", "--help"], capture_output=True,
                          text=True, check=False)
    return "--from-raw" in done.stdout


@dataclass
class Runner:
    warehouse: Path
    scratch: Path
    env: dict[str, str]
    workers: int
    build_workers: int

    def stage(self, name: str) -> tuple[Measured, dict]:
        out = self.scratch / f"{name}.result.json"
        out.unlink(missing_ok=True)
        log = self.scratch / f"{name}.log"
        with log.open("wb") as fh:
            measured = run_measured(
                [sys.executable, "-m", "bench.stages", name, "--warehouse", str(self.warehouse),
                 "--scratch", str(self.scratch / name), "--out", str(out),
                 "--workers", str(self.workers)],
                env=self.env, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT)
        if measured.returncode != 0:
            raise StageFailed(f"{name} exited {measured.returncode}; see {log}")
        return measured, json.loads(out.read_text(encoding="utf-8"))

    def build(self, name: str) -> tuple[Measured, dict]:
        log = self.scratch / f"{name}.log"
        with log.open("wb") as fh:
            measured = run_measured(
                [str(socfund_command()), "build", "--from-raw", "--warehouse",
                 str(self.warehouse), "--workers", str(self.build_workers),
                 "--log-level", "INFO"],
                env=self.env, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT)
        if measured.returncode != 0:
            raise StageFailed(f"{name}: socfund build exited {measured.returncode}; see {log}")
        return measured, {"unit": "rows", **store_rows(self.warehouse),
                          "steps_seen_s": step_timeline(log)}


class StageFailed(RuntimeError):
    pass


_LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) [+-]\d{4} - dagster - \w+ - "
                       r"[^ ]+ - [0-9a-f-]+ - (?:\d+ - )?([^ ]+) - ")


def step_timeline(log: Path) -> dict[str, list[float]]:
    """Step -> [first, last] second its log lines were written, from the first line.

    The build logs at INFO, one line per load and one as each publishing step ends, so
    this shows where the time went (to the second) without a profiler in the process.
    """
    seen: dict[str, list[float]] = {}
    start = None
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        match = _LOG_LINE.match(line)
        if not match:
            continue
        when = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S").timestamp()
        start = when if start is None else start
        step = re.sub(r"\[.*\]$", "[…]", match.group(2))
        first_last = seen.setdefault(step, [when - start, when - start])
        first_last[1] = when - start
    return dict(sorted(seen.items(), key=lambda item: item[1]))


def store_rows(warehouse: Path) -> dict:
    """Rows the build holds in the store: loaded (raw) and quarantined, every source."""
    from pipelines.duckdb_config import connect

    con = connect(warehouse / "store.duckdb", read_only=True)
    try:
        rows = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() "
            "WHERE schema_name IN ('raw', 'quarantine') AND table_name <> 'fetch_log'"
        ).fetchall()
        counts = {f"{s}.{t}": con.execute(
                      f"SELECT count(*) FROM {quote_ident(s)}.{quote_ident(t)}").fetchone()[0]
                  for s, t in rows}
    finally:
        con.close()
    loaded = sum(n for k, n in counts.items() if k.startswith("raw."))
    held = sum(n for k, n in counts.items() if k.startswith("quarantine."))
    return {"items": loaded + held, "loaded": loaded, "quarantined": held, "tables": counts}


def _figures(measured: Measured, result: dict) -> dict:
    items = result.get("items")
    return {
        "items": items, "unit": result.get("unit"), "wall_s": round(measured.wall_s, 2),
        "items_per_s": round(items / measured.wall_s, 1) if items and measured.wall_s else None,
        "peak_rss_mb": round(measured.peak_rss_mb, 1),
        "peak_processes": measured.peak_processes,
        "peak_by_process_mb": [[name, round(size / MB, 1)]
                               for name, size in measured.peak_breakdown[:6]],
    }


def judge(spec: Spec, stage: dict, baseline: dict | None) -> tuple[float | None, bool | None]:
    """The ratio to the baseline (or the measured figure) and whether the target is met."""
    if spec.name == "cards":
        ratio = stage["items_per_s"] / baseline["items_per_s"]
        return round(ratio, 3), ratio >= 0.5
    if spec.name == "xlsx":
        ratio = stage["wall_s"] / baseline["wall_s"]
        return round(ratio, 3), ratio <= 1.5
    if spec.name == "csv":
        return round(stage["wall_s"] / baseline["wall_s"], 3), None
    if spec.name == "rebuild":
        return None, stage["wall_s"] < 600 and stage["peak_rss_mb"] < 2048
    if spec.name == "rebuild-unchanged":
        return None, stage["wall_s"] < 10
    if spec.name == "aggregate":
        return None, stage["details"]["median_ms"] < 100
    return None, None


def run_stage(spec: Spec, runner: Runner, *, rebuild_ok: str | None) -> dict:
    entry: dict = {"name": spec.name, "description": spec.description, "target": spec.target,
                   "load_average_before": load_average()}
    print(f"bench: {spec.name} …", file=sys.stderr, flush=True)
    try:
        if spec.name.startswith("rebuild"):
            if rebuild_ok is not None:
                return {**entry, "status": "skipped", "reason": rebuild_ok}
            if spec.name == "rebuild":
                # A full rebuild: nothing derived is left from an earlier run.
                clear_derived(runner.warehouse)
            measured, result = runner.build(spec.name)
        else:
            if spec.name in ("csv", "aggregate") and \
                    not (runner.warehouse / "socfund.duckdb").exists():
                return {**entry, "status": "skipped",
                        "reason": "no published warehouse (the rebuild stage makes it)"}
            baseline = None
            if spec.baseline:
                b_measured, b_result = runner.stage(spec.baseline)
                baseline = {"name": spec.baseline, "description": spec.baseline_description,
                            **_figures(b_measured, b_result),
                            "details": _details(b_result)}
            measured, result = runner.stage(spec.name)
    except StageFailed as exc:
        return {**entry, "status": "failed", "reason": str(exc), "passed": False}
    stage = {**entry, "status": "ok", **_figures(measured, result),
             "details": _details(result)}
    if spec.baseline:
        stage["baseline"] = baseline
    ratio, passed = judge(spec, stage, stage.get("baseline"))
    stage["ratio"] = ratio
    stage["ratio_meaning"] = {"rate": "items/s ÷ baseline items/s",
                              "time": "wall ÷ baseline wall"}.get(spec.compare) \
        if spec.baseline else None
    stage["passed"] = passed
    return stage


def _details(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in ("items", "unit")}


# --- the table ------------------------------------------------------------------------------


def _num(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}".replace(",", " ")
    return f"{value:,}".replace(",", " ")


def table(results: dict) -> str:
    head = ["stage", "items", "wall s", "items/s", "peak MB", "baseline wall s",
            "baseline items/s", "baseline MB", "ratio", "target", "result"]
    rows = [head]
    for s in results["stages"]:
        b = s.get("baseline") or {}
        extra = ""
        if s["name"] == "aggregate" and s.get("status") == "ok":
            extra = f" (median {s['details']['median_ms']} ms)"
        result = {True: "PASS", False: "FAIL", None: "—"}[s.get("passed")]
        if s.get("status") != "ok":
            result = s.get("status", "?").upper()
        rows.append([
            s["name"] + extra, _num(s.get("items")), _num(s.get("wall_s"), 2),
            _num(s.get("items_per_s")), _num(s.get("peak_rss_mb"), 0),
            _num(b.get("wall_s"), 2), _num(b.get("items_per_s")), _num(b.get("peak_rss_mb"), 0),
            f"{s['ratio']:.2f}×" if s.get("ratio") is not None else "—", s["target"], result,
        ])
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# --- main -----------------------------------------------------------------------------------


def run(warehouse: Path, *, stages: list[str], results_path: Path, scratch: Path,
        memory_limit: str, threads: int, workers: int, build_workers: int = 1) -> dict:
    warehouse = warehouse.resolve()
    stamp = read_stamp(warehouse)
    if stamp is None:
        raise SystemExit(f"bench: no corpus in {warehouse}; run `python -m bench.generate` "
                         "first (or `make bench`)")
    scratch.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, MEMORY_LIMIT_ENV: memory_limit, THREADS_ENV: str(threads),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    runner = Runner(warehouse, scratch, env, workers, build_workers)
    rebuild_ok = None
    if any(s.startswith("rebuild") for s in stages) and not from_raw_supported():
        rebuild_ok = "`socfund build` has no --from-raw yet"
        if stamp["scale"] >= TINY_SCALE:
            raise SystemExit(f"bench: {rebuild_ok}: the full rebuild cannot be measured")
    results = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(),
        "duckdb": {"memory_limit": memory_limit, "threads": threads,
                   "set_through": [MEMORY_LIMIT_ENV, THREADS_ENV]},
        "workers": {"cards": workers, "socfund_build": build_workers},
        "corpus": stamp,
        "warehouse": str(warehouse),
        "stages": [],
    }
    for spec in SPECS:
        if spec.name in stages:
            results["stages"].append(run_stage(spec, runner, rebuild_ok=rebuild_ok))
    results["machine"]["load_average_at_end"] = load_average()
    judged = [s["passed"] for s in results["stages"] if s.get("passed") is not None]
    results["all_targets_passed"] = all(judged) if judged else None
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n",
                            encoding="utf-8")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--warehouse", type=Path, default=default_warehouse(),
                        help="the corpus's warehouse folder (default: bench/.work/warehouse)")
    parser.add_argument("--stages", default=",".join(STAGE_NAMES),
                        help=f"comma-separated, of {', '.join(STAGE_NAMES)} (default: all)")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("--scratch", type=Path, help="stage outputs and logs "
                        "(default: beside the warehouse, in stages/)")
    parser.add_argument("--memory-limit", default=DEFAULT_MEMORY_LIMIT,
                        help=f"DuckDB memory limit, every stage (default {DEFAULT_MEMORY_LIMIT})")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help=f"DuckDB threads for every stage (default {DEFAULT_THREADS})")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="processes for the card stage (default: 2)")
    parser.add_argument("--build-workers", type=int, default=1,
                        help="`socfund build --workers` for the rebuilds (default: 1, the "
                        "command's own default: every step in one process)")
    args = parser.parse_args(argv)
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = sorted(set(stages) - set(STAGE_NAMES))
    if unknown:
        parser.error(f"unknown stages: {', '.join(unknown)}")
    scratch = args.scratch or args.warehouse.resolve().parent / "stages"
    results = run(args.warehouse, stages=stages, results_path=args.results, scratch=scratch,
                  memory_limit=args.memory_limit, threads=args.threads, workers=args.workers,
                  build_workers=args.build_workers)
    print(table(results))
    print(f"\nresults: {args.results}")
    failed = [s["name"] for s in results["stages"] if s.get("status") == "failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
