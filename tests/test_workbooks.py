"""Reading spreadsheets in a capped child (scrapers.workbooks): what comes back is what
calamine reads in-process, cell for cell and type for type. The bombs are in test_faults."""

from __future__ import annotations

import io
import pickle
import zipfile
from datetime import date, datetime

import pytest
from python_calamine import CalamineWorkbook

from scrapers.workbooks import _CellsUnpickler, read_sheets
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


def test_the_childs_answer_builds_no_class_but_datetime_values():
    safe = pickle.dumps([("sheet", "s", 1, 1, [], [([date(2020, 1, 2)], b"")])])
    assert _CellsUnpickler(io.BytesIO(safe)).load()[0][5][0][0] == [date(2020, 1, 2)]
    with pytest.raises(pickle.UnpicklingError, match=r"sent a builtins\.eval"):
        _CellsUnpickler(io.BytesIO(pickle.dumps(eval))).load()
