"""The page's explorer: DuckDB-WASM, vendored from npm into the site, over the release's tables.

`web/package.json` pins `@duckdb/duckdb-wasm` exactly and `make web` installs it with
`npm ci` into `web/node_modules`. At build time only the files the explorer runs are copied
from there into ONE folder of the site, `site/vendor/duckdb-wasm-<version>/` (shared by every
release, replaced only when the pinned version or its files change), with `vendor.json`
listing each file, where it came from, its size and SHA-256. The page's script, its worker
and these files are all served from the page's own host: nothing is fetched from a CDN.

The pinned DuckDB-WASM (DuckDB 1.4) has no Parquet reader of its own: it downloads the
`parquet` extension from DuckDB's servers on first use, which the page must never do. So the
release's Parquet files are read here, by the warehouse's DuckDB, into one database file in
the storage format DuckDB 1.4 reads (`site/explorer/<release>-<digest>.duckdb`), which the
browser attaches read-only. Its tables are the Parquet files' rows and types as they are.

When `web/node_modules` is missing (npm was never run) the page is still built, and says
the explorer is unavailable; the downloads, charts and dictionary do not need it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from pipelines.duckdb_config import connect, quote_ident
from pipelines.paths import REPO_ROOT
from pipelines.publish.release import sha256_file
from scrapers.files import replacing, write_bytes_atomic

WEB_DIR = REPO_ROOT / "web"
NODE_MODULES = WEB_DIR / "node_modules"
PACKAGE = "@duckdb/duckdb-wasm"
VENDOR_FOLDER = "vendor"
VENDOR_PREFIX = "duckdb-wasm-"
LISTING = "vendor.json"
WORKER_FILE = "explorer-worker.js"
SCRIPT_FILE = "explorer.js"
STYLE_FILE = "explorer.css"
ORGANISATIONS = "organisations/"
DATABASE_FOLDER = "explorer"
# The storage format of DuckDB 1.4, which the pinned DuckDB-WASM runs; small blocks, as
# the browser downloads the whole file (the default 256 KiB blocks triple its size).
# ATTACH takes its options as literals, not parameters: hence one constant statement.
_ATTACH = "ATTACH ? AS explorer (STORAGE_VERSION 'v1.4.0', BLOCK_SIZE 16384)"
# The tables the explorer's filters read; the SQL tab reads every table of the release.
TABLES = ("fact_grant", "fact_funding", "dim_organisation", "dim_region", "dim_programme")
EXAMPLE_SQL = """\
SELECT source, year, count(*) AS grants, sum(amount_awarded) AS awarded
FROM fact_grant
GROUP BY source, year
ORDER BY year DESC, source
LIMIT 20"""

# (npm package, file in it, name in the site's vendor folder). The exception-handling (EH)
# build runs in every browser with WebAssembly exceptions (Chrome 95, Firefox 100, Safari
# 15.2); the browser module is the CommonJS build, which a classic worker can load with
# `importScripts` beside Arrow's UMD build (the ES module imports `apache-arrow` by a bare
# name a browser cannot resolve).
VENDOR_FILES: tuple[tuple[str, str, str], ...] = (
    (PACKAGE, "dist/duckdb-browser.cjs", "duckdb-browser.js"),
    (PACKAGE, "dist/duckdb-browser-eh.worker.js", "duckdb-browser-eh.worker.js"),
    (PACKAGE, "dist/duckdb-eh.wasm", "duckdb-eh.wasm"),
    ("apache-arrow", "Arrow.esnext.min.js", "apache-arrow.js"),
    ("apache-arrow", "LICENSE.txt", "apache-arrow-LICENSE.txt"),
    ("apache-arrow", "NOTICE.txt", "apache-arrow-NOTICE.txt"),
)


@dataclass(frozen=True)
class Vendored:
    """The vendored DuckDB-WASM of a site: its folder and version."""

    folder: Path
    version: str


class ExplorerUnavailable(Exception):
    """The explorer cannot be vendored; the message says why and what to run."""


def pinned_version(web_dir: Path = WEB_DIR) -> str:
    """The exact version `web/package.json` pins (a range is refused: builds must agree)."""
    package = json.loads((web_dir / "package.json").read_text(encoding="utf-8"))
    version = package.get("dependencies", {}).get(PACKAGE, "")
    if not version or not version[0].isdigit():
        raise ValueError(f"{web_dir / 'package.json'}: {PACKAGE} must be pinned to one "
                         f"version, not {version!r}")
    return version


def _installed(node_modules: Path, package: str) -> dict:
    manifest = node_modules / package / "package.json"
    if not manifest.is_file():
        raise ExplorerUnavailable(f"{package} is not installed in {node_modules} "
                                  "(run `make web`)")
    return json.loads(manifest.read_text(encoding="utf-8"))


def _listing(node_modules: Path) -> list[dict]:
    entries = []
    for package, inside, name in VENDOR_FILES:
        about = _installed(node_modules, package)
        source = node_modules / package / inside
        if not source.is_file():
            raise ExplorerUnavailable(f"{source} is missing (run `make web`)")
        entries.append({"path": name, "package": package, "version": about["version"],
                        "license": about.get("license", ""), "from": inside,
                        "bytes": source.stat().st_size, "sha256": sha256_file(source)})
    return entries


def _current(folder: Path, listing: list[dict]) -> bool:
    """The folder already holds exactly these files (checked by size and hash)."""
    path = folder / LISTING
    if not path.is_file():
        return False
    try:
        if json.loads(path.read_text(encoding="utf-8")) != listing:
            return False
    except ValueError:
        return False
    return all((folder / e["path"]).is_file()
               and (folder / e["path"]).stat().st_size == e["bytes"]
               and sha256_file(folder / e["path"]) == e["sha256"] for e in listing)


def vendor_duckdb_wasm(site_dir: Path, node_modules: Path = NODE_MODULES,
                       web_dir: Path = WEB_DIR) -> Vendored:
    """Copy the pinned DuckDB-WASM's browser files into `site_dir/vendor/duckdb-wasm-<v>/`.

    The folder is written aside and renamed into place, so a reader never sees half of it;
    other versions' folders are removed after. Raises ExplorerUnavailable when npm has not
    installed the pinned version."""
    version = pinned_version(web_dir)
    installed = _installed(node_modules, PACKAGE)["version"]
    if installed != version:
        raise ExplorerUnavailable(f"{node_modules} holds {PACKAGE} {installed}, "
                                  f"web/package.json pins {version} (run `make web`)")
    listing = _listing(node_modules)
    vendor = Path(site_dir) / VENDOR_FOLDER
    folder = vendor / f"{VENDOR_PREFIX}{version}"
    if not _current(folder, listing):
        vendor.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=vendor))
        try:
            staging.chmod(0o755)
            for (package, inside, name), entry in zip(VENDOR_FILES, listing, strict=True):
                shutil.copyfile(node_modules / package / inside, staging / name)
                if sha256_file(staging / name) != entry["sha256"]:
                    raise ExplorerUnavailable(f"{node_modules / package / inside} changed "
                                              "while it was copied")
            (staging / LISTING).write_text(json.dumps(listing, indent=2) + "\n",
                                           encoding="utf-8")
            if folder.exists():
                old = folder.rename(vendor / f".{folder.name}.old-{uuid.uuid4().hex[:8]}")
                staging.rename(folder)
                shutil.rmtree(old)
            else:
                staging.rename(folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    # Other versions, and what a build killed half-way left aside.
    for other in vendor.iterdir():
        if (other.name.lstrip(".").startswith(VENDOR_PREFIX) and other != folder
                and other.is_dir()):
            shutil.rmtree(other)
    return Vendored(folder=folder, version=version)


def write_worker(site_dir: Path, script: bytes) -> Path:
    """The explorer's worker beside the page (a worker must be a file the page's host
    serves: the Content-Security-Policy allows workers from 'self' only)."""
    target = Path(site_dir) / WORKER_FILE
    write_bytes_atomic(target, script)
    return target


def write_database(parquet: Mapping[str, Path], target: Path) -> Path:
    """One table per Parquet file (table name → file), in a database file DuckDB 1.4 reads."""
    with replacing(target) as tmp:
        con = connect()
        try:
            con.execute(_ATTACH, [str(tmp)])
            for name in sorted(parquet):
                con.execute(f"CREATE TABLE explorer.{quote_ident(name)} AS "
                            "SELECT * FROM read_parquet(?)", [str(parquet[name])])
            con.execute("DETACH explorer")
        finally:
            con.close()
    return target


def release_database(site_dir: Path, release: str, parquet: Mapping[str, tuple[Path, str]]
                     ) -> Path:
    """The release's tables for the browser, `site/explorer/<release>-<digest>.duckdb`, the
    digest over the Parquet files' SHA-256 (`parquet`: table → file and its SHA-256), so an
    unchanged release is not converted again; other releases' files are removed."""
    digest = hashlib.sha256("".join(f"{name} {parquet[name][1]}\n" for name in sorted(parquet))
                            .encode()).hexdigest()[:16]
    folder = Path(site_dir) / DATABASE_FOLDER
    target = folder / f"{release}-{digest}.duckdb"
    if not target.is_file():
        write_database({name: path for name, (path, _) in parquet.items()}, target)
    for other in folder.iterdir():
        if other != target and other.suffix == ".duckdb":
            other.unlink()
    return target


