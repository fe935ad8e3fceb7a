"""Reading spreadsheets with calamine, refusing those that would exhaust memory.

Two kinds of small file can take a night down. A zip bomb: an XLSX is a zip of XML,
and a few kilobytes can unpack to gigabytes. A range bomb: a sheet holding two cells,
`A1` and `XFD1048576`, for which calamine allocates the whole rectangle between them
(17 billion cells) and the process aborts, with no exception to catch; an XLS can do
the same with many sheets of 65 536 × 256.

An XLSX is checked in this process before calamine sees it: (1) its zip directory, for
the sizes its members declare (calamine's zip reader refuses a member that unpacks past
its declared size, so these bound what it reads), and (2) every sheet's XML, streamed
through zlib in bounded memory, for the furthest cell that holds a value, as calamine
would place it (a `<dimension>` that lies does not count: calamine does not trust it
either). A workbook spreading past MAX_CELLS is refused unread. An XLS (BIFF) has no
such cheap look inside, so calamine reads it in a child process whose memory is capped:
a bomb aborts the child, not the night. The child answers in Arrow IPC, data only.

An XLSX that passed is read once, by calamine in Rust straight to Arrow (`fastexcel`):
the sheet's XML is streamed through the checks above and, in the same pass, every text is
marked, so one read of every cell as text tells a text from a number or a date and loses
neither (`_Marked`). A workbook using what the marking does not cover (a formula's text,
a boolean, an error, an ISO date, a duration, cells placed by counting) is read by
python-calamine instead, the values being the same.

A sheet is handed over column by column, as each column's distinct values and one index
per row (`Sheet.column_codes`): a column of a 190 000-row file holds a few thousand
distinct regions, statuses or amounts, so a parser converts each distinct value once.
The values are calamine's own (`str`, an empty cell "", `float`, `int`, `bool`, `date`,
`datetime`, `time`, `timedelta`); `Sheet.rows` gives the familiar lists.

Every refusal is a ValueError naming the file, so the load quarantines or stops on it
with a reason.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import zipfile
import zlib
from array import array
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cached_property
from typing import Any

# The largest source file (the ФПГ projects file) unpacks to some hundred megabytes of
# XML and a few million cells; these limits leave room for growth, not for a bomb.
# It opens only the members of the workbook it is given, never a file of the project.
DATA_FILES: tuple = ()
MAX_UNPACKED_BYTES = 1 << 30
MAX_RATIO = 200  # deflate reaches about 1 000 : 1 on a bomb; real sheets some 5-30 : 1
MAX_CELLS = 20_000_000  # cells from A1 to the furthest cell holding a value, all sheets
_RATIO_FLOOR = 1 << 22  # a member smaller than this is never refused for its ratio
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_READER_MEMORY = 4 << 30  # address space of the XLS child: MAX_CELLS cells fit, a bomb does not
_READER_SECONDS = 600
_CODE = "I"  # array typecode of the row indexes: unsigned 32-bit
_CHUNK = 1 << 22  # bytes of sheet XML looked at at a time


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

    def column_texts(self, j: int) -> Any:
        """Column j's distinct values (as `column_codes` gives them) that are text, as a
        polars String column, null for the others: a parser's column-wise helpers start here,
        without a pass over the Python values where calamine's read gave them as a column."""
        self._readable()
        distinct, _ = self._columns[j]
        texts = getattr(distinct, "texts", None)
        if texts is None:
            import polars as pl

            texts = pl.Series([v if v.__class__ is str else None for v in distinct],
                              dtype=pl.String)
        return texts

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
        return _read_xlsx(body, where, kind)
    if not body.startswith(_OLE_MAGIC):
        # Neither an XLSX (a zip) nor an XLS (an OLE2 compound file): an error page, a PDF,
        # junk. Refused here, without handing megabytes to a child that would say the same.
        raise ValueError(f"{where}: not a readable {kind} file: it is neither a zip (XLSX) "
                         f"nor an OLE2 compound document (XLS); it begins {body[:16]!r}")
    return _read_in_child(body, where, kind)


# --- XLSX: checked and read in this process ---------------------------------------------------

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
# A cell with a value: `<c … r="AB7" …>` (an empty `<c …/>` holds none).
_CELL = re.compile(rb'<c r="([A-Z]+)([0-9]+)"[^>]*(?<!/)>')
_CELL_COLUMN = re.compile(rb'<c r="([A-Z]+)[0-9]+"[^>]*(?<!/)>')
_CELL_ROW = re.compile(rb'<c r="[A-Z]+([0-9]+)"[^>]*(?<!/)>')
_TAG = re.compile(rb'<(row|c)\b([^>]*)>')
_R_ATTRIBUTE = re.compile(rb'\sr=["\']([A-Za-z]*)([0-9]*)["\']')
_MERGE = re.compile(rb'<mergeCell\b[^>]*?\sref="([A-Z]+)([0-9]+)(?::([A-Z]+)([0-9]+))?"')
_TAIL = 1 << 16  # bytes at a piece's end where its last cell is looked for
# The mark put before every text: a private-use character, so a text that begins with one
# still reads back whole (one mark is taken off, whatever follows).
_MARK = "\ue000"
_MARKED_RUN = b"<t>" + _MARK.encode() + b"</t>"
# The mark as the beginning of an inline string's first run, where that run is a plain `<t>`.
_INNER_MARK = b"<is><t>" + _MARK.encode()
_DURATION_FORMAT = re.compile(rb'formatCode="[^"]*\[[hHmMsS]')


