"""Reading spreadsheets (scrapers.workbooks): what comes back is what python-calamine reads,
cell for cell and type for type, whichever way the workbook was read (an XLSX by calamine
to Arrow with its texts marked, or by python-calamine; an XLS in a capped child answering
in Arrow IPC). The bombs are in test_faults."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from datetime import date, datetime, time

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from scrapers import workbooks
from scrapers.workbooks import _READER, MAX_CELLS, WorkbookTooLarge, _read_in_child, read_sheets
from tests.conftest import REAL
from tests.test_treasury import _book  # a workbook of named sheets, by openpyxl


def _calamine(body: bytes) -> list[tuple[str, list[list[object]], list]]:
    """The independent view: calamine in this process, as the parsers used it before."""
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(body))
    out = []
    for name in workbook.sheet_names:
        sheet = workbook.get_sheet_by_name(name)
        out.append((name, sheet.to_python(skip_empty_area=False),
                    list(sheet.merged_cell_ranges or [])))
    return out


def _typed(rows: list[list[object]]) -> list[list[tuple[type, object]]]:
    return [[(type(cell), cell) for cell in row] for row in rows]


def test_values_equal_across_types_keep_their_own_type():
    # True == 1 == 1.0 in Python: the child's per-column encoding must not merge them.
    rows = [["флаг", "число"], [True, 1], [1, True], [1.0, 0], [False, False], [0, "0"],
            [None, "1"], ["", 1.5], [date(2020, 1, 1), datetime(2020, 1, 1, 12, 30)]]
    body = _book(("Лист1", rows))
    (sheet,) = read_sheets(body, "test.xlsx")
    ((_, expected, _),) = _calamine(body)
    assert _typed(sheet.rows) == _typed(expected)
    assert any(t is bool for row in _typed(sheet.rows) for t, _ in row)


def test_sheets_columns_and_head_agree_with_the_rows():
    body = _book(("Первый", [["a", "b", "c"], [1, None, "x"], ["a", 2.5, "x"]]),
                 ("Пустой", []), ("Третий", [[None, "только второй столбец"]]))
    sheets = read_sheets(body, "test.xlsx")
    expected = _calamine(body)
    assert [s.name for s in sheets] == [name for name, _, _ in expected]
    for sheet, (_, rows, _) in zip(sheets, expected, strict=True):
        assert _typed(sheet.rows) == _typed(rows)
        assert sheet.height == len(rows)
        assert _typed(sheet.head(2)) == _typed(rows[:2])
        for j in range(sheet.width):
            distinct, codes = sheet.column_codes(j)
            assert len(codes) == sheet.height
            assert len(set(map(repr, distinct))) == len(distinct)
            assert sheet.column(j) == [row[j] for row in rows]
    assert sheets[1].rows == [] and sheets[1].width == 0


@pytest.mark.parametrize("name", ["sonko_registry_smolensk_2012.xls",
                                  "sonko_registry_smolensk_2015.xls"])
def test_a_real_xls_with_merged_cells_reads_as_calamine_reads_it(name):
    body = (REAL / name).read_bytes()
    sheets = read_sheets(body, name)
    expected = _calamine(body)
    assert len(sheets) == len(expected)
    for sheet, (sheet_name, rows, merged) in zip(sheets, expected, strict=True):
        assert sheet.name == sheet_name
        assert _typed(sheet.rows) == _typed(rows)
        assert sheet.merged == merged
    assert any(s.merged for s in sheets)


def test_an_unreadable_sheet_is_named_when_its_cells_are_asked_for():
    body = _book(("Первый", [[1, 2]]), ("Второй", [[3]]))
    # The second sheet points into a shared-strings table that does not exist.
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(body)) as src, zipfile.ZipFile(broken, "w") as dst:
        for member in src.infolist():
            data = src.read(member.filename)
            if member.filename == "xl/worksheets/sheet2.xml":
                data = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                        b'2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>99</v></c>'
                        b"</row></sheetData></worksheet>")
            dst.writestr(member, data)
    first, second = read_sheets(broken.getvalue(), "https://example.test/two.xlsx")
    assert first.rows == [[1.0, 2.0]]
    with pytest.raises(ValueError, match=r"^https://example\.test/two\.xlsx: sheet 'Второй' "
                                         r"is not readable: .*shared strings"):
        second.rows  # noqa: B018 - the property read is the test


def test_bytes_that_are_not_a_workbook_are_refused_naming_the_file():
    with pytest.raises(ValueError, match=r"^https://example\.test/page\.xlsx: not a readable "
                                         r"XLSX file"):
        read_sheets(b"<html>404</html>", "https://example.test/page.xlsx", "XLSX")


def _only_marked(monkeypatch) -> None:
    """Fail the test if the workbook is handed to python-calamine instead."""
    def refused(*args, **kwargs):
        raise AssertionError("read by python-calamine, not by the marked reader")
    monkeypatch.setattr(workbooks, "_read_calamine", refused)


def test_texts_numbers_and_dates_read_once_as_text_come_back_as_calamine_gives_them(
        monkeypatch):
    # Texts that look like numbers, dates or the mark itself; numbers whole and not; dates;
    # an empty text; the first column empty (calamine starts at B).
    rows = [[None, "заголовок", "1234", 1234, 1234.5],
            [None, "2020-01-02 00:00:00", date(2020, 1, 2), date(1999, 12, 31), 0.25],
            [None, "\ue000начало", "", "1899-12-31 12:30:00", -0.0],
            [None, "true", "  пробелы  ", 12345678901234.0, "NA"],
            [None, None, None, None, 123456.123456],
            # Numbers with more digits than calamine's text form keeps, put back as written;
            # a moment and a time of day (day fractions of many digits).
            [None, 1 / 3, 1e-06, datetime(2020, 1, 2, 3, 4, 5), time(12, 30)]]
    body = _book(("Лист1", rows))
    _only_marked(monkeypatch)
    (sheet,) = read_sheets(body, "test.xlsx")
    ((_, expected, merged),) = _calamine(body)
    assert _typed(sheet.rows) == _typed(expected)
    assert sheet.merged == merged


def test_a_workbook_the_marking_does_not_cover_is_read_by_python_calamine(monkeypatch):
    # A boolean; an error value.
    for cell in (True, "#N/A"):
        body = _book(("Лист1", [["значение", cell]]))
        with monkeypatch.context() as m:
            _only_marked(m)
            with pytest.raises(AssertionError, match="python-calamine"):
                read_sheets(body, "test.xlsx")
        (sheet,) = read_sheets(body, "test.xlsx")
        assert _typed(sheet.rows) == _typed(_calamine(body)[0][1])


def test_merged_ranges_of_an_xlsx_are_calamines(monkeypatch):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet["A1"], sheet["B2"] = "x", "объединено"
    sheet.merge_cells("B2:C3")
    sheet.merge_cells("A5:A9")
    out = io.BytesIO()
    book.save(out)
    _only_marked(monkeypatch)
    (read,) = read_sheets(out.getvalue(), "test.xlsx")
    ((_, rows, merged),) = _calamine(out.getvalue())
    assert read.merged == merged == [((4, 0), (8, 0)), ((1, 1), (2, 2))]
    assert _typed(read.rows) == _typed(rows)


def test_the_childs_answer_is_arrow_data_and_keeps_every_type_apart():
    # The child reads an XLSX as well as an XLS: True, 1 and 1.0 in one column stay apart.
    rows = [["флаг", 1.5], [True, 1], [1, True], [1.0, date(2020, 1, 2)],
            [datetime(2020, 1, 1, 12, 30), time(1, 2, 3)]]
    body = _book(("Лист1", rows))
    done = subprocess.run([sys.executable, "-I", "-c", _READER, str(MAX_CELLS)], input=body,
                          capture_output=True, check=True)
    table = pa.ipc.open_stream(done.stdout).read_all()  # an Arrow stream, nothing to unpickle
    assert table.column_names[:2] == ["kind", "sheet"]
    (sheet,) = _read_in_child(body, "test.xlsx", "XLSX")
    ((_, expected, _),) = _calamine(body)
    assert _typed(sheet.rows) == _typed(expected)


def test_a_workbook_whose_styles_part_is_cut_off_is_refused_naming_the_file():
    """A download cut inside `xl/styles.xml` (seen in the damaged-document property test):
    calamine cannot open the workbook at all; that is a reason naming the file, not a
    crash with calamine's own exception type."""
    from scrapers.samples import FIXTURES_DIR

    source = FIXTURES_DIR / "treasury.socfund.invalid/0503317/2015/stavropolskij-kraj.xlsx"
    damaged = io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(damaged, "w") as out:
        for member in original.infolist():
            data = original.read(member)
            out.writestr(member, data[:20] if member.filename == "xl/styles.xml" else data)
    with pytest.raises(ValueError, match=r"damaged\.xlsx: not a readable XLSX file"):
        read_sheets(damaged.getvalue(), "https://example.invalid/damaged.xlsx", "XLSX")