@dataclass(frozen=True)
class ExplorerPage:
    """What the page's explorer section shows: the explorer, or why it is not there."""

    available: bool
    reason: str = ""
    release: str = ""
    version: str = ""
    vendor: str = ""  # the vendor folder, relative to the page, ending in "/"
    tables: tuple[str, ...] = ()
    config: Mapping[str, object] | None = None
    example_sql: str = EXAMPLE_SQL


def prepare_explorer(site_dir: Path, release: str | None,
                     parquet: Mapping[str, tuple[Path, str]], *,
                     node_modules: Path = NODE_MODULES, web_dir: Path = WEB_DIR
                     ) -> ExplorerPage:
    """Vendor DuckDB-WASM, write the worker and the release's tables into `site_dir` for the
    release `release`, whose tables' Parquet files are `parquet` (table → file, SHA-256).

    Returns what the page shows; an explorer that cannot run says why instead."""
    if release is None:
        return ExplorerPage(False, "нет выпуска, из Parquet-файлов которого читать")
    missing = [t for t in TABLES if t not in parquet]
    if missing:
        return ExplorerPage(False, "в выпуске нет Parquet-файлов таблиц " + ", ".join(missing))
    try:
        vendored = vendor_duckdb_wasm(site_dir, node_modules, web_dir)
    except ExplorerUnavailable as exc:
        return ExplorerPage(False, f"DuckDB-WASM не подготовлен при сборке ({exc})")
    database = release_database(site_dir, release, parquet)
    write_worker(site_dir, files("pipelines").joinpath("static", WORKER_FILE).read_bytes())
    vendor = f"{VENDOR_FOLDER}/{vendored.folder.name}/"
    tables = tuple(sorted(parquet))
    return ExplorerPage(
        True, release=release, version=vendored.version, vendor=vendor, tables=tables,
        config={"release": release, "vendor": vendor, "worker": WORKER_FILE,
                "organisations": ORGANISATIONS, "tables": list(tables),
                "database": f"{DATABASE_FOLDER}/{database.name}"})
