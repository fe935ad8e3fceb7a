"""Opening spreadsheets with python-calamine, refusing those that would exhaust memory.

Two kinds of small file can take a night down. A zip bomb: an XLSX is a zip of XML,
and a few kilobytes can unpack to gigabytes. A range bomb: a sheet holding two cells,
`A1` and `XFD1048576`, for which calamine allocates the whole rectangle between them
(17 billion cells) and the process aborts, with no exception to catch; an XLS can do
the same with many sheets of 65 536 × 256.

So before calamine reads a workbook here, (1) an XLSX's zip directory is read for the
sizes its members declare (calamine's zip reader refuses a member that unpacks past
its declared size, so these bound what it reads), and (2) a child process, its memory
capped, lays the sheets out with calamine itself and reports how many cells each
spans: calamine's own reading of the file, so no trick of the XML can make the two
disagree, and a bomb aborts the child, not the night. Every refusal is a ValueError
naming the file, so the load quarantines or stops on it with a reason.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from typing import Any

from python_calamine import CalamineSheet, CalamineWorkbook

# The largest source file (the ФПГ projects file) unpacks to some hundred megabytes of
# XML and a few million cells; these limits leave room for growth, not for a bomb.
MAX_UNPACKED_BYTES = 1 << 30
MAX_RATIO = 200  # deflate reaches about 1 000 : 1 on a bomb; real sheets some 5-30 : 1
MAX_CELLS = 20_000_000  # cells from A1 to the furthest cell holding a value, all sheets
_RATIO_FLOOR = 1 << 22  # a member smaller than this is never refused for its ratio
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # XLS
_PROBE_MEMORY = 3 << 30  # address space of the child: MAX_CELLS cells fit, a bomb does not
_PROBE_SECONDS = 600
_UNREADABLE = 3

# Run with `python -I -c`: the body on stdin, one JSON line [sheet, cells] per sheet out.
_PROBE = f"""
import io, json, resource, sys
_, hard = resource.getrlimit(resource.RLIMIT_AS)
cap = {_PROBE_MEMORY} if hard == resource.RLIM_INFINITY else min({_PROBE_MEMORY}, hard)
resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
from python_calamine import CalamineWorkbook
try:
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(sys.stdin.buffer.read()))
except Exception:
    sys.exit({_UNREADABLE})
for name in workbook.sheet_names:
    try:
        end = workbook.get_sheet_by_name(name).end
    except Exception:
        end = None
    print(json.dumps([name, (end[0] + 1) * (end[1] + 1) if end else 0]), flush=True)
"""


class WorkbookTooLarge(ValueError):
    """A spreadsheet that would unpack or spread past the limits: refused unread."""


def open_workbook(body: bytes, where: str, kind: str = "XLS/XLSX") -> CalamineWorkbook:
    """The workbook in `body`, once it is known to fit in memory.

    ValueError naming `where` for bytes that are not a spreadsheet (an HTML error page
    saved as `.xlsx`), WorkbookTooLarge for a zip or range bomb.
    """
    check_workbook(body, where)
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(body))
    except Exception as exc:  # calamine raises its own error types for broken files
        raise ValueError(f"{where}: not a readable {kind} file: {exc}") from exc


def sheets(workbook: CalamineWorkbook, where: str
           ) -> Iterator[tuple[str, CalamineSheet, list[list[Any]]]]:
    """(name, sheet, rows) for each sheet in order; row i of `rows` is spreadsheet row i + 1.

    A sheet calamine cannot read is a ValueError naming the file and the sheet.
    """
    for name in workbook.sheet_names:
        try:
            sheet = workbook.get_sheet_by_name(name)
        except Exception as exc:  # calamine's own error types, as in open_workbook
            raise ValueError(f"{where}: sheet {name!r} is not readable: {exc}") from exc
        # Without skipping the empty area, row i of the list is the spreadsheet's row i + 1.
        yield name, sheet, sheet.to_python(skip_empty_area=False)


def check_workbook(body: bytes, where: str) -> None:
    """Refuse a workbook whose members unpack, or whose sheets spread, past the limits."""
    if body.startswith(_ZIP_MAGIC):
        _check_zip(body, where)
    elif not body.startswith(_OLE_MAGIC):
        return  # not a workbook at all: `open_workbook` says so
    cells = 0
    for name, area in _sheet_areas(body, where):
        cells += area
        if cells > MAX_CELLS:
            raise WorkbookTooLarge(
                f"{where}: sheet {name!r} takes the workbook past {MAX_CELLS:,} cells "
                "from A1 to the furthest cell with a value: it would not fit in memory"
            )


def _check_zip(body: bytes, where: str) -> None:
    try:
        members = zipfile.ZipFile(io.BytesIO(body)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ValueError(f"{where}: not a readable XLSX file: {exc}") from exc
    declared = sum(m.file_size for m in members)
    if declared > MAX_UNPACKED_BYTES:
        raise WorkbookTooLarge(
            f"{where}: XLSX unpacks to {declared:,} bytes, over the limit of "
            f"{MAX_UNPACKED_BYTES:,} (a zip bomb?)"
        )
    for m in members:
        if m.file_size > _RATIO_FLOOR and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise WorkbookTooLarge(
                f"{where}: XLSX member {m.filename!r} unpacks {m.compress_size:,} bytes to "
                f"{m.file_size:,}, over {MAX_RATIO}:1 (a zip bomb?)"
            )


def _sheet_areas(body: bytes, where: str) -> list[tuple[str, int]]:
    """(sheet, cells from A1 to its furthest cell) as calamine lays it out, in a child.

    Bytes calamine cannot open give no sheets: `open_workbook` then says what is wrong.
    """
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", _PROBE], input=body, capture_output=True,
            timeout=_PROBE_SECONDS, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise WorkbookTooLarge(
            f"{where}: laying out its sheets took over {_PROBE_SECONDS} s"
        ) from exc
    if done.returncode == _UNREADABLE:
        return []
    if done.returncode != 0:
        # An abort (calamine could not allocate a sheet) or an exhausted memory cap.
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise WorkbookTooLarge(
            f"{where}: a sheet does not fit in {_PROBE_MEMORY >> 30} GiB of memory "
            f"(exit {done.returncode}: {(said or ['?'])[0][:200]})"
        )
    return [tuple(json.loads(line)) for line in done.stdout.decode("utf-8").splitlines()]
