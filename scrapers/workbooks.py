"""Reading spreadsheets with python-calamine, refusing those that would exhaust memory.

Two kinds of small file can take a night down. A zip bomb: an XLSX is a zip of XML,
and a few kilobytes can unpack to gigabytes. A range bomb: a sheet holding two cells,
`A1` and `XFD1048576`, for which calamine allocates the whole rectangle between them
(17 billion cells) and the process aborts, with no exception to catch; an XLS can do
the same with many sheets of 65 536 × 256.

So (1) an XLSX's zip directory is read first for the sizes its members declare
(calamine's zip reader refuses a member that unpacks past its declared size, so these
bound what it reads), and (2) calamine reads the workbook in a child process whose
memory is capped: a bomb aborts the child, not the night, and a sheet spreading past
MAX_CELLS is refused before it becomes Python lists. The child is the only reader, so
no trick of the XML can make a check and the read disagree, and the file is read once.

The child sends each sheet back column by column, as its distinct values and one
index per row (`Sheet.column_codes`): a column of a 190 000-row file holds a few
thousand distinct regions, statuses or amounts, so the transfer is small and a parser
can convert each distinct value once. `Sheet.rows` gives the familiar lists.

Every refusal is a ValueError naming the file, so the load quarantines or stops on it
with a reason.
"""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
import zipfile
from array import array
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

# The largest source file (the ФПГ projects file) unpacks to some hundred megabytes of
# XML and a few million cells; these limits leave room for growth, not for a bomb.
MAX_UNPACKED_BYTES = 1 << 30
MAX_RATIO = 200  # deflate reaches about 1 000 : 1 on a bomb; real sheets some 5-30 : 1
MAX_CELLS = 20_000_000  # cells from A1 to the furthest cell holding a value, all sheets
_RATIO_FLOOR = 1 << 22  # a member smaller than this is never refused for its ratio
_ZIP_MAGIC = b"PK\x03\x04"
_READER_MEMORY = 4 << 30  # address space of the child: MAX_CELLS cells fit, a bomb does not
_READER_SECONDS = 600
_CODE = "I"  # array typecode of the row indexes: unsigned 32-bit

# Run as `python -I -c _READER <max cells>`, the workbook on stdin. It writes one pickle:
# ("unreadable", message) or a list of ("sheet", name, height, width, merged, columns),
# ("error", name, message) for a sheet calamine cannot read, ("too_large", name, cells).
# A column is (distinct values, row indexes as bytes). In a column holding a bool, or
# both ints and floats, keys carry the type, as Python would merge values across types
# (True == 1 == 1.0): a bool stays a bool, an XLS whole number an int.
_READER = f"""
import io, pickle, resource, sys
from array import array
_, hard = resource.getrlimit(resource.RLIMIT_AS)
cap = {_READER_MEMORY} if hard == resource.RLIM_INFINITY else min({_READER_MEMORY}, hard)
resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
from python_calamine import CalamineWorkbook
limit = int(sys.argv[1])
out = sys.stdout.buffer

def encode(values):
    index = {{}}
    put = index.setdefault
    kinds = set(map(type, values))
    if bool in kinds or (int in kinds and float in kinds):
        codes = array("{_CODE}", [put((v.__class__, v), len(index)) for v in values])
        return [v for _, v in index], codes.tobytes()
    codes = array("{_CODE}", [put(v, len(index)) for v in values])
    return list(index), codes.tobytes()

try:
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(sys.stdin.buffer.read()))
except Exception as exc:
    pickle.dump(("unreadable", str(exc)), out)
    sys.exit(0)
found, cells = [], 0
for name in workbook.sheet_names:
    try:
        sheet = workbook.get_sheet_by_name(name)
    except Exception as exc:
        found.append(("error", name, str(exc)))
        continue
    end = sheet.end
    cells += (end[0] + 1) * (end[1] + 1) if end else 0
    if cells > limit:
        found.append(("too_large", name, cells))
        break
    rows = sheet.to_python(skip_empty_area=False)
    width = max((len(row) for row in rows), default=0)
    height = len(rows)
    columns = [encode([row[j] if j < len(row) else "" for row in rows])
               for j in range(width)]
    del rows
    found.append(("sheet", name, height, width,
                  list(sheet.merged_cell_ranges or []), columns))
pickle.dump(found, out, protocol=5)
"""


