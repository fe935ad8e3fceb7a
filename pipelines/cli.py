"""`socfund`: build the warehouse, or run one parser and its schema on a saved file."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

from pipelines.paths import WarehousePaths, default_warehouse_dir


def _cmd_parse(args: argparse.Namespace) -> int:
    from pipelines.parsers import PARSERS
    from pipelines.store import to_json
    from schemas.base import public_record, validate

    if args.list or not args.kind:
        for spec in PARSERS.values():
            print(f"{spec.name}\t{spec.description}")
        return 0
    spec = PARSERS.get(args.kind)
    if spec is None:
        print(f"socfund parse: unknown kind {args.kind!r}; known: {', '.join(PARSERS)}",
              file=sys.stderr)
        return 2
    if args.file is None:
        print("socfund parse: a FILE is needed", file=sys.stderr)
        return 2
    path = Path(args.file)
    try:
        body = path.read_bytes()
    except OSError as exc:
        print(f"socfund parse: {path}: cannot read: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        records = spec.parse(body, url=str(path))
    except ValueError as exc:
        print(f"socfund parse: {spec.name}: {path}: {exc}", file=sys.stderr)
        return 2
    result = validate(records, spec.entity)
    for rec in result.valid:
        print(to_json(public_record(rec)))
    for q in result.quarantined:
        print(to_json({"row": q.row, "record": q.record, "reasons": q.reasons}), file=sys.stderr)
    return 1 if result.quarantined else 0


def _run_build(mode: str, warehouse_dir: str, samples_dir: str, log_level: str, workers: int):
    """Run `build_all`: in this process, or with Dagster's multiprocess executor."""
    from dagster import DagsterInstance, execute_job, reconstructable

    from pipelines.definitions import build_all_job, make_resources

    loggers = {"console": {"config": {"log_level": log_level}}}
    if workers <= 1:
        with DagsterInstance.ephemeral() as instance:
            result = build_all_job().execute_in_process(
                instance=instance, raise_on_error=False, run_config={"loggers": loggers},
                resources=make_resources(mode=mode, warehouse_dir=warehouse_dir,
                                         samples_dir=samples_dir))
        return result.success, list(result.all_events)
    # Steps run in their own processes, at most `workers` at a time; the resources come
    # from run config since each process rebuilds the job from the module.
    run_config = {
        "loggers": loggers,
        # A forkserver that has imported the definitions once: each step forks from it
        # instead of importing Dagster, dbt and the parsers again.
        "execution": {"config": {"multiprocess": {
            "max_concurrent": workers,
            "start_method": {"forkserver": {"preload_modules": ["pipelines.definitions"]}},
        }}},
        "resources": {
            "warehouse": {"config": {"warehouse_dir": warehouse_dir}},
            "sources": {"config": {"mode": mode, "samples_dir": samples_dir}},
        },
    }
    with tempfile.TemporaryDirectory(prefix="socfund-dagster-") as home, \
            DagsterInstance.local_temp(home) as instance:
        result = execute_job(reconstructable(build_all_job), instance=instance,
                             run_config=run_config, raise_on_error=False)
        return result.success, list(result.all_events)


def _cmd_build(args: argparse.Namespace) -> int:
    from pipelines.unchanged import (
        forget_last_good_build,
        remember_good_build,
        unchanged_since_last_good_build,
    )

    if args.live and args.from_raw:
        print("socfund build: --live and --from-raw exclude each other", file=sys.stderr)
        return 2
    warehouse_dir = str(Path(args.warehouse).resolve()) if args.warehouse else ""
    samples_dir = str(Path(args.samples).resolve()) if args.samples else ""
    mode = "live" if args.live else "raw" if args.from_raw else "samples"
    paths = WarehousePaths(Path(warehouse_dir) if warehouse_dir else default_warehouse_dir())
    if args.from_raw and unchanged_since_last_good_build(paths):
        print(f"Nothing changed since the last good build: the documents in {paths.raw_dir}, "
              f"the parsers, schemas and dbt project are the same; {paths.published_db} "
              f"stands as it is.")
        return 0
    forget_last_good_build(paths)
    success, events = _run_build(mode, warehouse_dir, samples_dir, args.log_level,
                                 args.workers)
    if success:
        from pipelines.summary import print_summary

        remember_good_build(paths, live=args.live)
        print_summary(paths)
        return 0
    failed = [e for e in events if e.is_step_failure]
    published = any(e.is_step_success and e.step_key == "warehouse__published" for e in events)
    for event in failed:
        err = event.step_failure_data.error
        user = event.step_failure_data.user_failure_data
        message = user.description if user and user.description else (
            err.message.strip() if err else "")
        print(f"FAILED {event.step_key}: {message}", file=sys.stderr)
    if published:
        print("the warehouse was published with the last good data of the sources above",
              file=sys.stderr)
    else:
        print("the published warehouse was left as it was", file=sys.stderr)
    return 1


def _cmd_export(args: argparse.Namespace) -> int:
    from datetime import date

    from pipelines.dbt_project import dbt_project
    from pipelines.exports import export_release
    from pipelines.warehouse import today_in_moscow

    paths = WarehousePaths(Path(args.warehouse) if args.warehouse else default_warehouse_dir())
    if not paths.published_db.exists():
        print(f"socfund export: no warehouse at {paths.published_db}; run `socfund build`",
              file=sys.stderr)
        return 2
    when = date.fromisoformat(args.date) if args.date else today_in_moscow()
    release = export_release(paths.published_db, paths.exports_dir, release_date=when,
                             manifest_path=dbt_project.manifest_path)
    print(f"Release: {release}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from pipelines.serve import serve

    root = Path(args.warehouse) if args.warehouse else default_warehouse_dir()
    print(f"Serving {root} on http://{args.host}:{args.port}/site/ (Ctrl+C stops)")
    serve(root, host=args.host, port=args.port)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="socfund", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    build = sub.add_parser("build", help="fetch, validate, load and build the warehouse")
    build.add_argument("--live", action="store_true",
                       help="fetch from the real sites instead of samples/ (the default)")
    build.add_argument("--warehouse", help="warehouse folder (default: ./warehouse or "
                       "$SOCFUND_WAREHOUSE_DIR)")
    build.add_argument("--from-raw", action="store_true",
                       help="fetch nothing: re-parse and rebuild from the documents already "
                       "kept in the raw store (after a parser fix)")
    build.add_argument("--samples", help="samples folder served offline (default: samples/)")
    build.add_argument("--workers", type=int, default=1,
                       help="steps run at once by Dagster's multiprocess executor (ФПГ "
                       "contests in parallel); 1 (default) runs every step in this process")
    build.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"],
                       help="how much of the run to log (default: INFO)")
    build.set_defaults(func=_cmd_build)

    export = sub.add_parser("export", help="write a dated release of the published warehouse")
    export.add_argument("--warehouse", help="warehouse folder (default: ./warehouse)")
    export.add_argument("--date", help="release date, YYYY-MM-DD (default: today, Moscow time)")
    export.set_defaults(func=_cmd_export)

    serve = sub.add_parser("serve", help="serve warehouse/ (the page and the downloads)")
    serve.add_argument("--warehouse", help="warehouse folder (default: ./warehouse)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.set_defaults(func=_cmd_serve)

    parse = sub.add_parser("parse", help="run one parser and its schema on a saved file")
    parse.add_argument("kind", nargs="?", help="SOURCE.KIND, e.g. fpg.card")
    parse.add_argument("file", nargs="?", help="the saved page or file")
    parse.add_argument("--list", action="store_true", help="list every SOURCE.KIND")
    parse.set_defaults(func=_cmd_parse)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
