"""Parsing a load's kept documents: one after the other, or in parts by several processes.

Plain Python (no Dagster): a helper process imports this module, the parser's and the
raw store's, nothing more.
"""

from __future__ import annotations

import io
import itertools
import logging
import multiprocessing
import os
import pickle
import shutil
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.progress import Progress
from schemas.records import Quarantined, with_lineage
from scrapers.rawstore import RawStore

if TYPE_CHECKING:
    import polars as pl

    from pipelines.registry import KeptTables
    from scrapers.http import Fetched

log = logging.getLogger(__name__)

# A parser gives plain dicts (small documents) or a polars DataFrame of columns (the bulk
# tables, `schemas.base.validate_frame`); the steps below take either.
Parser = Callable[..., "list[dict] | pl.DataFrame"]


@dataclass(frozen=True)
class Document:
    """A kept document, as a fetch manifest lists it."""

    kind: str
    url: str
    sha256: str
    fetched_at: str
    not_modified: bool = False

    @classmethod
    def of(cls, kind: str, fetched: Fetched) -> Document:
        return cls(kind, fetched.url, fetched.sha256, fetched.fetched_at, fetched.not_modified)


def parse_documents(
    store: RawStore,
    source: str,
    docs: list[Document],
    parse: Parser,
    *,
    progress: Progress | None = None,
    per_document_errors: bool = False,
    workers: int = 1,
    kept: KeptTables | None = None,
) -> tuple[list[dict] | pl.DataFrame, list[Quarantined]]:
    """Parse kept bytes; every record carries the lineage of the document it came from.

    A parser giving columns gets the lineage as columns of one value, and the frames of
    several documents become one (a column one document lacks is null in its rows).
    With `per_document_errors`, a document the parser rejects outright becomes one
    quarantined entry naming the URL (a single broken card must not stop a night);
    otherwise the error propagates and stops the load.

    With `workers` above one, parts of the documents are parsed by `workers - 1` helper
    processes while this one parses others (`_parse_in_parts`); the result is the same, in
    the documents' order, and the parts of a helper that dies are parsed here. `kept`
    hands what the parser keeps for a sibling parser back from the helpers, and the
    documents whose table it already holds are parsed here.
    """
    if workers > 1 and len(docs) >= PARALLEL_DOCUMENTS:
        parts = _parse_in_parts(store, source, docs, parse, progress, per_document_errors,
                                workers, kept)
    else:
        parts = [_parse_part(store, source, docs, parse, progress, per_document_errors, kept)]
    if progress is not None:
        progress.done()
    records = [r for part_records, _, _ in parts for r in part_records]
    frames = [f for _, part_frames, _ in parts for f in part_frames]
    rejected = [q for _, _, part_rejected in parts for q in part_rejected]
    if frames:
        import polars as pl

        if records:
            raise TypeError(f"{source}: a parser gave both records and columns")
        return pl.concat(frames, how="diagonal_relaxed"), rejected
    return records, rejected


# What a part of the documents gave: its records, its frames (each document's, in their
# order: they and the other parts' become one frame at the end) and its rejected documents.
_Part = tuple[list[dict], list["pl.DataFrame"], list[Quarantined]]


def _parse_part(store: RawStore, source: str, docs: list[Document], parse: Parser,
                progress: Progress | None, per_document_errors: bool,
                kept: KeptTables | None = None) -> _Part:
    """Some documents, parsed one after the other in this process; a document whose table
    `kept` holds is not read again."""
    records: list[dict] = []
    frames: list[pl.DataFrame] = []
    rejected: list[Quarantined] = []
    for doc in docs:
        lineage = {"_source_url": doc.url, "_raw_sha256": doc.sha256, "_fetched_at": doc.fetched_at}
        parsed = kept.take(doc.sha256) if kept is not None else None
        try:
            if parsed is None:
                parsed = parse(store.get(source, doc.sha256), url=doc.url)
        except ValueError as exc:
            if not per_document_errors:
                where = source if doc.url in str(exc) else f"{source}: {doc.url}"
                raise ValueError(f"{where}: {exc}") from exc
            rejected.append(Quarantined(row=None, record={"url": doc.url},
                                        reasons=[f"{doc.url}: {exc}"], meta=lineage))
            parsed = []
        parsed = with_lineage(parsed, lineage)
        if isinstance(parsed, list):
            records.extend(parsed)
        else:
            frames.append(parsed)
        if progress is not None:
            progress.advance()
    return records, frames, rejected


