"""`socfund`: build the warehouse, or run one parser and its schema on a saved file."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

from pipelines.paths import WarehousePaths, default_warehouse_dir

# What each exit code means (README, «Command line»).
EXIT_OK = 0
EXIT_FAILED = 1        # a build step failed; `parse`: records were quarantined
EXIT_CANNOT_START = 2  # bad arguments, an unreadable file, a missing folder, a busy port
EXIT_BUSY = 3          # another build of the same warehouse is running
EXIT_PIPE_CLOSED = 141  # the reader of stdout closed it (`| head`), as for SIGPIPE


def _cmd_parse(args: argparse.Namespace) -> int:
    from pipelines.registry import parse_kinds
    from pipelines.store import to_json
    from schemas.base import public_record, validate_parsed

    kinds = parse_kinds()
    if args.list or not args.kind:
        for spec in kinds.values():
            print(f"{spec.cli_name}\t{spec.description}")
        return 0
    spec = kinds.get(args.kind)
    if spec is None:
        print(f"socfund parse: unknown kind {args.kind!r}; known: {', '.join(kinds)}",
              file=sys.stderr)
        return EXIT_CANNOT_START
    if args.file is None:
        print("socfund parse: a FILE is needed", file=sys.stderr)
        return EXIT_CANNOT_START
    path = Path(args.file)
    try:
        body = path.read_bytes()
    except OSError as exc:
        print(f"socfund parse: {path}: cannot read: {exc.strerror}", file=sys.stderr)
        return EXIT_CANNOT_START
    try:
        records = spec.parse(body, url=str(path))
    except ValueError as exc:
        # A parser's reason may already begin with the document it names.
        reason = str(exc).removeprefix(f"{path}: ")
        print(f"socfund parse: {spec.cli_name}: {path}: {reason}", file=sys.stderr)
        return EXIT_CANNOT_START
    result = validate_parsed(records, spec.entity)
    if isinstance(records, list):
        valid = result.valid
    else:
        # Columns: each valid row with its fields in the order the parser gave them.
        order = {c: i for i, c in enumerate(records.columns)}
        names = sorted(result.valid.column_names, key=lambda c: order.get(c, len(order)))
        valid = result.valid.select(names).to_pylist()
    for rec in valid:
        print(to_json(public_record(rec)))
    for q in result.quarantined:
        print(to_json({"row": q.row, "record": q.record, "reasons": q.reasons}), file=sys.stderr)
    return EXIT_FAILED if result.quarantined else EXIT_OK


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
    from pipelines.buildlock import BuildBusy, build_lock

    if args.live and args.from_raw:
        print("socfund build: --live and --from-raw exclude each other", file=sys.stderr)
        return EXIT_CANNOT_START
    warehouse_dir = str(Path(args.warehouse).resolve()) if args.warehouse else ""
    mode = "live" if args.live else "raw" if args.from_raw else "samples"
    paths = WarehousePaths(Path(warehouse_dir) if warehouse_dir else default_warehouse_dir())
    if args.from_raw and _no_kept_documents(paths):
        print(f"socfund build --from-raw: no documents kept in {paths.raw_dir} (no fetch "
              f"manifest); run `socfund build` (or `socfund build --live`) first to fetch them",
              file=sys.stderr)
        return EXIT_CANNOT_START

    def waiting(busy: BuildBusy) -> None:
        print(f"socfund build: {busy}; waiting for it to finish", file=sys.stderr, flush=True)

    try:
        with build_lock(paths, f"socfund build ({mode})", wait=args.wait, on_wait=waiting):
            return _build_locked(args, paths, mode)
    except BuildBusy as busy:
        print(f"socfund build: {busy}; run again when it has finished, or with --wait",
              file=sys.stderr)
        return EXIT_BUSY


def _no_kept_documents(paths: WarehousePaths) -> bool:
    """No fetch manifest in the raw store: `--from-raw` would have nothing to parse."""
    return not paths.raw_dir.is_dir() or next(paths.raw_dir.rglob("manifest.json"), None) is None


def _build_locked(args: argparse.Namespace, paths: WarehousePaths, mode: str) -> int:
    """`socfund build`, under the warehouse's build lock."""
    from pipelines.unchanged import (
        forget_last_good_build,
        remember_good_build,
        unchanged_since_last_good_build,
    )

    warehouse_dir = str(Path(args.warehouse).resolve()) if args.warehouse else ""
    samples_dir = str(Path(args.samples).resolve()) if args.samples else ""
    if args.from_raw and unchanged_since_last_good_build(paths):
        print(f"Nothing changed since the last good build: the documents in {paths.raw_dir}, "
              f"the parsers, schemas and dbt project are the same; {paths.published_db} "
              f"stands as it is.")
        return 0
    if not _dbt_manifest_prepared("build"):
        return EXIT_FAILED
    forget_last_good_build(paths)
    success, events = _run_build(mode, warehouse_dir, samples_dir, args.log_level,
                                 args.workers)
    if success:
        from pipelines.summary import print_summary

        remember_good_build(paths, live=args.live)
        print_summary(paths)
        return EXIT_OK
    failed = [e for e in events if e.is_step_failure]
    published = any(e.is_step_success and e.step_key == "warehouse__published" for e in events)
    for event in failed:
        print(f"FAILED {event.step_key}: {_failure_message(event, events)}", file=sys.stderr)
    if published:
        print("the warehouse was published with the last good data of the sources above",
              file=sys.stderr)
    else:
        print("the published warehouse was left as it was", file=sys.stderr)
    return EXIT_FAILED