class _CellsUnpickler(pickle.Unpickler):
    """The child's answer holds lists, text, numbers and datetime values, nothing else:
    whatever a workbook did to the child, no other class is built from its answer."""

    _ALLOWED = frozenset({("datetime", "date"), ("datetime", "datetime"),
                          ("datetime", "time"), ("datetime", "timedelta")})

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"workbook reader sent a {module}.{name}")
        return super().find_class(module, name)


class WorkbookTooLarge(ValueError):
    """A spreadsheet that would unpack or spread past the limits: refused unread."""


@dataclass(eq=False)
class Sheet:
    """One sheet as calamine read it; row i of `rows` is spreadsheet row i + 1.

    Cells are as calamine gives them: `str` (an empty cell is ""), `float`, `int`,
    `bool`, `date`, `datetime`, `time` or `timedelta`.
    """

    name: str
    height: int
    width: int
    merged: list = field(default_factory=list)  # ((first row, col), (last row, col)), 0-based
    _columns: list[tuple[list, bytes]] = field(default_factory=list, repr=False)
    _error: str | None = None
    _where: str = ""

    def _readable(self) -> None:
        if self._error is not None:
            raise ValueError(f"{self._where}: sheet {self.name!r} is not readable: {self._error}")

    def column_codes(self, j: int) -> tuple[list[Any], array]:
        """Column j as (distinct values, each row's index into them)."""
        self._readable()
        distinct, raw = self._columns[j]
        codes = array(_CODE)
        codes.frombytes(raw)
        return distinct, codes

    def column(self, j: int) -> list[Any]:
        """The cells of column j, top to bottom."""
        distinct, codes = self.column_codes(j)
        return [distinct[c] for c in codes]

    @cached_property
    def rows(self) -> list[list[Any]]:
        self._readable()
        if not self.width:
            return [[] for _ in range(self.height)]
        return [list(row) for row in zip(*(self.column(j) for j in range(self.width)),
                                         strict=True)]

    def head(self, n: int) -> list[list[Any]]:
        """The first n rows, without decoding the rest."""
        self._readable()
        if "rows" in self.__dict__:
            return self.rows[:n]
        columns = []
        for j in range(self.width):
            distinct, codes = self.column_codes(j)
            columns.append([distinct[c] for c in codes[:n]])
        if not columns:
            return [[] for _ in range(min(n, self.height))]
        return [list(row) for row in zip(*columns, strict=True)]


def read_sheets(body: bytes, where: str, kind: str = "XLS/XLSX") -> list[Sheet]:
    """Every sheet of the workbook in `body`, in order, read once it is known to fit.

    ValueError naming `where` for bytes that are not a spreadsheet (an HTML error page
    saved as `.xlsx`), WorkbookTooLarge for a zip or range bomb. A sheet calamine cannot
    read raises (naming the file and the sheet) when its cells are asked for.
    """
    if body.startswith(_ZIP_MAGIC):
        _check_zip(body, where)
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", _READER, str(MAX_CELLS)], input=body,
            capture_output=True, timeout=_READER_SECONDS, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise WorkbookTooLarge(f"{where}: reading its sheets took over {_READER_SECONDS} s"
                               ) from exc
    if done.returncode != 0:
        # An abort (calamine could not allocate a sheet) or an exhausted memory cap.
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise WorkbookTooLarge(
            f"{where}: a sheet does not fit in {_READER_MEMORY >> 30} GiB of memory "
            f"(exit {done.returncode}: {(said or ['?'])[-1][:200]})"
        )
    found = _CellsUnpickler(io.BytesIO(done.stdout)).load()
    if isinstance(found, tuple):  # ("unreadable", message)
        raise ValueError(f"{where}: not a readable {kind} file: {found[1]}")
    sheets: list[Sheet] = []
    for item in found:
        if item[0] == "too_large":
            raise WorkbookTooLarge(
                f"{where}: sheet {item[1]!r} takes the workbook past {MAX_CELLS:,} cells "
                "from A1 to the furthest cell with a value: it would not fit in memory"
            )
        if item[0] == "error":
            sheets.append(Sheet(item[1], 0, 0, _error=item[2], _where=where))
        else:
            _, name, height, width, merged, columns = item
            sheets.append(Sheet(name, height, width, merged, columns, _where=where))
    return sheets


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