def _read_xlsx(body: bytes, where: str, kind: str) -> list[Sheet]:
    members = _check_zip(body, where)
    archive = zipfile.ZipFile(io.BytesIO(body))
    parts = _sheet_parts(archive, members, where, kind)
    try:
        with _Marked(archive, parts) as marked:
            cells = 0
            merged: dict[str, list] = {}
            for name, part in parts:
                if part is not None:
                    extent, merged[name] = _scan_sheet(archive, part, name, where, marked,
                                                       cells)
                    cells += extent
            if marked.usable:
                try:
                    return marked.read(parts, merged, where)
                except _NotMarked:
                    pass
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        # A member that does not unpack (a damaged download): refused, as calamine would.
        raise ValueError(f"{where}: not a readable {kind} file: {exc}") from exc
    return _read_calamine(body, where, kind)


def _check_zip(body: bytes, where: str) -> list[zipfile.ZipInfo]:
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
    return members


def _sheet_parts(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], where: str,
                 kind: str) -> list[tuple[str, str | None]]:
    """(name, zip member of its XML) of every sheet, in the workbook's order; the member is
    None for a sheet whose XML the zip lacks (calamine names it when read)."""
    from lxml import etree

    names = {m.filename for m in members}
    # No entities, no network: the workbook's own XML is not trusted either.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        workbook = etree.fromstring(archive.read("xl/workbook.xml"), parser)
        rels = etree.fromstring(archive.read("xl/_rels/workbook.xml.rels"), parser)
    except (KeyError, etree.XMLSyntaxError, zipfile.BadZipFile, OSError) as exc:
        raise ValueError(f"{where}: not a readable {kind} file: {exc}") from exc
    targets = {r.get("Id"): r.get("Target", "")
               for r in rels.iter(f"{{{_PKG_REL_NS}}}Relationship")}
    out = []
    for sheet in workbook.iter(f"{{{_MAIN_NS}}}sheet"):
        target = targets.get(sheet.get(f"{{{_REL_NS}}}id"), "")
        path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        out.append((sheet.get("name", ""), path if path in names else None))
    return out


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ch - 64
    return number


def _pieces(archive: zipfile.ZipFile, part: str):
    """The member's XML in pieces of whole tags and texts, each ending before a cell where
    there is one (so a cell's tag and its value, `<v>1234.123456789123</v>`, are looked at
    together), else before a `<`."""
    carry = b""
    with archive.open(part) as stream:
        while True:
            chunk = stream.read(_CHUNK)
            if not chunk:
                if carry:
                    yield carry
                return
            buffer = carry + chunk
            cut = buffer.rfind(b"<c ")
            if cut <= 0:
                cut = buffer.rfind(b"<")
            if cut <= 0:
                carry = buffer
                continue
            yield buffer[:cut]
            carry = buffer[cut:]


def _scan_sheet(archive: zipfile.ZipFile, part: str, name: str, where: str,
                marked: _Marked, before: int) -> tuple[int, list]:
    """(cells from A1 to the sheet's furthest cell with a value, its merged ranges),
    streamed; WorkbookTooLarge as soon as the workbook passes MAX_CELLS.

    Rows come in order, so a piece's last cell has its furthest row. A few searches per piece
    then look for what needs a closer look: a row or cell placed by counting (the sheet's
    every tag is then counted, `_counted`, wherever in the piece it is), a cell below that
    row or right of the furthest column (its piece's cells are then all read), and what the
    marking must know. Each is asked first of the piece as text by the Rust regular
    expressions polars runs (`_look`), faster than Python's and side by side; only where one
    may match does the exact Python search below it run.
    """
    rows = columns = 0
    counting = False
    merged: list = []
    for piece in _pieces(archive, part):
        if counting:
            continue
        last = _last_cell(piece)
        if last is not None:
            rows = max(rows, int(last.group(2)))
            columns = max(columns, _column_number(last.group(1)))
        look = _look(piece, rows, columns)
        odd = look is None or look["attention"]
        if odd and _counted_here(piece):
            # Cells placed by counting are not where the marking's notes would put them.
            counting, marked.usable = True, False
            continue
        far = ((look is None or look["far"])
               and _cells_to_look_at(rows, columns).search(piece) is not None)
        for start, digits in _values(piece, look):
            if digits is None:
                marked.usable = False
            else:
                marked.exact(name, piece, start, digits)
        if odd and _ODD_TYPES.search(piece) is not None:
            marked.usable = False
        if far:
            rows = max(rows, max(map(int, set(_CELL_ROW.findall(piece)))))
            columns = max(columns, max(map(_column_number, set(_CELL_COLUMN.findall(piece)))))
        if rows * columns + before > MAX_CELLS:
            _refuse(where, name)
        # Only a piece checked whole is written: a part complete with it may be read at once.
        marked.take(part, piece, inner=look is not None and not look["odd_string"])
        if b"<mergeCell" in piece:
            merged.extend(_MERGE.findall(piece))
    if counting:
        rows, columns, merged = _counted(archive, part, name, where, before)
    return rows * columns, [_merge_range(m) for m in merged]


def _counted_here(piece: bytes) -> bool:
    """Whether the piece holds a row or a cell placed by counting (calamine puts it one
    after the one before), or a sheet in another spelling: every tag is then counted, and
    the workbook read by python-calamine. A prefixed name is looked for only where its
    rarer literal text (`:c`, `:row`…) is, not at every tag."""
    return (_TAGS.search(piece) is not None
            or (_PREFIXED_NAME.search(piece) is not None
                and _PREFIXED.search(piece) is not None))