# --- a large sheet read in parts, side by side --------------------------------------------------

def _custom_sheet(rows_xml: str, tail: str = "") -> bytes:
    """A workbook (styles and all by openpyxl) whose one sheet is the given rows."""
    body = _book(("Лист1", [["x"]]))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(body)) as src, zipfile.ZipFile(out, "w") as dst:
        for member in src.infolist():
            data = src.read(member.filename)
            if member.filename == "xl/worksheets/sheet1.xml":
                data = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                        '2006/main"><dimension ref="A1:F60"/><sheetData>' + rows_xml
                        + "</sheetData>" + tail + "</worksheet>").encode()
            dst.writestr(member, data)
    return out.getvalue()


def _row(r: int, *cells: str) -> str:
    return f'<row r="{r}">' + "".join(cells) + "</row>"


def _text(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _number(ref: str, digits: str) -> str:
    return f'<c r="{ref}"><v>{digits}</v></c>'


def _read_in_parts(monkeypatch, body: bytes, parts: int = 2) -> dict[int, list]:
    """Read `body` cut into up to `parts` parts, at many piece sizes, each read checked
    against python-calamine; {row a part started at: the sheets of a read cut there}.

    (A piece so small that a cell's tag and its value fall in two pieces sends the read to
    python-calamine: only the reads by parts are recorded.)"""
    expected = _calamine(body)
    monkeypatch.setattr(workbooks, "_MIN_PART", 0)
    monkeypatch.setattr(workbooks, "_workers", lambda: parts)
    monkeypatch.setattr(workbooks, "_PARTS_PER_WORKER", 1)
    starts: list[list[int]] = []
    joined = workbooks._joined

    def recording(frames, rows):
        out = joined(frames, rows)
        starts.append(rows)
        return out

    monkeypatch.setattr(workbooks, "_joined", recording)
    cut_at: dict[int, list] = {}
    for chunk in range(64, len(body) * 4, 37):
        monkeypatch.setattr(workbooks, "_CHUNK", chunk)
        starts.clear()
        sheets = read_sheets(body, "test.xlsx")
        assert [(s.name, _typed(s.rows), s.merged) for s in sheets] == [
            (name, _typed(rows), merged) for name, rows, merged in expected]
        assert [s.height for s in sheets] == [len(rows) for _, rows, _ in expected]
        for rows in starts:
            for start in rows[1:]:
                cut_at[start] = sheets
    return cut_at


def test_a_part_may_begin_with_empty_and_styled_rows_and_another_column(monkeypatch):
    # Rows 21 and 22 hold no value (a styled empty cell, an empty row); the second part's
    # values begin further right (calamine starts each part at its own first column).
    rows = [_row(r, _text(f"B{r}", f"строка {r}"), _number(f"C{r}", str(r))) for r in range(1, 21)]
    rows += [_row(21, '<c r="A21" s="0"></c>', '<c r="B21" s="0"/>'), '<row r="22"/>']
    rows += [_row(r, _number(f"D{r}", str(r * 10)), _text(f"F{r}", "далее"))
             for r in range(23, 41)]
    cut_at = _read_in_parts(monkeypatch, _custom_sheet("".join(rows)))
    assert {20, 21} <= set(cut_at)  # a part beginning at row 21, and one at row 22


def test_a_merged_range_crossing_the_cut_and_a_number_put_back_in_the_second_part(
        monkeypatch):
    # A number with more digits than calamine's text form keeps, in the first and last rows.
    rows = [_row(r, _text(f"A{r}", "название"),
                 _number(f"B{r}", "1234.123456789123" if r in (5, 40) else f"{r}.5"))
            for r in range(1, 41)]
    body = _custom_sheet("".join(rows), '<mergeCells count="1"><mergeCell ref="A10:B30"/>'
                                        "</mergeCells>")
    cut_at = _read_in_parts(monkeypatch, body, parts=3)
    assert any(9 < start < 30 for start in cut_at)
    sheets = cut_at[max(cut_at)]
    assert sheets[0].merged == [((9, 0), (29, 1))]
    assert sheets[0].rows[39][1] == 1234.123456789123  # as written, in the last part


def test_rows_out_of_order_across_a_cut_are_read_by_python_calamine(monkeypatch):
    # Row 3 written again after row 30: calamine places it by its number, so the parts
    # cannot simply follow each other; the read falls back and the values stay calamine's.
    rows = [_row(r, _text(f"A{r}", f"т{r}"), _number(f"B{r}", str(r))) for r in range(1, 31)]
    rows.append(_row(3, _text("C3", "позже")))
    body = _custom_sheet("".join(rows))
    monkeypatch.setattr(workbooks, "_MIN_PART", 0)
    monkeypatch.setattr(workbooks, "_workers", lambda: 2)
    fell_back = 0
    read_calamine = workbooks._read_calamine

    def counting(*args):
        nonlocal fell_back
        fell_back += 1
        return read_calamine(*args)

    monkeypatch.setattr(workbooks, "_read_calamine", counting)
    ((_, expected, _),) = _calamine(body)
    for chunk in range(64, len(body) * 2, 41):
        monkeypatch.setattr(workbooks, "_CHUNK", chunk)
        (sheet,) = read_sheets(body, "test.xlsx")
        assert _typed(sheet.rows) == _typed(expected)
    assert fell_back


# --- the first look by polars' Rust expressions, the exact Python searches behind it ----------

# Pieces of sheet XML built from the fragments the searches turn on: well-formed cells and
# rows, and every way a tag can go astray (no `r`, lower case, a prefix, a bare `<is `...).
_FRAGMENTS = ['<c r="A1">', '<c r="AB12" s="1">', '<c r="B2"/>', '<c r="C3" t="inlineStr">',
              '<c>', '<c/>', '<c\n', '<c r="a1">', '<c r="A">', '<c r="1">', '<c r=""', '<c ',
              '<c r', '<c r=', '<c r="', '<c r="A1', '<c r="Z99"', '<col', '<row r="7">',
              '<row>', '<row/>', '<row r="x">', '<row r="">', '<row ', '<row r="12', '<rows',
              '<is>', '<is><t>', '<is><t xml:space="preserve">', '<is><r><t>', '<is ', '<is/>',
              '<si>', '<si ', '<x:c r="A1">', '<x:row>', 'a:is', ':v', '<v>12</v>',
              '<v>1.12345678</v>', '<v>1e5</v>', '<v>-0.5E-3</v>', '<v>abc</v>', '<v >1</v>',
              '<v>12.3</v>', '<v>ф</v>', 't="str"', "t='b'", 't="e"', 't="d"', 't="n"',
              '</t>', '</is>', '</c>', '</row>', 'текст', ' ', '"', '>', '<', '/', 'A', '9']


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=14),
       st.integers(0, 30), st.integers(0, 30))
