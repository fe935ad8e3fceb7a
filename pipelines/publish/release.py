"""A dated release: the snapshot, every artefact, manifest.json and SHA256SUMS, written in
a folder aside and swapped in; then `latest` names it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from datetime import date
from pathlib import Path

from pipelines.duckdb_config import connect, export_memory_limit
from pipelines.illustrative import WARNING_EN, WARNING_RU, BuildOrigin, read_build
from pipelines.publish.changes import changes_markdown, previous_release, release_changes
from pipelines.publish.datapackage import datapackage, table_resource
from pipelines.publish.dbt_docs import read_dbt_docs
from pipelines.publish.dictionary import dictionary_html, dictionary_markdown
from pipelines.publish.giving import write_giving
from pipelines.publish.legal import citation_cff, licence_markdown
from pipelines.publish.markup import render
from pipelines.publish.quality import (
    QUALITY_FILE,
    SCHEMA_FILE,
    quality_json,
    quality_report,
    quality_schema_text,
)
from pipelines.publish.sources import published_sources
from pipelines.publish.tables import (
    ReleaseFile,
    Table,
    describe_public_tables,
    export_select,
    quarantine_table,
    write_csv,
    write_table_files,
)
from pipelines.publish.xlsx import XlsxWriters, export_workers
from scrapers.files import write_text_atomic

DUCKDB_FILE_NAME = "socfund.duckdb"
LATEST_FILE_NAME = "latest"

# What manifest.json says of the files every release has besides the tables' own.
_DOCUMENT_FILES = (
    ReleaseFile("datapackage.json", "json", "Frictionless Data Package: every CSV with its "
                "Table Schema, keys, licence and sources."),
    ReleaseFile("data-dictionary.md", "markdown", "Data dictionary: every table and "
                "column with description, type, rules and source."),
    ReleaseFile("data-dictionary.html", "html", "The data dictionary as one web page."),
    ReleaseFile("README.md", "markdown", "What each file of this release is; an "
                "illustrative release warns on its first line that its rows are invented."),
    ReleaseFile(DUCKDB_FILE_NAME, "duckdb", "The whole warehouse (DuckDB, read-only "
                "snapshot): public tables in schema main, raw, quarantine, reference."),
    ReleaseFile("CHANGES.md", "markdown", "Rows added, changed and removed per table "
                "since the previous release, and the most changed columns; the rows "
                "themselves are in changes/<table>.csv and .parquet."),
    ReleaseFile("LICENSE.md", "markdown", "Licence of the release and the sources' terms."),
    ReleaseFile("CITATION.cff", "cff", "How to cite this release."),
    ReleaseFile(QUALITY_FILE, "json", "Quality scorecard per source: last fetch and its age, "
                "rows parsed, loaded and quarantined with the top reasons, valid ИНН/ОГРН, "
                "matching, key-field coverage, reconciliation, threshold breaches."),
    ReleaseFile(SCHEMA_FILE, "json", "JSON Schema of quality.json."),
)


# ------------------------------------------------------------------ checksums


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _all_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def write_sha256sums(folder: Path) -> Path:
    """`SHA256SUMS` over every file of the folder, as `sha256sum -c` reads it."""
    target = folder / "SHA256SUMS"
    lines = [f"{sha256_file(folder / rel)}  {rel}" for rel in _all_files(folder)
             if rel != target.name]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


# ------------------------------------------------------------------ the release


def _snapshot(db_path: Path, target: Path) -> None:
    """Copy the warehouse; fold a write-ahead log into the copy if one was left beside it."""
    shutil.copyfile(db_path, target)
    wal = db_path.with_name(db_path.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))
        con = connect(target)
        try:
            con.execute("CHECKPOINT")
        finally:
            con.close()


def _write_text(path: Path, text: str) -> None:
    # The release folder is swapped in whole, so its files need no atomic write of their own.
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def readme_markdown(release_date: date, tables: list[Table], files: list[ReleaseFile],
                    origin: BuildOrigin) -> str:
    """The release's README.md: its tables and their files, then every other file."""
    own = {path for t in tables for path in t.files}
    others = [f for f in [*files, *_DOCUMENT_FILES]
              if f.path not in own and f.path != "README.md"]
    return render("release/readme.md.j2", release_date=release_date.isoformat(),
                  illustrative=origin.illustrative, samples_dir=origin.samples_dir or "",
                  warning_en=WARNING_EN, warning_ru=WARNING_RU, tables=tables,
                  others=sorted(others, key=lambda f: f.path))