_TAGS = re.compile(rb'<(?:c(?! r="[A-Z]+[0-9]+")[\s/>]|row(?! r="[0-9]+")[\s/>]'
                   rb'|is[\s/]|si[\s/])')
_PREFIXED_NAME = re.compile(rb':(?:is|si|c|v|row)\b')
_PREFIXED = re.compile(rb'<[\w.-]+:(?:is|si|c|v|row)\b')


def _cells_to_look_at(rows: int, columns: int) -> re.Pattern[bytes]:
    """A cell with a value below row `rows` or right of column `columns` (its piece's
    cells are then all read)."""
    return re.compile(
        rb'<c(?: r="(?:[A-Z]+0*(?:' + _greater(str(rows), _DIGITS).encode()
        + rb')|(?:' + _greater(_letters(columns), _LETTERS).encode() + rb')[0-9]+)"[^>]*(?<!/)>)')


def _letters(column: int) -> str:
    """Column number -> its letters (28 -> "AB"); 0 -> ""."""
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# A value: a number with more digits than calamine's text form of it keeps (`digits`), or
# one that is not a number at all (the marking does not cover it).
_VALUES = re.compile(rb'<v(?:>(?P<digits>-?[0-9]*\.[0-9]{7,}|-?[0-9.]*[eE][-+]?[0-9]+)</v>'
                     rb'|\s|>[^<]*[^0-9.eE+<\-])')
# A formula's text, a boolean, an error, an ISO date: python-calamine reads the workbook.
_ODD_TYPES = re.compile(rb't=(?:"(?:str|b|e|d)"|\'(?:str|b|e|d)\')')


# --- the same searches by polars' Rust regular expressions, as a first look ------------------
#
# Rust's expressions have no look-around, so each of these matches wherever its Python
# search can (and maybe more: then the Python search decides). They run on the piece as
# UTF-8 text; a piece that is not (a damaged or hostile sheet) goes to Python at once.
# Python's `\s` in a bytes pattern is `[\t-\r ]`.

_WS = r"[\t-\r ]"
# `_TAGS`: a cell whose tag does not begin `<c r="A1"`, a row not `<row r="1"` (spelt out
# as every way of going astray, the end of the piece included), `<is`/`<si` with attributes.
_ATTENTION = "|".join((
    r'<c(?:[\t-\r/>]| (?:$|[^r]|r(?:$|[^=]|=(?:$|[^"]|"(?:$|[^A-Z]'
    r'|[A-Z]+(?:$|[^A-Z0-9]|[0-9]+(?:$|[^0-9"])))))))',
    r'<row(?:[\t-\r/>]| (?:$|[^r]|r(?:$|[^=]|=(?:$|[^"]|"(?:$|[^0-9]|[0-9]+(?:$|[^0-9"]))))))',
    r"<(?:is|si)[\t-\r /]",
    # `_PREFIXED` but for its prefix and word boundary; `_ODD_TYPES` as it is.
    r":(?:is|si|c|v|row)",
    r"""t=(?:"(?:str|b|e|d)"|'(?:str|b|e|d)')""",
))
_VALUES_TEXT = (r"<v(?:>(?:-?[0-9]*\.[0-9]{7,}|-?[0-9.]*[eE][-+]?[0-9]+)</v>|" + _WS
                + r"|>[^<]*[^0-9.eE+<\-])")
# An inline string whose first run is not a plain `<t>`, or whose text may begin with white
# space (a space, a reference such as `&#32;`, CDATA; calamine trims a text's ends, which a mark
# before it would keep): that piece's texts are marked by a run of their own (`_MARKED_RUN`),
# the others inside their `<t>` (`_INNER_MARK`).
_IS_WITHOUT_T = r"<is>(?:$|[^<]|<(?:$|[^t]|t(?:$|[^>]|>(?:$|[ \t\r\n&<]))))"
_SI_SPACED = re.compile(rb"<si><t>[ \t\r\n&<]")


def _look(piece: bytes, rows: int, columns: int) -> dict[str, Any] | None:
    """The Rust searches over the piece, side by side in one polars query: whether it may hold
    what `_ATTENTION`, `_IS_WITHOUT_T` (`odd_string`) and `_far_cells` look for, and the texts
    of the `_VALUES` matches (`values`). None for a piece that is not UTF-8 text."""
    import polars as pl

    try:
        frame = pl.DataFrame({"xml": pl.Series([piece], dtype=pl.Binary).cast(pl.String)})
    except pl.exceptions.ComputeError:
        return None
    xml = pl.col("xml")
    return frame.select(attention=xml.str.contains(_ATTENTION),
                        odd_string=xml.str.contains(_IS_WITHOUT_T),
                        far=xml.str.contains(_far_cells(rows, columns)),
                        values=xml.str.extract_all(_VALUES_TEXT)).row(0, named=True)


def _values(piece: bytes, look: dict[str, Any] | None) -> list[tuple[int, bytes | None]]:
    """(where, digits or None) of each `_VALUES` match, as `finditer` finds them.

    Rust finds the same matches, in order (no look-around, the same leftmost-first choice);
    each is then placed by `find` from the end of the one before, the first place its text
    occurs, and where `finditer` finds it (any earlier would have been found first)."""
    if look is None:
        return [(found.start(), found.group("digits")) for found in _VALUES.finditer(piece)]
    out = []
    at = 0
    for written in look["values"]:
        value = written.encode()
        start = piece.find(value, at)
        at = start + len(value)
        out.append((start, _VALUES.match(value).group("digits")))
    return out