def test_the_rust_first_look_misses_nothing_the_python_searches_find(fragments, rows, columns):
    piece = "".join(fragments).encode()
    look = workbooks._look(piece, rows, columns)
    assert look is not None
    if not look["attention"]:
        assert not workbooks._counted_here(piece)
        assert workbooks._ODD_TYPES.search(piece) is None
    if not look["far"]:
        assert workbooks._cells_to_look_at(rows, columns).search(piece) is None
    if not look["odd_string"]:
        assert piece.count(b"<is>") == piece.count(b"<is><t>")
    assert workbooks._values(piece, look) == workbooks._values(piece, None)


def test_a_piece_that_is_not_utf8_is_looked_at_by_python_alone():
    piece = b'<c r="A1"><v>1.123456789</v></c>\xff<c>'
    assert workbooks._look(piece, 1, 1) is None
    assert workbooks._values(piece, None) == [(10, b"1.123456789")]


def test_inline_strings_marked_inside_their_first_run_read_as_calamine_reads_them(
        monkeypatch):
    # Spaces at the end, entities, a line break, CDATA, two runs; then (read with a run of
    # their own) a rich text, a run kept with its spaces, white space, a reference or CDATA
    # first, an empty run.
    texts = ["с пробелами  ", "a &amp; b &lt;c&gt;", "пробел&#32;", "две\nстроки",
             "\ue000уже с меткой", "1234", "2020-01-02 00:00:00"]
    cells = [_text(f"A{r}", t) for r, t in enumerate(texts, start=1)]
    cells += ['<c r="A10" t="inlineStr"><is><t>данные<![CDATA[ <в CDATA> ]]></t></is></c>',
              '<c r="A11" t="inlineStr"><is><t>начало</t><t>конец</t></is></c>']
    plain = "".join(_row(r, cell) for r, cell in enumerate(cells, start=1))
    rich = (_row(12, '<c r="A12" t="inlineStr"><is><r><t>жирный</t></r><r><t> и нет</t></r>'
                     '</is></c>')
            + _row(13, '<c r="A13" t="inlineStr"><is><t xml:space="preserve"> сохранён </t>'
                       '</is></c>')
            + "".join(_row(r, _text(f"A{r}", t)) for r, t in
                      ((14, "  с пробелами  "), (15, "\tтаб"), (16, "\nстрока"), (17, "   "),
                       (18, "&#32;пробел"), (19, "&#x9;таб"), (20, ""),
                       (21, "<![CDATA[ в CDATA]]>"))))
    _only_marked(monkeypatch)
    inner: list[bool] = []
    marked = workbooks._marked
    monkeypatch.setattr(workbooks, "_marked",
                        lambda xml, flag=False: inner.append(flag) or marked(xml, flag))
    # Every inline string begins with a plain `<t>`: marked inside it; a rich text among
    # them: the piece's texts get a run of their own.
    for rows, inside in ((plain, True), (plain + rich, False)):
        body = _custom_sheet(rows)
        inner.clear()
        (sheet,) = read_sheets(body, "test.xlsx")
        ((_, expected, _),) = _calamine(body)
        assert _typed(sheet.rows) == _typed(expected)
        assert inner and set(inner) == {inside}