def _write_release(db_path: Path, folder: Path, *, release_date: date, manifest_path: Path,
                   previous: Path | None) -> None:
    snapshot = folder / DUCKDB_FILE_NAME
    _snapshot(db_path, snapshot)
    docs = read_dbt_docs(manifest_path)
    con = connect(limit=export_memory_limit())
    xlsx: XlsxWriters | None = None
    try:
        con.execute("ATTACH ? AS wh (READ_ONLY)", [str(snapshot)])
        origin = read_build(con, "wh")
        tables = describe_public_tables(con, docs)
        # This process is one of the export's workers: it writes the CSV, Parquet and
        # 360Giving files while the others write the XLSX files (on two cores, one other).
        xlsx = XlsxWriters(snapshot, folder, tables, export_workers() - 1)
        files, csvs = write_table_files(con, folder, tables)

        quarantine = quarantine_table(con, origin.illustrative)
        write_csv(con, export_select(quarantine.relation, quarantine.columns),
                  folder / "quarantine" / "records.csv")
        files.append(ReleaseFile("quarantine/records.csv", "csv", quarantine.description,
                                 "quarantine", quarantine.rows))

        giving_files, flat = write_giving(con, folder, release_date, origin.illustrative)
        files += giving_files
        sources = published_sources(con)
        changes = release_changes(con, tables, previous, folder)
        files += changes.files
        quality = quality_report(con, release_date)
        files += xlsx.files()
    finally:
        if xlsx is not None:
            xlsx.close()
        con.close()

    resources = []
    for table, rel in [*csvs, *changes.csvs, (quarantine, "quarantine/records.csv"),
                       (flat, "360giving/grants.csv")]:
        p = folder / rel
        resources.append(table_resource(table, rel, sha256_file(p), p.stat().st_size,
                                        sources))
    _write_text(folder / "datapackage.json",
                json.dumps(datapackage(release_date, resources, sources, origin.illustrative),
                           ensure_ascii=False, indent=2) + "\n")
    documented = [*tables, quarantine, flat]
    _write_text(folder / "data-dictionary.md",
                dictionary_markdown(documented, release_date, origin.illustrative))
    _write_text(folder / "data-dictionary.html",
                dictionary_html(documented, release_date, origin.illustrative))
    _write_text(folder / "README.md", readme_markdown(release_date, tables, files, origin))
    _write_text(folder / "CHANGES.md",
                changes_markdown(release_date, changes, previous))
    _write_text(folder / "LICENSE.md", licence_markdown(release_date, sources))
    _write_text(folder / "CITATION.cff", citation_cff(release_date))
    _write_text(folder / QUALITY_FILE, quality_json(quality))
    _write_text(folder / SCHEMA_FILE, quality_schema_text())
    files += _DOCUMENT_FILES
    os.chmod(snapshot, 0o444)
    entries = []
    for f in sorted(files, key=lambda f: f.path):
        p = folder / f.path
        entries.append({"path": f.path, "format": f.format, "table": f.table, "rows": f.rows,
                        "bytes": p.stat().st_size, "sha256": sha256_file(p),
                        "description": f.description})
    _write_text(folder / "manifest.json",
                json.dumps(entries, ensure_ascii=False, indent=2) + "\n")
    write_sha256sums(folder)


def _swap_in(staging: Path, final: Path) -> Path:
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
        final.rename(old)
    staging.rename(final)
    if old is not None:
        shutil.rmtree(old)
    return final


def _write_latest(exports_dir: Path, name: str) -> None:
    write_text_atomic(exports_dir / LATEST_FILE_NAME, name + "\n")


def export_release(db_path: Path, exports_dir: Path, *, release_date: date,
                   manifest_path: Path) -> Path:
    """Write the release `<exports_dir>/<release_date>/` from the warehouse `db_path` and the
    dbt manifest `manifest_path`, point `<exports_dir>/latest` at it, and return its path.
    A release of the same date is replaced; a failure leaves the folder as it was."""
    db_path, exports_dir = Path(db_path), Path(exports_dir)
    if not db_path.is_file():
        raise FileNotFoundError(f"export: no warehouse at {db_path}")
    export_memory_limit()  # a bad setting stops here, named, before anything is written
    exports_dir.mkdir(parents=True, exist_ok=True)
    name = release_date.isoformat()
    previous = previous_release(exports_dir, name)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.partial-", dir=exports_dir))
    try:
        os.chmod(staging, 0o755)
        _write_release(db_path, staging, release_date=release_date,
                       manifest_path=Path(manifest_path), previous=previous)
        final = _swap_in(staging, exports_dir / name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _write_latest(exports_dir, name)
    return final


def read_latest(exports_dir: Path) -> Path | None:
    """The release `latest` names, if any."""
    pointer = Path(exports_dir) / LATEST_FILE_NAME
    if not pointer.is_file():
        return None
    return Path(exports_dir) / pointer.read_text(encoding="utf-8").strip()