def _far_cells(rows: int, columns: int) -> str:
    """`_cells_to_look_at` for Rust, any cell tag (one without a value too)."""
    return (r'<c r="(?:[A-Z]+0*(?:' + _greater(str(rows), _DIGITS) + r')|(?:'
            + _greater(_letters(columns), _LETTERS) + r')[0-9]+)"')


def _last_cell(piece: bytes) -> re.Match[bytes] | None:
    """The last cell with a value in the piece, looked for at its end first."""
    found = None
    for found in _CELL.finditer(piece, max(0, len(piece) - _TAIL)):  # noqa: B007 - the last
        continue
    if found is None:
        for found in _CELL.finditer(piece):  # noqa: B007 - the last one is kept
            continue
    return found


def _refuse(where: str, name: str) -> None:
    raise WorkbookTooLarge(
        f"{where}: sheet {name!r} takes the workbook past {MAX_CELLS:,} cells "
        "from A1 to the furthest cell with a value: it would not fit in memory"
    )


def _greater(value: str, alphabet: str) -> str:
    """A regular expression for the strings over `alphabet` (its characters in order, no
    leading zero) that are greater than `value`: longer ones, or as long and greater."""
    first = alphabet[1] if alphabet[0] == "0" else alphabet[0]
    any_ = f"[{alphabet[0]}-{alphabet[-1]}]"
    options = [f"[{first}-{alphabet[-1]}]{any_}{{{len(value)},}}"]
    for i, ch in enumerate(value):
        rank = alphabet.index(ch)
        if rank + 1 < len(alphabet):
            options.append(f"{re.escape(value[:i])}[{alphabet[rank + 1]}-{alphabet[-1]}]"
                           f"{any_}{{{len(value) - i - 1}}}")
    return "|".join(options)


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"


def _counted(archive: zipfile.ZipFile, part: str, name: str, where: str, before: int
             ) -> tuple[int, int, list]:
    """(last row, last column, merged ranges) placing every row and cell as calamine does:
    by its `r`, else one after the one before."""
    row = column = rows = columns = 0
    merged: list = []
    for piece in _pieces(archive, part):
        for tag, attributes in _TAG.findall(piece):
            ref = _R_ATTRIBUTE.search(attributes)
            if tag == b"row":
                row = int(ref.group(2)) if ref and ref.group(2) else row + 1
                column = 0
                continue
            if ref and ref.group(1):
                column = _column_number(ref.group(1))
                cell_row = int(ref.group(2)) if ref.group(2) else row
            else:
                column += 1
                cell_row = row
            if not attributes.endswith(b"/"):
                rows, columns = max(rows, cell_row), max(columns, column)
        if rows * columns + before > MAX_CELLS:
            _refuse(where, name)
        merged.extend(_MERGE.findall(piece))
    return rows, columns, merged


def _merge_range(found: tuple[bytes, bytes, bytes, bytes]) -> tuple:
    first_column, first_row, last_column, last_row = found
    start = (int(first_row) - 1, _column_number(first_column) - 1)
    if not last_column:
        return (start, start)
    return (start, (int(last_row) - 1, _column_number(last_column) - 1))


class _NotMarked(Exception):
    """A cell read back in a form the marking does not account for."""