def test_shared_strings_marked_inside_or_by_a_run_read_as_calamine_reads_them(monkeypatch):
    # Plain texts take the mark inside their `<t>`; one beginning with a space (calamine trims
    # it), a reference or a run kept with its spaces sends every text to a run of its own.
    plain = ["первый", "второй  ", "a &amp; b"]
    for extra in ([], [" пробел"], ["&#32;пробел"], ['<t xml:space="preserve"> с</t>']):
        strings = plain + extra
        items = "".join(s if s.startswith("<t") else f"<t>{s}</t>" for s in strings)
        shared = ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                  + "".join(f"<si>{s}</si>" for s in re.findall(r"<t.*?</t>", items))
                  + "</sst>").encode()
        rows = "".join(_row(r, f'<c r="A{r}" t="s"><v>{r - 1}</v></c>')
                       for r in range(1, len(strings) + 1))
        body = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(_custom_sheet(rows))) as src, \
                zipfile.ZipFile(body, "w") as dst:
            for member in src.infolist():
                dst.writestr(member, src.read(member.filename))
            dst.writestr("xl/sharedStrings.xml", shared)
        with monkeypatch.context() as m:
            _only_marked(m)
            (sheet,) = read_sheets(body.getvalue(), "test.xlsx")
        ((_, expected, _),) = _calamine(body.getvalue())
        assert _typed(sheet.rows) == _typed(expected)
        assert len(expected) == len(strings)


