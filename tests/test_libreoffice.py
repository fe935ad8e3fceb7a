"""A journalist's check: the exported XLSX and CSV opened by LibreOffice Calc (headless).

LibreOffice converts the files and the test reads back what Calc made of them: Cyrillic
intact, the ИНН with its leading zero (XLSX), and no cell turned into a formula (both).
Needs `soffice` (Debian package `libreoffice-calc`); under CI=true a missing soffice fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pytest

from pipelines.publish.release import export_release
from tests.test_exports import INJECTED, TEST_INN, add_test_rows, cell_text, manifest_path

# Calc's CSV import options: comma, double quote, UTF-8 (76), from line 1.
CSV_FILTER = "CSV:44,34,76,1"


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    message = ("soffice not found: install LibreOffice Calc "
               "(apt-get install -y --no-install-recommends libreoffice-calc)")
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def convert(source: Path, outdir: Path, profile: Path, *, infilter: str | None = None) -> Path:
    """Open `source` in Calc and save it as XLSX in `outdir`, with a profile of our own."""
    command = [soffice(), "--headless", "--norestore", "--nolockcheck",
               f"-env:UserInstallation={profile.as_uri()}"]
    if infilter:
        command.append(f"--infilter={infilter}")
    command += ["--convert-to", "xlsx", "--outdir", str(outdir), str(source)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    result = outdir / (source.stem + ".xlsx")
    assert run.returncode == 0 and result.is_file(), run.stdout + run.stderr
    return result


def formula_cells(book: openpyxl.Workbook) -> list[str]:
    return [f"{ws.title}!{cell.coordinate}" for ws in book.worksheets
            for row in ws.iter_rows() for cell in row if cell.data_type == "f"]


def column(sheet, name: str) -> list:
    header = [c.value for c in sheet[1]]
    i = header.index(name)
    return [row[i] for row in sheet.iter_rows(min_row=2)]


@pytest.fixture(scope="module")
def release(tmp_path_factory, fixture_build) -> Path:
    soffice()
    copy = tmp_path_factory.mktemp("copy") / "socfund.duckdb"
    shutil.copyfile(fixture_build / "socfund.duckdb", copy)
    add_test_rows(copy)
    return export_release(copy, tmp_path_factory.mktemp("exports"),
                          release_date=date(2026, 1, 15), manifest_path=manifest_path())


@pytest.fixture(scope="module")
def profile(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("lo-profile")


@pytest.fixture(scope="module")
def cyrillic_names(release) -> set[str]:
    con = duckdb.connect(str(release / "socfund.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT name FROM main.dim_organisation "
                           "WHERE regexp_matches(name, '[А-Яа-яЁё]') "
                           "AND NOT organisation_key LIKE 'test:%'").fetchall()
    finally:
        con.close()
    assert rows
    return {r[0] for r in rows}


def test_calc_keeps_the_xlsx_text_zeros_and_makes_no_formula(release, profile, tmp_path,
                                                             cyrillic_names):
    saved = convert(release / "xlsx/dim_organisation.xlsx", tmp_path, profile)
    book = openpyxl.load_workbook(saved)
    assert formula_cells(book) == []
    sheet = book["dim_organisation"]
    names = {cell_text(c.value) for c in column(sheet, "name")}
    assert cyrillic_names <= names
    for name in INJECTED.values():
        assert "'" + name in names
    inns = [c for c in column(sheet, "inn") if c.value is not None]
    assert TEST_INN in {c.value for c in inns}
    assert all(isinstance(c.value, str) for c in inns)
    assert any(c.value.startswith("0") for c in inns if c.value != TEST_INN)
    mentions = [c.value for c in column(sheet, "mentions")]
    assert -3 in mentions, "negative numbers are still numbers"


def test_calc_reads_the_csv_without_formulas(release, profile, tmp_path, cyrillic_names):
    saved = convert(release / "csv/dim_organisation.csv", tmp_path, profile,
                    infilter=CSV_FILTER)
    book = openpyxl.load_workbook(saved)
    assert formula_cells(book) == []
    sheet = book.worksheets[0]
    names = {cell_text(c.value) for c in column(sheet, "name")}
    assert cyrillic_names <= names
    assert "'" + INJECTED["test:eq"] in names
    assert -3 in {c.value for c in column(sheet, "mentions")}


def test_calc_would_run_an_unneutralised_formula(profile, tmp_path):
    """The control: the same conversion does turn `=…` into a formula, so the checks above
    would see one."""
    control = tmp_path / "control.csv"
    control.write_bytes("\ufeffname,note\r\n=1+1,Москва\r\n".encode())
    book = openpyxl.load_workbook(convert(control, tmp_path / "out", profile,
                                          infilter=CSV_FILTER))
    assert formula_cells(book) == [f"{book.worksheets[0].title}!A2"]