_DATETIME = re.compile(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?")


class _Marked:
    """The workbook with a mark before every text, written aside in memory as its sheets are
    streamed through the checks, then read once by calamine, every cell as text.

    Shared strings (`<si>`) and inline strings (`<is>`) get the mark at the start of their
    first run where that is a plain `<t>` whose text begins with no space, reference or CDATA
    (as good as always), else as a first run of its own, which calamine joins to the rest.
    Numbers and dates are left as they are, and calamine writes them as text: a date as
    `YYYY-MM-DD HH:MM:SS`, a number rounded to nine decimal places, which is exact for a
    number written with up to six. A number written with more (`9198048.630000001`) is noted
    as written, by its cell, and put back after the read.

    A large sheet is cut at row boundaries into parts, a few per processor, each a workbook
    of its own (the sheet's head, its rows, a closing tag), which calamine reads side by side
    (it lets go of the interpreter while it reads); the parts' columns are then joined. A
    part other than a sheet's first is complete when the next begins: calamine reads it then,
    on another processor, while the rest of the sheet is still being checked (its own cells
    are checked already, and only its own cells does calamine lay out).
    """

    def __init__(self, archive: zipfile.ZipFile, parts: list[tuple[str, str | None]]) -> None:
        self.archive = archive
        self.parts = parts
        self.books: list[_Book] = [_Book()]
        # book -> its sheets read already, each a (first column, height, frame) (`_load`)
        self.early: dict[int, Future] = {}
        self.others: list[tuple[str, bytes]] | None = None
        self.pool: ThreadPoolExecutor | None = None
        self.writing: _Member | None = None
        self.written: set[str] = set()
        # sheet member -> (0-based row it starts at, book it is in) of each of its parts
        self.cuts: dict[str, list[tuple[int, int]]] = {}
        self.numbers: dict[str, list[tuple[int, int, bytes]]] = {}
        self.workers = _workers()
        self.cut_into = self.workers * _PARTS_PER_WORKER
        try:
            styles = archive.read("xl/styles.xml")
        except KeyError:
            styles = b""
        # A duration (`[h]:mm`) would be written as text like a date: python-calamine reads it.
        self.usable = not _DURATION_FORMAT.search(styles)

    def __enter__(self) -> _Marked:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close_member()
        for book in self.books:
            book.zip.close()
        if self.pool is not None:
            # A refused workbook may leave a part being read: it is a part already checked.
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _close_member(self) -> None:
        if self.writing is not None:
            self.writing.close()
            self.writing = None

    def take(self, part: str, piece: bytes, inner: bool = False) -> None:
        """Write the piece, its texts marked; `inner`: every inline string in it begins with a
        plain `<t>`, so the mark goes inside it (calamine reads one run the faster)."""
        if not self.usable:
            return
        if self.writing is None or self.writing.part != part:
            self._close_member()
            self.writing = _Member(self.books[0], part, piece,
                                   self.archive.getinfo(part).file_size // self.cut_into)
            self.written.add(part)
            self.cuts[part] = [(0, 0)]
        elif len(self.cuts[part]) < self.cut_into and self.writing.cuttable(piece):
            cut = _ROW_START.search(piece)
            if cut is not None and int(cut.group(1) or 0) - 1 > self.cuts[part][-1][0]:
                self.writing.write(_marked(piece[:cut.start()], inner))
                self.writing.close(b"</sheetData></worksheet>")
                self._read_early(len(self.books) - 1, part)
                self.books.append(_Book())
                self.writing = self.writing.next_part(self.books[-1])
                self.cuts[part].append((int(cut.group(1)) - 1, len(self.books) - 1))
                piece = piece[cut.start():]
        self.writing.write(_marked(piece, inner))

    def _read_early(self, index: int, part: str) -> None:
        """Hand book `index`, complete, to calamine now, if it holds one part alone (not a
        sheet's first part: book 0 holds every sheet's first part)."""
        if index == 0:
            return
        try:
            others = self._others()
        except _NotMarked:
            self.usable = False
            return
        book = self.books[index]
        for name, data in others:
            book.zip.writestr(name, data)
        book.zip.close()
        data = book.buffer.getvalue()
        book.buffer = io.BytesIO()
        if self.pool is None:
            self.pool = ThreadPoolExecutor(self.workers)
        names = [name for name, sheet in self.parts if sheet == part]
        self.early[index] = self.pool.submit(_read_book, data, names)

    def _others(self) -> list[tuple[str, bytes]]:
        """Every member but the sheets, as each book holds it (shared strings marked)."""
        if self.others is None:
            sheets = {part for _, part in self.parts if part is not None}
            self.others = [(member.filename, self._member(member.filename))
                           for member in self.archive.infolist()
                           if member.filename not in sheets]
        return self.others

    def _member(self, name: str) -> bytes:
        data = self.archive.read(name)
        if name == "xl/sharedStrings.xml":
            if _OTHER_STRINGS.search(data):
                raise _NotMarked
            if data.count(b"<si>") == data.count(b"<si><t>") and _SI_SPACED.search(data) is None:
                return data.replace(b"<si><t>", b"<si><t>" + _MARK.encode())
            return data.replace(b"<si>", b"<si>" + _MARKED_RUN)
        return data

    def exact(self, sheet: str, piece: bytes, at: int, digits: bytes) -> None:
        """Note the number `digits` of the cell whose value starts at `at`."""
        start = piece.rfind(b'<c r="', 0, at) + 6
        ref = _REFERENCE.match(piece, start)
        if start < 6 or ref is None:
            self.usable = False
            return
        self.numbers.setdefault(sheet, []).append(
            (int(ref.group(2)) - 1, _column_number(ref.group(1)) - 1, digits))

    def _finish(self) -> list[bytes | None]:
        """Each workbook to read: the whole one (with the first part of every cut sheet),
        then one per further part, holding that part and every member but the sheets; None
        for a book read already."""
        self._close_member()
        # A sheet's member never written (an empty one) goes in as it is.
        sheets = {part for _, part in self.parts if part is not None}
        members = self._others() + [
            (member.filename, self.archive.read(member.filename))
            for member in self.archive.infolist()
            if member.filename in sheets and member.filename not in self.written]
        out: list[bytes | None] = []
        for index, book in enumerate(self.books):
            if index in self.early:
                out.append(None)
                continue
            for name, data in members:
                book.zip.writestr(name, data)
            book.zip.close()
            out.append(book.buffer.getvalue())
            book.buffer = io.BytesIO()
        return out

    def read(self, parts: list[tuple[str, str | None]], merged: dict[str, list],
             where: str) -> list[Sheet]:
        books = self._finish()
        sheets = [(name, self.cuts.get(part or "", [(0, 0)])) for name, part in parts]
        # A reader reads one sheet at a time: each book's sheets in turn, the books side by side.
        wanted: list[list[str]] = [[] for _ in books]
        for name, cuts in sheets:
            for _, book in cuts:
                wanted[book].append(name)
        if self.pool is None:
            self.pool = ThreadPoolExecutor(self.workers)
        futures = [self.early[index] if data is None
                   else self.pool.submit(_read_book, data, names)
                   for index, (data, names) in enumerate(zip(books, wanted, strict=True))]
        # Each book handed over and let go: calamine keeps its own copy.
        del books
        loaded = [iter(future.result()) for future in futures]
        out = []
        for name, cuts in sheets:
            height, columns = _joined([next(loaded[book]) for _, book in cuts],
                                      [row for row, _ in cuts])
            by_column: dict[int, list[tuple[int, bytes]]] = {}
            for row, column, digits in self.numbers.get(name, []):
                by_column.setdefault(column, []).append((row, digits))
            for column, numbers in by_column.items():
                columns[column] = _put_back(columns[column], numbers)
            out.append(Sheet(name, height, len(columns), merged.get(name, []), columns,
                             _where=where))
        return out


def _marked(xml: bytes, inner: bool = False) -> bytes:
    if inner:
        return xml.replace(b"<is><t>", _INNER_MARK)
    return xml.replace(b"<is>", b"<is>" + _MARKED_RUN)


@dataclass(eq=False)
class _Book:
    """One workbook being written in memory, uncompressed."""

    buffer: io.BytesIO = field(default_factory=io.BytesIO)
    zip: zipfile.ZipFile = field(init=False)

    def __post_init__(self) -> None:
        self.zip = zipfile.ZipFile(self.buffer, "w", zipfile.ZIP_STORED)


class _Member:
    """A sheet's XML being written into a book; cut into a further part once it holds its
    share of the sheet, at a row that begins a piece's rows."""

    def __init__(self, book: _Book, part: str, first: bytes, share: int) -> None:
        self.part, self.share, self.size = part, share, 0
        self.stream = book.zip.open(part, "w", force_zip64=True)
        opening = first.find(b"<sheetData>")
        # Only a sheet of the usual shape, no comment, CDATA or instruction inside, is cut.
        self.head = (first[:opening + len(b"<sheetData>")]
                     if opening >= 0 and b"<worksheet" in first[:opening] else None)
        self.plain = (self.head is not None and share >= _MIN_PART
                      and not _markup(first[opening:]))

    def cuttable(self, piece: bytes) -> bool:
        if self.plain and (_markup(piece) or b"</sheetData" in piece):
            self.plain = False
        return self.plain and self.size >= self.share

    def write(self, data: bytes) -> None:
        self.size += len(data)
        self.stream.write(data)

    def close(self, tail: bytes = b"") -> None:
        if tail:
            self.stream.write(tail)
        self.stream.close()

    def next_part(self, book: _Book) -> _Member:
        head = self.head or b""
        following = _Member(book, self.part, head, self.share)
        following.write(head)
        following.size = 0
        return following


def _workers() -> int:
    """How many parts of a large sheet are read side by side: one per processor."""
    usable = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
              else os.cpu_count() or 1)
    return max(1, min(_PARTS, usable))


def _markup(xml: bytes) -> bool:
    """Whether the XML holds a comment, a CDATA section or an instruction, inside which a
    `<row` is no row: a sheet holding one is not cut. (`!` and `?` are rare, `<` is not.)"""
    return (b"!" in xml and b"<!" in xml) or (b"?" in xml and b"<?" in xml)


_PARTS = 8  # at most this many parts of one sheet read side by side
# Parts of a large sheet per processor: all but the first and the last are read while the
# sheet is still being checked.
_PARTS_PER_WORKER = 3
_MIN_PART = 1 << 24  # bytes of sheet XML below which a sheet is not cut
_ROW_START = re.compile(rb'<row(?: r="([0-9]+)")?[\s>/]')
_REFERENCE = re.compile(rb'([A-Z]+)([0-9]+)"')
_OTHER_STRINGS = re.compile(rb'<si[\s/]|<[\w.-]+:si\b')


def _read_book(book: bytes, names: list[str]) -> list[tuple[int, int, Any]]:
    """The named sheets (or parts) of one marked workbook, read by calamine (`_load`)."""
    import fastexcel

    try:
        reader = fastexcel.read_excel(book)
    except fastexcel.FastExcelError as exc:
        # A workbook calamine cannot open (a damaged styles part): python-calamine refuses it
        # in the words it always has.
        raise _NotMarked from exc
    return _load(reader, names)


def _load(reader: Any, names: list[str]) -> list[tuple[int, int, Any]]:
    """(first column, height, frame) of each named sheet (or part) read as text by calamine."""
    import fastexcel
    import polars as pl

    out = []
    for name in names:
        try:
            loaded = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string")
            frame = pl.from_arrow(loaded.to_arrow())
        except fastexcel.FastExcelError as exc:
            # python-calamine names what is wrong with the sheet as it always has.
            raise _NotMarked from exc
        offset = min((c.absolute_index for c in loaded.available_columns()), default=0)
        out.append((offset, loaded.height, frame))
    return out


def _joined(frames: list[tuple[int, int, Any]], starts: list[int]
            ) -> tuple[int, list[tuple[list, bytes]]]:
    """(height, columns as codes) of a sheet read in parts starting at rows `starts`.

    calamine gives each part from row 1 (rows above its first value empty) and from its
    first column with a value; a part holding a value outside its own rows means the rows
    were not in order, and python-calamine reads the workbook instead.
    """
    import polars as pl

    height = max(h for _, h, _ in frames)
    if len(frames) == 1:
        offset, _, frame = frames[0]
        return height, ([([""], bytes(4 * height))] * offset
                        + _all_codes(frame))
    if not any(frame.width for _, _, frame in frames):
        return height, []
    first = min(o for o, _, f in frames if f.width)
    width = max(o + f.width for o, _, f in frames if f.width)
    names = [f"c{j}" for j in range(first, width)]
    ends = [*(min(start, height) for start in starts[1:]), height]
    blocks = []
    for (offset, part_height, frame), start, end in zip(frames, starts, ends, strict=True):
        if part_height > end or (start and frame.width and sum(
                frame.head(start).null_count().row(0)) != start * frame.width):
            raise _NotMarked
        size = max(end - start, 0)
        rows = frame.slice(start, size)
        block = pl.DataFrame([rows.to_series(j - offset).alias(names[j - first])
                              if offset <= j < offset + frame.width
                              else pl.Series(names[j - first], [None] * len(rows), pl.String)
                              for j in range(first, width)])
        if len(block) < size:
            block = pl.concat([block, pl.DataFrame(
                {n: pl.Series([None] * (size - len(block)), dtype=pl.String) for n in names})])
        blocks.append(block)
    whole = pl.concat(blocks, rechunk=False)
    return height, ([([""], bytes(4 * height))] * first
                    + _all_codes(whole))


def _put_back(column: tuple[list, bytes], numbers: list[tuple[int, bytes]]
              ) -> tuple[list, bytes]:
    """The column with each (row, number as written) cell holding the number as written."""
    distinct, raw = column
    codes = array(_CODE)
    codes.frombytes(raw)
    added: list[Any] = []
    for row, digits in numbers:
        code = codes[row]
        read = distinct[code] if code < len(distinct) else added[code - len(distinct)]
        if isinstance(read, float):
            value: Any = float(digits)
        elif isinstance(read, date) and not isinstance(read, datetime):
            # A day and a fraction too small to show: calamine's reader gives a moment.
            value = (read if float(digits).is_integer()
                     else datetime(read.year, read.month, read.day))
        else:
            value = read
        codes[row] = len(distinct) + len(added)
        added.append(value)
    return [*distinct, *added], codes.tobytes()


def _all_codes(frame: Any) -> list[tuple[list, bytes]]:
    """`_codes` of every column of the frame, a few side by side (polars lets go of the
    interpreter for the work on a column)."""
    if frame.width < 2:
        return [_codes(frame.to_series(j)) for j in range(frame.width)]
    with ThreadPoolExecutor(_workers()) as pool:
        return list(pool.map(_codes, frame.get_columns()))


class _Distinct(list):
    """A column's distinct values, with those that are text as a polars column (`texts`)."""

    texts: Any = None


def _codes(series: Any) -> tuple[list, bytes]:
    """A column read as marked text -> (distinct values as calamine gives them, codes).

    Texts lose their mark and numbers are parsed column-wise; only dates (and anything
    unexpected) go through `_value` one by one.
    """
    import polars as pl

    filled = series.fill_null("")
    # In order of first appearance, by hashing: no sort of a column of 190 000 texts.
    distinct = filled.unique(maintain_order=True)
    codes = filled.replace_strict(distinct, pl.int_range(len(distinct), dtype=pl.UInt32,
                                                         eager=True))
    marked = distinct.str.starts_with(_MARK)
    numbers = distinct.str.contains(_NUMBER) & ~marked
    values: list[Any] = distinct.str.slice(1).to_list()
    at = numbers.arg_true()
    if len(at):
        for i, number in zip(at.to_list(), distinct.gather(at).cast(pl.Float64).to_list(),
                             strict=True):
            values[i] = number
    odd = (~marked & ~numbers).arg_true().to_list()
    texts = distinct.gather(odd).to_list() if odd else []
    for i, text in zip(odd, texts, strict=True):
        values[i] = _value(text)
    out = _Distinct(values)
    # `_value` gives a text only for a marked cell or an empty one.
    out.texts = pl.select(pl.when(marked).then(distinct.str.slice(1))
                          .when(distinct == "").then(distinct)).to_series()
    return out, codes.to_numpy().tobytes()


# calamine's text form of a number: digits, a sign, a point, nothing else.
_NUMBER = r"^-?[0-9]+(?:\.[0-9]+)?$"


def _value(text: str) -> Any:
    """One cell read back as text -> the value calamine's Python reader gives."""
    if not text:
        return ""
    if text[0] == _MARK:
        return text[1:]
    moment = _DATETIME.fullmatch(text)
    if moment is None:
        try:
            return float(text)
        except ValueError as exc:
            raise _NotMarked from exc
    year, month, day, hour, minute, second = (int(g) for g in moment.groups()[:6])
    micro = int((moment.group(7) or "0").ljust(6, "0")[:6])
    if (year, month, day) < (1900, 1, 1):
        if (year, month, day) != (1899, 12, 31):
            raise _NotMarked
        return time(hour, minute, second, micro)
    if (hour, minute, second, micro) == (0, 0, 0, 0):
        return date(year, month, day)
    return datetime(year, month, day, hour, minute, second, micro)


def _read_calamine(body: bytes, where: str, kind: str) -> list[Sheet]:
    """Every sheet by python-calamine in this process (the workbook has passed the checks)."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(body))
    except Exception as exc:  # calamine raises its own error types for a broken file
        raise ValueError(f"{where}: not a readable {kind} file: {exc}") from exc
    sheets = []
    for name in workbook.sheet_names:
        try:
            sheet = workbook.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False)
        except Exception as exc:  # a sheet calamine cannot read is named when it is used
            sheets.append(Sheet(name, 0, 0, _error=str(exc), _where=where))
            continue
        width = max((len(row) for row in rows), default=0)
        columns = [_encode([row[j] if j < len(row) else "" for row in rows])
                   for j in range(width)]
        sheets.append(Sheet(name, len(rows), width, list(sheet.merged_cell_ranges or []),
                            columns, _where=where))
    return sheets


def _encode(values: list[Any]) -> tuple[list[Any], bytes]:
    """(distinct values, row codes); keyed with the type where Python would merge values
    across types (True == 1 == 1.0): a bool stays a bool, an XLS whole number an int."""
    index: dict[Any, int] = {}
    put = index.setdefault
    kinds = set(map(type, values))
    if bool in kinds or (int in kinds and float in kinds):
        codes = array(_CODE, [put((v.__class__, v), len(index)) for v in values])
        return [v for _, v in index], codes.tobytes()
    codes = array(_CODE, [put(v, len(index)) for v in values])
    return list(index), codes.tobytes()


# --- XLS: read in a capped child ----------------------------------------------------------

# Run as `python -I -c _READER <max cells>`, the workbook on stdin. It answers with one Arrow
# IPC stream, one row per sheet column (or per sheet, for a sheet with none, one that
# cannot be read, or the workbook being unreadable or too large): `kind`, `sheet`,
# `height`, `width`, `merged` (JSON), `message`, and the column's distinct values (a union
# of calamine's Python types, so True, 1 and 1.0 stay apart) with each row's index.
_READER = f"""
import io, itertools, json, resource, sys
from array import array
from concurrent.futures import ThreadPoolExecutor
_, hard = resource.getrlimit(resource.RLIMIT_AS)
cap = {_READER_MEMORY} if hard == resource.RLIM_INFINITY else min({_READER_MEMORY}, hard)
resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
import datetime as dt
import pyarrow as pa
from python_calamine import CalamineWorkbook
limit = int(sys.argv[1])
TYPES = [(bool, pa.bool_()), (int, pa.int64()), (float, pa.float64()), (str, pa.string()),
         (dt.datetime, pa.timestamp("us")), (dt.date, pa.date32()), (dt.time, pa.time64("us")),
         (dt.timedelta, pa.duration("us"))]
UNION = pa.dense_union([pa.field(str(i), t) for i, (_, t) in enumerate(TYPES)])
SCHEMA = pa.schema([("kind", pa.string()), ("sheet", pa.string()), ("height", pa.int64()),
                    ("width", pa.int64()), ("merged", pa.string()), ("message", pa.string()),
                    ("distinct", pa.list_(UNION)), ("codes", pa.binary())])

def tag(value):
    for i, (kind, _) in enumerate(TYPES):
        if type(value) is kind:
            return i
    raise TypeError(type(value).__name__)

def union(values):
    tags = [tag(v) for v in values]
    children, offsets = [[] for _ in TYPES], []
    for t, v in zip(tags, values):
        offsets.append(len(children[t]))
        children[t].append(v)
    return pa.UnionArray.from_dense(
        pa.array(tags, pa.int8()), pa.array(offsets, pa.int32()),
        [pa.array(c, t) for c, (_, t) in zip(children, TYPES)], [str(i) for i in range(len(TYPES))])

def encode(values):
    index = {{}}
    put = index.setdefault
    codes = array("{_CODE}", [put((v.__class__, v), len(index)) for v in values])
    return [v for _, v in index], codes.tobytes()

rows_out = []
def add(kind, sheet=None, height=0, width=0, merged="[]", message=None, distinct=(), codes=b""):
    rows_out.append((kind, sheet, height, width, merged, message, union(list(distinct)), codes))

try:
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(sys.stdin.buffer.read()))
except Exception as exc:
    add("unreadable", message=str(exc))
    workbook = None
