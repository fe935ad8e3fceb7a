"""Write the synthetic corpus straight into a warehouse folder's raw store.

    .venv/bin/python -m bench.generate [--warehouse DIR] [--scale 1.0] [--seed N]

At scale 1: a 190 000-row ФПГ bulk XLSX, 50 000 ФПГ card pages (kept per contest in
`raw/fpg/cards/<contest>.json`) and the list pages linking them, a 111 000-row
federal СО НКО registry, 200 000 subsidy agreements in 200 JSON pages. Every other
source is what an offline build keeps (`socfund build` on our test fixtures, run first),
so a build from the raw store covers every source. Manifests have the layout the
pipeline writes; the fetch log gets one line per generated document.

The corpus is a function of (seed, scale): a second run with the same pair finds
`raw/bench-corpus.json` naming the same documents and does nothing. Documents are
generated in worker processes (one per core), streamed to the store one at a time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from multiprocessing import get_context
from pathlib import Path

from bench import ebudget_corpus, fpg_corpus, sonko_corpus
from bench import reference as ref
from scrapers.files import write_text_atomic
from scrapers.rawstore import FetchRecord, RawStore
from scrapers.samples import FIXTURES_DIR

REPO = Path(__file__).resolve().parent.parent
DEFAULT_WORK_DIR = REPO / "bench" / ".work"
DEFAULT_SEED = 20260301
# Bump when the corpus changes for the same seed and scale: an old corpus is then rebuilt.
GENERATOR_VERSION = 1
# What the corpus is made from besides (seed, scale): a change to any of these files
# makes the next run generate again rather than measure a corpus they no longer make.
CORPUS_INPUTS = (
    "bench/reference.py", "bench/fpg_corpus.py", "bench/sonko_corpus.py",
    "bench/ebudget_corpus.py", "tests/sample_makers/make_fpg_samples.py",
    "tests/sample_makers/identifiers.py", "dbt_project/seeds/regions.csv",
    "dbt_project/seeds/region_names.csv",
)
STAMP_NAME = "bench-corpus.json"
# What a full-scale corpus and the builds over it take on disk, with room to spare: the
# raw store 1.2 GB, the store, the published warehouse and a release 1.3 GB, the stages'
# outputs 0.7 GB (3.2 GB measured).
FULL_SCALE_BYTES = 6 * 1024**3
MIN_BYTES = 512 * 1024**2
CARDS_PER_TASK = 1000
EBUDGET_PAGES_PER_TASK = 5
LIST_PAGES_PER_TASK = 250


class NotEnoughDisk(SystemExit):
    pass


def default_warehouse() -> Path:
    return DEFAULT_WORK_DIR / "warehouse"


def required_bytes(scale: float) -> int:
    return int(MIN_BYTES + FULL_SCALE_BYTES * scale)


def check_disk(folder: Path, need: int) -> None:
    """Refuse to start when the disk holding `folder` has less than `need` bytes free."""
    probe = folder
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < need:
        raise NotEnoughDisk(
            f"bench: {probe} has {free / 1024**3:.1f} GB free; the corpus and its builds need "
            f"about {need / 1024**3:.1f} GB. Free some space, choose another --warehouse, or "
            f"lower --scale.")


# --- documents ------------------------------------------------------------------------------


def _fetched_at(offset_seconds: int) -> str:
    return (ref.CORPUS_TIME + timedelta(seconds=offset_seconds)).isoformat(timespec="seconds")


def _document(store: RawStore, source: str, kind: str, url: str, body: bytes,
              offset: int, content_type: str) -> dict:
    sha = store.put(source, body)
    return {"kind": kind, "url": url, "sha256": sha, "fetched_at": _fetched_at(offset),
            "not_modified": False, "_bytes": len(body), "_content_type": content_type}


HTML = "text/html; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON = "application/json; charset=utf-8"
# Offsets (seconds after CORPUS_TIME) keep each source's documents in fetch order.
_FPG, _SONKO, _EBUDGET = 0, 6 * 3600, 7 * 3600


@dataclass(frozen=True)
class Job:
    seed: int
    scale: float
    raw_root: str
    tmp_dir: str


def _xlsx_document(job: Job, source: str, kind: str, url: str, write, offset: int) -> dict:
    path = Path(job.tmp_dir) / f"{source}-{kind}-{os.getpid()}.xlsx"
    try:
        write(path, job.seed, job.scale)
        body = path.read_bytes()
    finally:
        path.unlink(missing_ok=True)
    return _document(RawStore(job.raw_root), source, kind, url, body, offset, XLSX)


def task_fpg_xlsx(job: Job) -> tuple[str, list[dict]]:
    offset = _FPG + fpg_corpus.list_pages(job.scale) + len(fpg_corpus.card_order(job.scale)) + 1
    return "fpg", [_xlsx_document(job, "fpg", "xlsx", fpg_corpus.XLSX_URL,
                                  fpg_corpus.write_bulk_xlsx, offset)]


def task_sonko(job: Job) -> tuple[str, list[dict]]:
    return "sonko", [_xlsx_document(job, "sonko", "federal", sonko_corpus.URL,
                                    sonko_corpus.write_xlsx, _SONKO)]


def task_ebudget(job: Job, first: int, last: int) -> tuple[str, list[dict]]:
    store = RawStore(job.raw_root)
    return "ebudget", [
        _document(store, "ebudget", "page", ebudget_corpus.page_url(n),
                  ebudget_corpus.page(job.seed, job.scale, n), _EBUDGET + n, JSON)
        for n in range(first, last + 1)
    ]


def task_cards(job: Job, ci: int, first: int, stop: int) -> tuple[str, list[dict]]:
    store = RawStore(job.raw_root)
    contests = fpg_corpus.contests(job.scale)
    # Cards are fetched newest contest first, after the list pages.
    before = fpg_corpus.list_pages(job.scale) + sum(c.cards for c in contests[ci + 1:])
    docs = []
    for j in range(first, stop):
        application = fpg_corpus.application(job.seed, job.scale, ci, j)
        body = fpg_corpus.card_page(job.seed, application)
        docs.append(_document(store, "fpg", "card", fpg_corpus.card_url(application.app.card_id),
                              body, _FPG + before + j, HTML))
    return f"fpg/cards/{contests[ci].slug}", docs


def task_lists(job: Job, first: int, last: int) -> tuple[str, list[dict]]:
    store = RawStore(job.raw_root)
    order = fpg_corpus.card_order(job.scale)
    pages = fpg_corpus.list_pages(job.scale)
    per = fpg_corpus.CARDS_PER_LIST_PAGE
    docs = []
    for n in range(first, last + 1):
        apps = [fpg_corpus.application(job.seed, job.scale, ci, j).app
                for ci, j in order[(n - 1) * per:n * per]]
        body = fpg_corpus.list_page(apps, n, pages, len(order))
        docs.append(_document(store, "fpg", "list", fpg_corpus.list_page_url(n), body,
                              _FPG + n - 1, HTML))
    return "fpg", docs


def task_open_data(job: Job) -> tuple[str, list[dict]]:
    offset = _FPG + fpg_corpus.list_pages(job.scale) + len(fpg_corpus.card_order(job.scale))
    return "fpg", [_document(RawStore(job.raw_root), "fpg", "open_data",
                             fpg_corpus.OPEN_DATA_URL, fpg_corpus.open_data_page(), offset,
                             HTML)]


def tasks(job: Job) -> Iterator[tuple]:
    """Every unit of work, the longest first so the two cores finish together."""
    yield (task_fpg_xlsx, job)
    yield (task_sonko, job)
    yield (task_open_data, job)
    pages = ebudget_corpus.pages(job.scale)
    for first in range(1, pages + 1, EBUDGET_PAGES_PER_TASK):
        yield (task_ebudget, job, first, min(first + EBUDGET_PAGES_PER_TASK - 1, pages))
    for ci, contest in enumerate(fpg_corpus.contests(job.scale)):
        for first in range(0, contest.cards, CARDS_PER_TASK):
            yield (task_cards, job, ci, first, min(first + CARDS_PER_TASK, contest.cards))
    pages = fpg_corpus.list_pages(job.scale)
    for first in range(1, pages + 1, LIST_PAGES_PER_TASK):
        yield (task_lists, job, first, min(first + LIST_PAGES_PER_TASK - 1, pages))


def _run(task: tuple) -> tuple[str, list[dict]]:
    function, *args = task
    return function(*args)


# --- manifests ------------------------------------------------------------------------------


@dataclass
class Corpus:
    """The generated documents, by manifest: `fpg`, `sonko`, `ebudget`, `fpg/cards/<slug>`."""

    documents: dict[str, list[dict]] = field(default_factory=dict)

    def add(self, key: str, docs: list[dict]) -> None:
        self.documents.setdefault(key, []).extend(docs)

    def ordered(self, key: str) -> list[dict]:
        return sorted(self.documents.get(key, []), key=lambda d: d["fetched_at"])

    def digest(self) -> str:
        """What the corpus is: every generated document, in manifest order."""
        h = hashlib.sha256()
        for key in sorted(self.documents):
            for d in self.ordered(key):
                h.update(f"{key}\t{d['kind']}\t{d['url']}\t{d['sha256']}\n".encode())
        return h.hexdigest()

    def count(self, key: str, kind: str) -> int:
        return sum(d["kind"] == kind for d in self.documents.get(key, []))


def _public(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def _write_json(path: Path, value: dict) -> None:
    write_text_atomic(path, json.dumps(value, ensure_ascii=False, indent=1))


def _kept_documents(raw: Path, source: str, keep: set[str]) -> list[dict]:
    """Documents of the offline build's manifest whose kinds the corpus does not replace."""
    path = raw / source / "manifest.json"
    if not path.exists():
        return []
    manifest = json.loads(path.read_text(encoding="utf-8"))
    return [d for d in manifest["documents"] if d["kind"] in keep]


