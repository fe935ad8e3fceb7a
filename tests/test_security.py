"""Security points: XML entities, SQL built from values, what `socfund serve` binds.

- XML: no source is parsed by an XML parser. HTML goes through lxml's HTML parser (fpg)
  or BeautifulSoup over lxml; spreadsheets through calamine. None of them expands an
  entity declared in the document or reads a file or URL it names.
- SQL: values go in as parameters; identifiers come from fixed lists or the warehouse's
  own catalogue and are quoted by a helper. A tripwire test fails on new SQL that puts an
  interpolated value where a value belongs.
- `socfund serve` binds 127.0.0.1 unless told otherwise (its handler's confinement to its
  folder is tested in test_site.py).
"""

from __future__ import annotations

import ast
import re
import subprocess
import time
import warnings
from pathlib import Path

import duckdb
import pytest
from bs4 import XMLParsedAsHTMLWarning

from pipelines import cli
from pipelines import serve as serve_module
from pipelines.paths import WarehousePaths
from pipelines.publish.changes import table_changes
from pipelines.publish.tables import Column, Table, write_csv, write_parquet
from pipelines.summary import print_summary
from scrapers import fpg, municipal, practice, programme_card
from tests.test_faults import SHEET, _deflated, _sheet_xml, _xlsx

REPO = Path(__file__).resolve().parent.parent

# --- XML -----------------------------------------------------------------------------------------

_XML_CALLS = {"fromstring", "XML", "parse", "iterparse", "XMLID", "XMLPullParser"}
_XML_MODULES = {"etree", "ET", "ElementTree", "cElementTree", "objectify"}


def _python_files(*folders: str) -> list[Path]:
    return [p for folder in folders for p in sorted((REPO / folder).rglob("*.py"))]


def _keyword(call: ast.Call, name: str) -> object:
    for kw in call.keywords:
        if kw.arg == name and isinstance(kw.value, ast.Constant):
            return kw.value.value
    return None