def test_the_parts_after_a_sheets_first_are_read_while_the_sheet_is_still_checked(monkeypatch):
    rows = [_row(r, _text(f"A{r}", f"т{r}"), _number(f"B{r}", f"{r}.25")) for r in range(1, 61)]
    body = _custom_sheet("".join(rows))
    monkeypatch.setattr(workbooks, "_MIN_PART", 0)
    monkeypatch.setattr(workbooks, "_workers", lambda: 2)
    monkeypatch.setattr(workbooks, "_PARTS_PER_WORKER", 2)
    monkeypatch.setattr(workbooks, "_CHUNK", 200)
    early: list[int] = []
    read_early = workbooks._Marked._read_early

    def recording(self, index, part):
        read_early(self, index, part)
        early.extend(i for i in self.early if i not in early)

    monkeypatch.setattr(workbooks._Marked, "_read_early", recording)
    _only_marked(monkeypatch)
    (sheet,) = read_sheets(body, "test.xlsx")
    ((_, expected, _),) = _calamine(body)
    assert _typed(sheet.rows) == _typed(expected)
    # Four parts (two per processor): the second and third handed over before the end.
    assert early == [1, 2]


def test_no_part_holding_a_cell_not_yet_checked_is_read_early(monkeypatch):
    """A far cell at the end of a row lies, in some cuttings, in the piece whose first row
    ends a part: that part is handed to calamine only once the piece is checked, so the
    workbook is refused and calamine never sees the cell (it would lay out 17 billion)."""
    rows = [_row(r, _text(f"A{r}", f"т{r}"), _number(f"B{r}", f"{r}.25")) for r in range(1, 61)]
    rows[29] = rows[29].replace("</row>", '<c r="XFD1048576"><v>1</v></c></row>')
    body = _custom_sheet("".join(rows))
    monkeypatch.setattr(workbooks, "_MIN_PART", 0)
    monkeypatch.setattr(workbooks, "_workers", lambda: 2)
    monkeypatch.setattr(workbooks, "_PARTS_PER_WORKER", 4)
    handed: list[bytes] = []
    monkeypatch.setattr(workbooks, "_read_book",
                        lambda book, names: handed.append(book) or [])
    _only_marked(monkeypatch)
    for chunk in range(64, len(body), 23):
        monkeypatch.setattr(workbooks, "_CHUNK", chunk)
        with pytest.raises(WorkbookTooLarge, match=r"test\.xlsx"):
            read_sheets(body, "test.xlsx")
    assert handed, "no part was read early: the test cuts nothing"
    for book in handed:
        with zipfile.ZipFile(io.BytesIO(book)) as archive:
            assert all(b"XFD1048576" not in archive.read(m) for m in archive.namelist())


def test_column_texts_are_the_text_values_of_column_codes(monkeypatch):
    # A marked read (a number put back as written among them) and python-calamine's read.
    rows = [["текст", 1.5, "1234", None], ["", 1 / 3, date(2020, 1, 2), "x"],
            [" пробел", 2.0, "", True]]
    for body, marked in ((_book(("Лист1", rows[:2])), True), (_book(("Лист1", rows)), False)):
        with monkeypatch.context() as m:
            if marked:
                _only_marked(m)
            (sheet,) = read_sheets(body, "test.xlsx")
        for j in range(sheet.width):
            distinct, _ = sheet.column_codes(j)
            assert sheet.column_texts(j).to_list() == [
                v if type(v) is str else None for v in distinct]