def write_manifests(raw: Path, corpus: Corpus, scale: float) -> None:
    cards = raw / "fpg" / "cards"
    if cards.exists():
        for stale in cards.glob("*.json"):
            stale.unlink()
    names = {c.slug: c.name for c in fpg_corpus.contests(scale)}
    for key in sorted(corpus.documents):
        if key.startswith("fpg/cards/"):
            slug = key.rsplit("/", 1)[1]
            _write_json(cards / f"{slug}.json", {
                "source": "fpg", "contest": names[slug],
                "documents": [_public(d) for d in corpus.ordered(key)], "failures": []})
    _write_json(raw / "fpg" / "manifest.json", {
        "source": "fpg", "documents": [_public(d) for d in corpus.ordered("fpg")],
        "failures": []})
    # The regional registries stay as the offline build fetched them.
    _write_json(raw / "sonko" / "manifest.json", {
        "source": "sonko",
        "documents": _kept_documents(raw, "sonko", {"registry2011"})
        + [_public(d) for d in corpus.ordered("sonko")],
        "failures": []})
    _write_json(raw / "ebudget" / "manifest.json", {
        "source": "ebudget", "documents": [_public(d) for d in corpus.ordered("ebudget")],
        "failures": []})


def append_fetch_log(store: RawStore, corpus: Corpus) -> None:
    lines = []
    for key in sorted(corpus.documents):
        source = key.split("/", 1)[0]
        for d in corpus.ordered(key):
            lines.append(json.dumps(FetchRecord(
                source=source, url=d["url"], fetched_at=d["fetched_at"], status=200,
                sha256=d["sha256"], bytes=d["_bytes"], content_type=d["_content_type"],
            ).__dict__, ensure_ascii=False))
    with store.log_path.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


