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
import statistics
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench.generate import clear_derived, default_warehouse, read_stamp
from bench.measure import Measured, run_measured
from pipelines.duckdb_config import (
    DBT_MEMORY_LIMIT_ENV,
    DEFAULT_MEMORY_LIMIT,
    DEFAULT_THREADS,
    EXPORT_MEMORY_LIMIT_ENV,
    MEMORY_LIMIT_ENV,
    THREADS_ENV,
    dbt_memory_limit,
    export_memory_limit,
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
    # The target as figures: the ratio's bound (at most for "time", at least for "rate"),
    # the wall and peak bounds (strictly below), the median query's bound in ms.
    ratio_limit: float | None = None
    wall_limit_s: float | None = None
    peak_limit_mb: float | None = None
    median_ms_limit: float | None = None
    # Runs of the stage (and of its baseline, in turn); with more than one, the figures are
    # the medians of the runs, and a ratio is of the two medians. A stage of a few seconds
    # measured once moves with the machine's minute: `json.loads` of the same pages took
    # 2.4 s in one run and 3.5 s in another the same day. The CSV stages write some 375 MB
    # each and move with the disk: the same stage took 1.9 to 3.9 s within one hour (the
    # ratio of the medians of three runs was 1.23×, 0.68× and 1.16× in three invocations
    # that hour), so they run five times.
    runs: int = 1
    # The imports every path makes and one bare read, nothing else (`bench.stages`, «the
    # references»), run in turn with the stage and its baseline; its ratio is to the same
    # baseline: how much of the target those two alone take on this machine.
    reference: str | None = None
    reference_description: str = ""


_IMPORTS = "pandera.polars, polars and DuckDB imported; "

SPECS = [
    Spec("cards", "ФПГ cards: parse_card + schema, per contest, every core",
         "cards-baseline", "lxml.html.fromstring alone, one process", "rate",
         "≥ 0.5× the bare parse's pages/s", ratio_limit=0.5),
    Spec("xlsx", "ФПГ bulk XLSX: parse_xlsx + schema + store load",
         "xlsx-baseline", "python-calamine reading the sheet", "time",
         "≤ 1.0× calamine's time", ratio_limit=1.0, runs=3, reference="xlsx-reference",
         reference_description=_IMPORTS + "fastexcel reading the sheet to Arrow"),
    Spec("federal", "federal СО НКО registry XLSX: parse_federal + schema + store load",
         "federal-baseline", "python-calamine reading every sheet", "time",
         "≤ 1.5× calamine's time", ratio_limit=1.5, runs=3, reference="federal-reference",
         reference_description=_IMPORTS + "fastexcel reading every sheet to Arrow"),
    Spec("ebudget", "Электронный бюджет pages: parse_agreements + parse_agreement_periods "
         "+ schemas + store load of both tables",
         "ebudget-baseline", "json.loads of the same pages", "time",
         "≤ 1.5× json.loads's time", ratio_limit=1.5, runs=3, reference="ebudget-reference",
         reference_description=_IMPORTS + "json.loads of the same pages"),
    Spec("rebuild", "socfund build --from-raw: parse, validate, load, dbt build, exports "
         "(median of 3 runs)",
         target="median < 240 s wall, < 1536 MB peak RSS", wall_limit_s=240,
         peak_limit_mb=1536, runs=3),
    Spec("rebuild-unchanged", "socfund build --from-raw again, nothing changed",
         target="< 10 s wall", wall_limit_s=10),
    Spec("csv", "CSV exports (pipelines.publish.tables.write_csv) of every public table "
         "+ quarantine",
         "csv-baseline", "DuckDB COPY … (FORMAT csv) of the same tables", "time",
         "≤ 1.2× COPY's time", ratio_limit=1.2, runs=5),
    Spec("aggregate", "sum(amount_awarded) by region_code, year over main.fact_grant",
         target="median < 100 ms", median_ms_limit=100),
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
        _settle()
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
        _settle()
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


def _settle() -> None:
    """Write out what earlier stages left in the page cache before a stage is timed: a
    stage writing files (the CSV stages write some 375 MB each) must not be slowed by the
    kernel still writing the files of the one before it."""
    os.sync()


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
        "cpu_s": None if measured.cpu_s is None else round(measured.cpu_s, 2),
        "user_s": None if measured.user_s is None else round(measured.user_s, 2),
        "system_s": None if measured.system_s is None else round(measured.system_s, 2),
        "peak_processes": measured.peak_processes,
        "peak_by_process_mb": [[name, round(size / MB, 1)]
                               for name, size in measured.peak_breakdown[:6]],
    }


def judge(spec: Spec, stage: dict, baseline: dict | None) -> tuple[float | None, bool | None]:
    """The ratio to the baseline (or None) and whether the target is met (None: none set)."""
    ratio = None
    checks: list[bool] = []
    if baseline is not None:
        if spec.compare == "rate":
            ratio = stage["items_per_s"] / baseline["items_per_s"]
        else:
            ratio = stage["wall_s"] / baseline["wall_s"]
        if spec.ratio_limit is not None:
            checks.append(ratio >= spec.ratio_limit if spec.compare == "rate"
                          else ratio <= spec.ratio_limit)
        ratio = round(ratio, 3)
    if spec.wall_limit_s is not None:
        checks.append(stage["wall_s"] < spec.wall_limit_s)
    if spec.peak_limit_mb is not None:
        checks.append(stage["peak_rss_mb"] < spec.peak_limit_mb)
    if spec.median_ms_limit is not None:
        checks.append(stage["details"]["median_ms"] < spec.median_ms_limit)
    return ratio, (all(checks) if checks else None)


def _median_of_runs(runs: list[dict]) -> dict:
    """One figure per measure, the median of the runs' (each measure on its own; the other
    details are the last run's), and every run as measured."""
    median = dict(runs[-1])
    if len(runs) == 1:
        return median
    for key in ("wall_s", "peak_rss_mb", "items_per_s", "cpu_s"):
        values = [r[key] for r in runs if r.get(key) is not None]
        if values:
            median[key] = round(statistics.median(values), 2)
    median["runs"] = [{k: r.get(k) for k in ("wall_s", "cpu_s", "user_s", "system_s",
                                               "peak_rss_mb", "items", "items_per_s",
                                               "peak_processes", "peak_by_process_mb")}
                      for r in runs]
    return median


def run_stage(spec: Spec, runner: Runner, *, rebuild_ok: str | None) -> dict:
    entry: dict = {"name": spec.name, "description": spec.description, "target": spec.target,
                   "load_average_before": load_average()}
    print(f"bench: {spec.name} …", file=sys.stderr, flush=True)
    try:
        if spec.name.startswith("rebuild"):
            if rebuild_ok is not None:
                return {**entry, "status": "skipped", "reason": rebuild_ok}
            runs = []
            for _ in range(spec.runs):
                if spec.name == "rebuild":
                    # A full rebuild: nothing derived is left from an earlier run.
                    clear_derived(runner.warehouse)
                measured, result = runner.build(spec.name)
                runs.append({**_figures(measured, result), "details": _details(result)})
        else:
            if spec.name in ("csv", "aggregate") and \
                    not (runner.warehouse / "socfund.duckdb").exists():
                return {**entry, "status": "skipped",
                        "reason": "no published warehouse (the rebuild stage makes it)"}
            # With several runs, the baseline and the stage take turns (baseline, stage,
            # baseline, …): a minute when the machine is slower weighs on both alike.
            baselines, references, runs = [], [], []
            for _ in range(spec.runs):
                if spec.baseline:
                    b_measured, b_result = runner.stage(spec.baseline)
                    baselines.append({**_figures(b_measured, b_result),
                                      "details": _details(b_result)})
                if spec.reference:
                    r_measured, r_result = runner.stage(spec.reference)
                    references.append({**_figures(r_measured, r_result),
                                       "details": _details(r_result)})
                measured, result = runner.stage(spec.name)
                runs.append({**_figures(measured, result), "details": _details(result)})
    except StageFailed as exc:
        return {**entry, "status": "failed", "reason": str(exc), "passed": False}
    stage = {**entry, "status": "ok", **_median_of_runs(runs)}
    if spec.baseline:
        stage["baseline"] = {"name": spec.baseline, "description": spec.baseline_description,
                             **_median_of_runs(baselines)}
    if spec.reference:
        reference = {"name": spec.reference, "description": spec.reference_description,
                     **_median_of_runs(references)}
        reference["ratio"] = round(reference["wall_s"] / stage["baseline"]["wall_s"], 3)
        stage["reference"] = reference
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
    head = ["stage", "items", "wall s", "cpu s", "items/s", "peak MB", "baseline wall s",
            "baseline cpu s", "baseline items/s", "baseline MB", "ratio", "reference ratio",
            "target", "result"]
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
            _num(s.get("cpu_s"), 2), _num(s.get("items_per_s")), _num(s.get("peak_rss_mb"), 0),
            _num(b.get("wall_s"), 2), _num(b.get("cpu_s"), 2), _num(b.get("items_per_s")),
            _num(b.get("peak_rss_mb"), 0),
            f"{s['ratio']:.2f}×" if s.get("ratio") is not None else "—",
            f"{s['reference']['ratio']:.2f}×" if s.get("reference") else "—", s["target"],
            result,
        ])
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# --- the README's table ---------------------------------------------------------------------