# Documents handed to a helper process at a time: enough that sending them and their tables
# back costs little beside their parse, few enough that the processes finish together.
PART_DOCUMENTS = 5
# Fewer documents are parsed in this process alone: a helper takes ≈ 0.25 s to start
# (a Python, polars and the parser imported), more than it would save on a few pages
# (an Электронный бюджет page of 1 000 agreements: ≈ 30 ms of one process).
PARALLEL_DOCUMENTS = 40
PARSE_WORKERS_ENV = "SOCFUND_PARSE_WORKERS"


def parse_workers() -> int:
    """How many processes parse a load's documents where its entity allows it: the
    `socfund` process and its helpers, `SOCFUND_PARSE_WORKERS`, else the cores (at most
    two: each helper holds a document's decoded objects besides the tables it returns)."""
    value = os.environ.get(PARSE_WORKERS_ENV, "").strip()
    if not value:
        return max(1, min(len(os.sched_getaffinity(0)), 2))
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{PARSE_WORKERS_ENV}={value!r}: expected a positive whole number")
    return int(value)


def _parse_in_helper(root: str, source: str, docs: list[Document], parse: Parser,
                     per_document_errors: bool, kept: KeptTables | None, folder: str
                     ) -> bytes:
    """A part of the documents, parsed in a helper process, with what the parser kept:
    pickled with each table in a file of its own in `folder` (`_handed_back`)."""
    part = _parse_part(RawStore(root), source, docs, parse, None, per_document_errors)
    result = part, kept.export() if kept is not None else []
    out = io.BytesIO()
    _TablesToFiles(out, Path(folder)).dump(result)
    return out.getvalue()


_TABLES_WRITTEN = itertools.count()


class _TablesToFiles(pickle.Pickler):
    """Pickles a helper's result with every polars table written to an Arrow IPC file
    beside it, named in the pickle instead of held in it.

    Pickled whole, an Электронный бюджет part's tables (≈ 4 MB for five pages) went back
    through the executor's pipe, which a thread of the socfund process reads while the parse
    running there holds the interpreter: timed page by page over 200 pages, the helper sat
    idle 50–90 ms after each part and was busy 57 % of the parse (2.1 of 3.7 s). With the
    tables in files only their names go through the pipe, and the helper was busy 80–91 %
    of it; the socfund process reads each file when it takes the part back (`_handed_back`).
    """

    def __init__(self, file: io.BytesIO, folder: Path) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.folder = folder
        polars = sys.modules.get("polars")
        self.frame_type = polars.DataFrame if polars is not None else None

    def persistent_id(self, obj: object) -> str | None:
        if self.frame_type is None or type(obj) is not self.frame_type:
            return None
        # Named by the helper and a count of its own: a part's files may still be there
        # when its next part's are written.
        path = self.folder / f"{os.getpid()}-{next(_TABLES_WRITTEN)}.arrow"
        obj.write_ipc(path, compression="uncompressed")  # type: ignore[attr-defined]
        return str(path)


class _TablesFromFiles(pickle.Unpickler):
    """Reads what `_TablesToFiles` pickled: each table from its file, which is then removed."""

    def persistent_load(self, pid: str) -> pl.DataFrame:
        import polars as pl

        # Read whole into memory, not mapped: the file is removed at once.
        path = Path(pid)
        frame = pl.read_ipc(path.read_bytes())
        path.unlink()
        return frame