# --- the stamp ------------------------------------------------------------------------------


def stamp_path(warehouse: Path) -> Path:
    return warehouse / "raw" / STAMP_NAME


def read_stamp(warehouse: Path) -> dict | None:
    path = stamp_path(warehouse)
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None


def manifests_digest(raw: Path) -> str:
    """The digest of the manifests the corpus wrote, as they are on disk now."""
    h = hashlib.sha256()
    paths = [raw / "fpg" / "manifest.json", raw / "sonko" / "manifest.json",
             raw / "ebudget" / "manifest.json", *sorted((raw / "fpg" / "cards").glob("*.json"))]
    for path in paths:
        h.update(path.relative_to(raw).as_posix().encode() + b"\0")
        h.update(path.read_bytes() if path.exists() else b"missing")
    return h.hexdigest()


def inputs_digest() -> str:
    """The digest of the code and reference data the corpus is generated from."""
    h = hashlib.sha256()
    for name in CORPUS_INPUTS:
        h.update(name.encode() + b"\0" + (REPO / name).read_bytes())
    return h.hexdigest()


def referenced_bytes(store: RawStore) -> int:
    """Bytes on disk of every blob a manifest names (blobs of earlier corpora not counted)."""
    blobs: set[tuple[str, str]] = set()
    for path in [*store.root.glob("*/manifest.json"), *store.root.glob("fpg/cards/*.json")]:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        blobs.update((manifest["source"], d["sha256"]) for d in manifest["documents"])
    return sum(store.path_for(source, sha).stat().st_size for source, sha in blobs
               if store.has(source, sha))


def corpus_exists(warehouse: Path, seed: int, scale: float) -> bool:
    stamp = read_stamp(warehouse)
    return (
        stamp is not None
        and stamp.get("seed") == seed
        and stamp.get("scale") == scale
        and stamp.get("generator_version") == GENERATOR_VERSION
        and stamp.get("inputs_sha256") == inputs_digest()
        and stamp.get("manifests_sha256") == manifests_digest(warehouse / "raw")
    )