def _dbt_manifest_prepared(command: str) -> bool:
    """Parse the dbt project when its manifest is older than the models; False if it fails."""
    from subprocess import CalledProcessError

    from pipelines.dbt_project import prepare_manifest

    try:
        prepare_manifest()
    except CalledProcessError as exc:
        print(f"socfund {command}: the dbt project does not parse (dbt exited "
              f"{exc.returncode}, its errors above); the published warehouse was left as it was",
              file=sys.stderr)
        return False
    return True


def _failure_message(failure, events: list) -> str:
    """Why a step failed: what its failed blocking checks say, else its error."""
    from dagster import DagsterEventType

    data = failure.step_failure_data
    if data.error and data.error.cls_name == "DagsterAssetCheckFailedError":
        said = [e.asset_check_evaluation_data.description for e in events
                if e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION
                and e.step_key == failure.step_key and not e.asset_check_evaluation_data.passed]
        if any(said):
            return "; ".join(text for text in said if text)
    user = data.user_failure_data
    if user and user.description:
        return user.description
    return data.error.message.strip() if data.error else ""


def _cmd_export(args: argparse.Namespace) -> int:
    from datetime import date

    from pipelines.dbt_project import dbt_project
    from pipelines.publish.release import export_release
    from pipelines.warehouse import today_in_moscow

    paths = WarehousePaths(Path(args.warehouse) if args.warehouse else default_warehouse_dir())
    if not paths.published_db.exists():
        print(f"socfund export: no warehouse at {paths.published_db}; run `socfund build`",
              file=sys.stderr)
        return 2
    when = date.fromisoformat(args.date) if args.date else today_in_moscow()
    if not _dbt_manifest_prepared("export"):
        return EXIT_FAILED
    release = export_release(paths.published_db, paths.exports_dir, release_date=when,
                             manifest_path=dbt_project.manifest_path)
    print(f"Release: {release}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from pipelines.serve import ServeError, serve

    root = Path(args.warehouse) if args.warehouse else default_warehouse_dir()
    try:
        serve(root, host=args.host, port=args.port)
    except ServeError as exc:
        print(f"socfund serve: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START
    return EXIT_OK


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
    build.add_argument("--wait", action="store_true",
                       help="when another build of the warehouse is running, wait for it to "
                       "finish instead of stopping at once (exit 3)")
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
    try:
        code = int(args.func(args))
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`socfund parse ... | head -1`): stop quietly, as a tool
        # killed by SIGPIPE does; stdout goes nowhere so the exit's flush fails no more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE_CLOSED
    return code


if __name__ == "__main__":
    sys.exit(main())