README = REPO / "README.md"
README_BEGIN = "<!-- bench:results -->"
README_END = "<!-- /bench:results -->"
_UNITS = {"rows": "rows", "pages": "pages", "grants": "grants"}


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s" if value < 100 else \
        f"{value:.0f} s"


def _wall_cell(s: dict) -> str:
    if s["name"] == "aggregate":
        return f"{s['details']['median_ms']} ms (median of {s['details']['runs']})"
    wall = _seconds(s.get("wall_s"))
    if s.get("runs") and len(s["runs"]) > 1:
        each = ", ".join(_seconds(r["wall_s"]) for r in s["runs"])
        return f"median {wall} ({each})"
    if s.get("items_per_s") and s.get("unit") == "pages":
        return f"{wall} ({_num(s['items_per_s'])} pages/s)"
    return wall


def _peak_cell(s: dict) -> str:
    peak = f"{_num(round(s['peak_rss_mb']), 0)} MB"
    if s.get("runs") and len(s["runs"]) > 1:
        each = ", ".join(_num(round(r["peak_rss_mb"]), 0) for r in s["runs"])
        return f"median {peak} ({each})"
    return peak


def markdown_table(results: dict) -> str:
    """The README's table of a run: what each stage measured, its baseline in the same run,
    and whether its target was met."""
    corpus = results.get("corpus", {})
    machine_ = results["machine"]
    lines = [
        f"{results['date'][:10]}, `python -m bench.run` over the corpus of seed "
        f"{corpus.get('seed')}, scale {corpus.get('scale')}; {machine_['cpu_model']}, "
        f"{machine_['cores']} cores, {machine_['ram_gb']} GB RAM (load average "
        f"{machine_['load_average_at_start'][0]} at the start); Python "
        f"{results['versions']['python']}, DuckDB {results['versions']['duckdb']} (memory "
        f"limit {results['duckdb']['memory_limit']}, dbt's "
        f"{results['duckdb'].get('dbt_memory_limit', results['duckdb']['memory_limit'])}, "
        f"the release's "
        f"{results['duckdb'].get('export_memory_limit', results['duckdb']['memory_limit'])}, "
        f"{results['duckdb']['threads']} threads). "
        "Processor time: user and system seconds of the stage's process and its helpers "
        "(the median of its runs); on this machine's cores a stage takes at least that time "
        f"divided by {machine_['cores']}. "
        "Reference: the imports every path that validates with pandera and loads DuckDB "
        "makes and one bare read of the input, nothing checked, converted, validated or "
        "loaded, in turn with the stage; its ratio is to the same baseline. "
        "Everything else is in `bench/results.json`, written by the same run.",
        "",
        "| stage | items | wall | processor time | peak memory | baseline, same run | ratio "
        "| reference, same run | target |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in results["stages"]:
        if s.get("status") != "ok":
            lines.append(f"| {s['description']} | | | | | | | | {s['target']} — "
                         f"{s.get('status', '?')} |")
            continue
        b = s.get("baseline")
        baseline = "—" if not b else \
            f"{b['description']}: {_wall_cell(b)}; processor {_seconds(b.get('cpu_s'))}"
        items = "" if s.get("items") is None else \
            f"{_num(s['items'])} {_UNITS.get(s.get('unit') or '', s.get('unit') or '')}"
        verdict = {True: "met", False: "**missed**", None: "reported"}[s.get("passed")]
        ratio = "—" if s.get("ratio") is None else f"{s['ratio']:.2f}×"
        r = s.get("reference")
        reference = "—" if not r else \
            f"{r['description']}: {_wall_cell(r)} = {r['ratio']:.2f}×"
        lines.append(f"| {s['description']} | {items.strip()} | {_wall_cell(s)} | "
                     f"{_seconds(s.get('cpu_s'))} | {_peak_cell(s)} | {baseline} | {ratio} | "
                     f"{reference} | {s['target']} — {verdict} |")
    return "\n".join(lines)


def full_run(results: dict) -> bool:
    """A run the README may show: every stage, over the corpus at the real sources' size."""
    return (results.get("corpus", {}).get("scale") == 1
            and [s["name"] for s in results["stages"]] == STAGE_NAMES)


def write_readme_table(results: dict, readme: Path = README) -> None:
    """Replace the table between the README's markers with this run's."""
    from scrapers.files import write_text_atomic

    text = readme.read_text(encoding="utf-8")
    begin, end = text.find(README_BEGIN), text.find(README_END)
    if begin < 0 or end < begin:
        raise SystemExit(f"bench: {readme} has no {README_BEGIN} … {README_END} block")
    write_text_atomic(readme, text[:begin + len(README_BEGIN)] + "\n" + markdown_table(results)
                      + "\n" + text[end:])


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
                   "dbt_memory_limit": dbt_memory_limit(),
                   "export_memory_limit": export_memory_limit(),
                   "set_through": [MEMORY_LIMIT_ENV, THREADS_ENV, DBT_MEMORY_LIMIT_ENV,
                                   EXPORT_MEMORY_LIMIT_ENV]},
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
    parser.add_argument("--readme", choices=["auto", "always", "never"], default="auto",
                        help="write the README's table of figures: auto (default) when every "
                        "stage ran over the corpus at scale 1, as `make bench` does")
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
    if args.readme == "always" or (args.readme == "auto" and full_run(results)):
        write_readme_table(results)
        print(f"README: the table of {README.name} is this run's")
    else:
        print(f"README: left as it is ({args.readme}: only a full run over the whole corpus "
              "writes its table)")
    failed = [s["name"] for s in results["stages"] if s.get("status") == "failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