# --- the offline base -----------------------------------------------------------------------


def build_base(warehouse: Path) -> None:
    """Every source as an offline build keeps it, then nothing but the raw store."""
    socfund = Path(sys.executable).parent / "socfund"
    # The fixtures, not samples/: they hold a document of every source (samples/ has no copy
    # of several, which would be empty here).
    command = [str(socfund), "build", "--warehouse", str(warehouse), "--samples",
               str(FIXTURES_DIR), "--log-level", "WARNING"]
    print(f"bench: offline build of every source into {warehouse}", file=sys.stderr)
    if warehouse.exists():
        clear_derived(warehouse)
    done = subprocess.run(command, cwd=REPO, stdout=subprocess.DEVNULL, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench: the offline build failed ({' '.join(command)})")
    clear_derived(warehouse)


def clear_derived(warehouse: Path) -> None:
    """Remove everything a build derives, keeping the raw store (the corpus)."""
    for entry in warehouse.iterdir():
        if entry.name == "raw":
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


# --- main -----------------------------------------------------------------------------------


def generate(warehouse: Path, *, seed: int = DEFAULT_SEED, scale: float = 1.0,
             workers: int = 2, base: bool = True, force: bool = False) -> dict:
    """Generate the corpus unless the same one is there; return its stamp."""
    warehouse = warehouse.resolve()
    if not force and corpus_exists(warehouse, seed, scale):
        print(f"bench: corpus seed {seed} scale {scale} already in {warehouse}",
              file=sys.stderr)
        return read_stamp(warehouse) or {}
    check_disk(warehouse, required_bytes(scale))
    started = time.monotonic()
    if base:
        build_base(warehouse)
    raw = warehouse / "raw"
    store = RawStore(raw)
    stamp_path(warehouse).unlink(missing_ok=True)
    tmp = warehouse / ".bench-tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    job = Job(seed, scale, str(raw), str(tmp))
    corpus = Corpus()
    work = list(tasks(job))
    print(f"bench: generating {len(work)} batches on {workers} processes", file=sys.stderr)
    with get_context("fork").Pool(workers) as pool:
        for done, (key, docs) in enumerate(pool.imap_unordered(_run, work), start=1):
            corpus.add(key, docs)
            if done % 20 == 0 or done == len(work):
                print(f"bench: {done}/{len(work)} batches", file=sys.stderr)
    shutil.rmtree(tmp, ignore_errors=True)
    write_manifests(raw, corpus, scale)
    append_fetch_log(store, corpus)
    applications, cards = fpg_corpus.counts(scale)
    stamp = {
        "seed": seed, "scale": scale, "generator_version": GENERATOR_VERSION,
        "inputs_sha256": inputs_digest(), "corpus_sha256": corpus.digest(),
        "manifests_sha256": manifests_digest(raw),
        "generated_seconds": round(time.monotonic() - started, 1),
        "with_offline_sources": base,
        "size": {
            "fpg_applications": applications,
            "fpg_cards": sum(len(v) for k, v in corpus.documents.items()
                             if k.startswith("fpg/cards/")),
            "fpg_list_pages": corpus.count("fpg", "list"),
            "fpg_contests": len(fpg_corpus.contests(scale)),
            "sonko_federal_rows": sonko_corpus.rows(scale),
            "ebudget_agreements": ebudget_corpus.agreements(scale),
            "ebudget_pages": ebudget_corpus.pages(scale),
            "raw_store_bytes": referenced_bytes(store),
        },
        "defect_rate": ref.DEFECT_RATE, "flag_rate": ref.FLAG_RATE,
    }
    if stamp["size"]["fpg_cards"] != cards:
        raise RuntimeError(f"bench: {stamp['size']['fpg_cards']} cards generated, {cards} meant")
    _write_json(stamp_path(warehouse), stamp)
    print(f"bench: corpus written in {stamp['generated_seconds']} s", file=sys.stderr)
    return stamp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.generate", description=__doc__.split("\n")[0])
    parser.add_argument("--warehouse", type=Path, default=default_warehouse(),
                        help="warehouse folder to write into (default: bench/.work/warehouse)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of the real sources' size (default: 1)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--no-base", action="store_true",
                        help="only the generated sources, no offline build of the others")
    parser.add_argument("--force", action="store_true", help="generate even if present")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be positive")
    stamp = generate(args.warehouse, seed=args.seed, scale=args.scale, workers=args.workers,
                     base=not args.no_base, force=args.force)
    print(json.dumps(stamp, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