def xml_parsing_findings(path: Path) -> list[str]:
    """Where code under `path` could parse XML with entities or the network on."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        where = f"{path.relative_to(REPO)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            if any(n == "xml" or n.startswith("xml.") for n in names):
                found.append(f"{where}: the standard library's XML parsers")
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        if name == "XMLParser" and not (_keyword(node, "resolve_entities") is False
                                        and _keyword(node, "no_network") is True):
            found.append(f"{where}: XMLParser without resolve_entities=False, no_network=True")
        module = getattr(getattr(node.func, "value", None), "id", "")
        if name in _XML_CALLS and module in _XML_MODULES and len(node.args) < 2 and not any(
                kw.arg == "parser" for kw in node.keywords):
            found.append(f"{where}: {name}() with lxml's default XML parser")
        if name == "BeautifulSoup" and any(
                isinstance(a, ast.Constant) and a.value in ("xml", "lxml-xml")
                for a in node.args[1:]):
            found.append(f"{where}: BeautifulSoup with the XML parser")
    return found


def test_no_source_is_parsed_with_entities_or_the_network_on():
    findings = [f for p in _python_files("scrapers", "pipelines", "schemas")
                for f in xml_parsing_findings(p)]
    assert findings == []


def test_the_xml_tripwire_sees_an_unsafe_parser(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    unsafe = tmp_path / "unsafe.py"
    unsafe.write_text(
        "import xml.etree.ElementTree as ET\nfrom lxml import etree\n"
        "etree.fromstring(b'<a/>')\netree.XMLParser(resolve_entities=True)\n"
        "etree.fromstring(b'<a/>', etree.XMLParser(resolve_entities=False, no_network=True))\n",
        encoding="utf-8")
    assert [f.split(": ", 1)[1] for f in xml_parsing_findings(unsafe)] == [
        "the standard library's XML parsers",
        "fromstring() with lxml's default XML parser",
        "XMLParser without resolve_entities=False, no_network=True",
    ]


def _entity_page(secret: Path) -> bytes:
    laughs = "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(2, 10))
    return (
        '<?xml version="1.0"?><!DOCTYPE html [<!ENTITY lol1 "lol">' + laughs
        + f'<!ENTITY xxe SYSTEM "file://{secret}">]>'
        '<html><head><meta charset="utf-8"><title>&lol9;</title></head><body><main>'
        '<h2 class="winner-info__title">&lol9; &xxe;</h2>'
        "<article><h1>&lol9;</h1><p>&xxe; Более 700 человек &lol9;</p><p>Цель: &lol9;</p>"
        "</article>"
        "<table><tr><th>Наименование организации</th><th>Название проекта</th>"
        "<th>Сумма гранта, руб.</th></tr><tr><td>&lol9;&xxe;</td><td>Двор</td><td>1</td></tr>"
        "</table></main></body></html>"
    ).encode()


@pytest.mark.parametrize("parse", [fpg.parse_card, municipal.parse_winners, practice.parse_page,
                                   programme_card.parse_card])
def test_html_parsers_expand_no_entity_and_read_no_file(tmp_path, parse):
    secret = tmp_path / "secret.txt"
    secret.write_text("socfund-secret-marker", encoding="utf-8")
    page = _entity_page(secret)
    if parse is not fpg.parse_card:  # the others refuse a ФПГ card's markup as its kind's
        page = page.replace(b' class="winner-info__title"', b"")
    started = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        records = parse(page, url="https://example.test/page")
    text = repr(records)
    assert "lol9" in text  # the page was read, its entity reference left as written
    assert "socfund-secret-marker" not in text
    assert "lollollol" not in text  # a billion laughs expanded would be gigabytes of them
    assert time.monotonic() - started < 10


def test_spreadsheet_declaring_entities_is_refused_naming_the_url():
    laughs = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(2, 10))
    sheet = _sheet_xml('<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>')
    sheet = sheet.replace(b"<worksheet", (
        '<!DOCTYPE worksheet [<!ENTITY lol1 "lol">' + laughs
        + '<!ENTITY xxe SYSTEM "file:///etc/passwd">]><worksheet').encode(), 1)
    url = "https://example.test/entities.xlsx"
    with pytest.raises(ValueError, match=rf"^{re.escape(url)}: sheet .*entity"):
        fpg.parse_xlsx(_xlsx(_deflated(SHEET, sheet)), url=url)


# --- SQL ----------------------------------------------------------------------------------------

_SQL_CALLS = {"execute", "executemany", "sql", "query"}
_SQL_START = re.compile(
    r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|COPY|ATTACH|DESCRIBE|WITH|ALTER|PRAGMA)\b",
    re.IGNORECASE)
# Text just before an interpolation that puts it where a value goes: inside quotes written
# by hand, after a comparison, or after a keyword that takes a value.
_VALUE_SLOT = re.compile(
    r"""(['"]|[=<>]|\b(?:LIKE|ILIKE|LIMIT|OFFSET|IN|VALUES|BETWEEN)\s*\(?)\s*$""",
    re.IGNORECASE)
# Findings accepted for now, each with its reason (none at present).
KNOWN_SQL_FINDINGS: set[tuple[str, str]] = set()


def sql_findings(path: Path) -> list[tuple[str, int, str]]:
    """(file, line, SQL) where SQL is built from a value rather than given it as a parameter.

    Looked at: every f-string that starts like SQL or is passed to execute/sql/query (an
    interpolation in a value's place is a finding), and `.format()`, `%` or `+` building the
    SQL passed to those calls. SQL fragments built elsewhere and interpolated whole
    (`FROM {relation}`) are identifier work, left to the helpers that quote them.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = str(path.relative_to(REPO))
    found: list[tuple[str, int, str]] = []
    sql_args: set[int] = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in _SQL_CALLS and node.args):
            arg = node.args[0]
            sql_args.add(id(arg))
            built = (isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Mod | ast.Add)) or (
                isinstance(arg, ast.Call) and getattr(arg.func, "attr", "") == "format")
            if built:
                found.append((rel, node.lineno, ast.unparse(arg)))
    for node in ast.walk(tree):
        if not isinstance(node, ast.JoinedStr) or not node.values:
            continue
        first = node.values[0]
        starts_like_sql = isinstance(first, ast.Constant) and _SQL_START.match(first.value)
        if id(node) not in sql_args and not starts_like_sql:
            continue
        before = ""
        for part in node.values:
            if isinstance(part, ast.Constant):
                before += part.value
            elif _VALUE_SLOT.search(before):
                found.append((rel, node.lineno, ast.unparse(node)))
                break
            else:
                before = ""
    return found


def test_no_sql_puts_an_interpolated_value_where_a_value_belongs():
    findings = [f for p in _python_files("pipelines", "scrapers", "schemas")
                for f in sql_findings(p)]
    new = [f"{path}:{line}: {text}" for path, line, text in findings
           if (path, text) not in KNOWN_SQL_FINDINGS]
    assert new == []


def test_the_sql_tripwire_sees_values_and_passes_identifiers(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    code = tmp_path / "queries.py"
    code.write_text(
        "con.execute(f\"SELECT * FROM t WHERE name = '{name}'\")\n"   # a value, hand-quoted
        "con.execute(f'SELECT * FROM t WHERE id = {ident}')\n"       # a value after =
        "sql = f'SELECT * FROM t LIMIT {n}'\n"                       # SQL, used later
        "con.execute('SELECT * FROM t WHERE a = %s' % a)\n"          # % formatting
        "con.execute('SELECT {}'.format(a))\n"                       # .format
        "con.execute(f'SELECT count(*) FROM {relation} WHERE a = ?', [a])\n"  # identifiers
        "con.execute(f'COPY ({sql}) TO ? (FORMAT csv)', [path])\n"
        "con.execute(f'SELECT {_ident(c)} FROM {ident(s)}.{ident(t)}')\n",
        encoding="utf-8")
    assert sorted(line for _, line, _ in sql_findings(code)) == [1, 2, 3, 4, 5]


def test_export_paths_are_parameters_so_any_folder_name_works(tmp_path):
    folder = tmp_path / "it's $HOME; DROP TABLE t; --"
    folder.mkdir()
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES (1, 'a'), (2, 'b')) v(id, name)")
    write_csv(con, "SELECT * FROM t", folder / "t.csv")
    assert (folder / "t.csv").read_text(encoding="utf-8-sig").splitlines() == [
        "id,name", "1,a", "2,b"]
    previous = folder / "2025-01-01"
    write_parquet(con, "t", previous / "parquet" / "t.parquet")
    con.execute("UPDATE t SET name = 'c' WHERE id = 2")
    table = Table(name="t", relation="t", description="", rows=2, row_key=("id",),
                  columns=(Column("id", "INTEGER"), Column("name", "VARCHAR")))
    changes = table_changes(con, table, previous)
    assert (changes.added, changes.changed, changes.removed) == (0, 1, 0)
    assert con.execute("SELECT count(*) FROM t").fetchone() == (2,)


def test_the_printed_example_query_runs_whatever_the_warehouse_path(tmp_path, capsys):
    root = tmp_path / "it's $(echo oops) `x` \"q\""
    root.mkdir()
    paths = WarehousePaths(root)
    con = duckdb.connect(str(paths.published_db))
    con.execute("CREATE TABLE mart_region_year AS SELECT 'Пермский край' AS region_name, "
                "2023 AS year, 3 AS grants, 150000.00 AS amount_awarded")
    con.close()
    print_summary(paths)
    command = capsys.readouterr().out.split("Try:\n", 1)[1].strip()
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "Пермский край" in done.stdout and "oops" not in done.stdout


# --- socfund serve -------------------------------------------------------------------------------


def test_socfund_serve_binds_loopback_unless_told_otherwise(tmp_path, monkeypatch):
    bound: list[tuple[str, int]] = []
    monkeypatch.setattr(serve_module, "serve",
                        lambda root, host, port: bound.append((host, port)))
    assert cli.main(["serve", "--warehouse", str(tmp_path)]) == 0
    assert cli.main(["serve", "--warehouse", str(tmp_path), "--host", "0.0.0.0",
                     "--port", "8080"]) == 0
    assert bound == [("127.0.0.1", 8000), ("0.0.0.0", 8080)]