cells = 0
for name in (workbook.sheet_names if workbook is not None else []):
    try:
        sheet = workbook.get_sheet_by_name(name)
    except Exception as exc:
        add("error", name, message=str(exc))
        continue
    end = sheet.end
    cells += (end[0] + 1) * (end[1] + 1) if end else 0
    if cells > limit:
        add("too_large", name, message=str(cells))
        break
    rows = sheet.to_python(skip_empty_area=False)
    width = max((len(row) for row in rows), default=0)
    merged = json.dumps(list(sheet.merged_cell_ranges or []))
    if not width:
        add("sheet", name, len(rows), 0, merged)
    for j in range(width):
        distinct, codes = encode([row[j] if j < len(row) else "" for row in rows])
        add("sheet", name, len(rows), width, merged, None, distinct, codes)
    del rows
columns = list(zip(*rows_out)) or [[] for _ in SCHEMA]
arrays = []
for values, f in zip(columns, SCHEMA):
    if f.name == "distinct":
        offsets = list(itertools.accumulate([0] + [len(u) for u in values]))
        flat = pa.concat_arrays(list(values)) if values else union([])
        arrays.append(pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), flat))
    else:
        arrays.append(pa.array(values, f.type))
table = pa.Table.from_arrays(arrays, schema=SCHEMA)
with pa.ipc.new_stream(sys.stdout.buffer, SCHEMA) as out:
    out.write_table(table)
"""


def _read_in_child(body: bytes, where: str, kind: str) -> list[Sheet]:
    """Every sheet of an XLS, read by calamine in a child whose memory is capped."""
    import pyarrow as pa

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
    table = pa.ipc.open_stream(done.stdout).read_all()
    sheets: list[Sheet] = []
    current: Sheet | None = None
    for i, (what, name, height, width, merged, message) in enumerate(zip(
            *(table.column(c).to_pylist() for c in
              ("kind", "sheet", "height", "width", "merged", "message")), strict=True)):
        if what == "unreadable":
            raise ValueError(f"{where}: not a readable {kind} file: {message}")
        if what == "too_large":
            _refuse(where, name)
        if what == "error":
            sheets.append(Sheet(name, 0, 0, _error=message, _where=where))
            current = None
            continue
        if current is None or current.name != name or len(current._columns) == current.width:
            current = Sheet(name, height, width,
                            [tuple(map(tuple, m)) for m in json.loads(merged)], [],
                            _where=where)
            sheets.append(current)
        if width:
            current._columns.append((table.column("distinct")[i].as_py(),
                                     table.column("codes")[i].as_py()))
    return sheets