def _handed_back(data: bytes) -> tuple[_Part, list]:
    return _TablesFromFiles(io.BytesIO(data)).load()


def _parse_in_parts(store: RawStore, source: str, docs: list[Document], parse: Parser,
                    progress: Progress | None, per_document_errors: bool, workers: int,
                    kept: KeptTables | None) -> list[_Part]:
    """The documents in parts of `PART_DOCUMENTS`, each part's result in its place: the
    helpers take parts from the end, this process from the start, until they meet. A helper
    has two parts in hand, so it need not wait for this process to finish a part before it
    is given the next.

    A part whose every table `kept` holds costs nothing to parse: this process parses it
    first (before the helpers' tables are adopted, which could let some of it go)."""
    parts = [docs[i:i + PART_DOCUMENTS] for i in range(0, len(docs), PART_DOCUMENTS)]
    done: list[_Part | None] = [None] * len(parts)
    costly = []
    for index, part in enumerate(parts):
        if kept is not None and all(kept.holds(d.sha256) for d in part):
            done[index] = _parse_part(store, source, part, parse, progress, per_document_errors,
                                      kept)
        else:
            costly.append(index)
    first, last = 0, len(costly)  # the costly parts not yet begun: costly[first:last]
    if last - first > 1:
        helpers = workers - 1
        # Spawned, not forked: a fork of a process running DuckDB's or polars' threads may
        # hold their locks.
        pool = ProcessPoolExecutor(max_workers=helpers,
                                   mp_context=multiprocessing.get_context("spawn"))
        # The helpers' tables come back through files here (`_TablesToFiles`); a part's
        # files are removed as it is taken back, the folder when the parts are done.
        folder = tempfile.mkdtemp(prefix=f"socfund-parse-{source}-")
        running: dict[Future, int] = {}
        # The parts of a helper that died (killed for its memory, say): parsed here.
        orphans: list[int] = []

        def hand_out() -> None:
            """Give the helpers parts from the end until each has two in hand."""
            nonlocal last
            while not orphans and first < last and len(running) < 2 * helpers:
                last -= 1
                index = costly[last]
                try:
                    running[pool.submit(_parse_in_helper, str(store.root), source,
                                        parts[index], parse, per_document_errors,
                                        kept, folder)] = index
                except BrokenProcessPool:
                    orphans.append(index)

        try:
            while first < last or running:
                hand_out()
                finished = [f for f in running if f.done()]
                if not finished and first >= last:
                    finished = list(wait(running, return_when=FIRST_COMPLETED).done)
                for future in finished:
                    index = running.pop(future)
                    try:
                        part, exported = _handed_back(future.result())
                    except BrokenProcessPool:
                        orphans.append(index)
                        continue
                    if kept is not None:
                        kept.adopt(exported)
                    done[index] = part
                    if progress is not None:
                        progress.advance(len(parts[index]))
                # A part taken back is replaced before this process begins one of its own:
                # else the helper, with one part in hand, may finish it and wait until this
                # process has finished its own.
                hand_out()
                if first < last:
                    index = costly[first]
                    done[index] = _parse_part(store, source, parts[index], parse, progress,
                                              per_document_errors, kept)
                    first += 1
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            shutil.rmtree(folder, ignore_errors=True)
        if orphans:
            log.warning("%s: a helper process parsing documents stopped; its %d parts are "
                        "parsed here", source, len(orphans))
        for index in sorted(orphans):
            done[index] = _parse_part(store, source, parts[index], parse, progress,
                                      per_document_errors, kept)
    for index in costly[first:last]:
        done[index] = _parse_part(store, source, parts[index], parse, progress,
                                  per_document_errors, kept)
    missing = [index for index, part in enumerate(done) if part is None]
    if missing:
        raise RuntimeError(f"{source}: parts {missing} of the documents were not parsed")
    return done  # type: ignore[return-value]
