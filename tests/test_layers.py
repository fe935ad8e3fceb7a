"""Imports run one way, pipelines -> scrapers -> schemas, and data files are declared.

`lint-imports` holds the contracts of pyproject.toml; the AST walk below says the same
thing without it, so a plain `pytest` run checks the layers too. A module of `schemas/`
or `scrapers/` that reads a file at run time names the files in `DATA_FILES`, which the
change detector adds to the input digest of every load whose parser imports it.
"""

from __future__ import annotations

import ast
import importlib
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
OURS = ("pipelines", "scrapers", "schemas")
# A layer may import only the layers after it.
BELOW = {"pipelines": ("scrapers", "schemas"), "scrapers": ("schemas",), "schemas": ()}
# Calls that read a file: `open(...)`, `path.open(...)`, `path.read_text()`, `read_bytes()`.
_READS = frozenset({"open", "read_text", "read_bytes"})


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_files(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def imported_modules(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module `source` imports, relative imports resolved, `import_module("x")` too."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            if name:
                found.add(name)
            found.update(".".join(filter(None, (name, alias.name))) for alias in node.names)
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and (getattr(node.func, "attr", None) or getattr(node.func, "id", None))
              in ("import_module", "__import__")):
            found.add(node.args[0].value)
    return found


def upward_imports(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """The imports of `source` that reach a layer of ours above or beside `module`'s."""
    layer = module.split(".")[0]
    allowed = (layer, *BELOW[layer])
    return sorted(name for name in imported_modules(source, module, is_package=is_package)
                  if name.split(".")[0] in OURS and name.split(".")[0] not in allowed)


def reads_files(source: str) -> bool:
    """The module calls `open`, `.open`, `.read_text` or `.read_bytes` somewhere."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name in _READS:
                return True
    return False


@pytest.mark.parametrize("package", ["schemas", "scrapers"])
def test_no_module_imports_a_layer_above_it(package):
    offending = {}
    for path in _package_files(package):
        module = _module_name(path)
        found = upward_imports(path.read_text(encoding="utf-8"), module,
                               is_package=path.name == "__init__.py")
        if found:
            offending[module] = found
    assert offending == {}


def test_the_ast_walk_sees_every_form_of_an_upward_import():
    source = (
        "import pipelines.loading\n"
        "from scrapers.values import parse_money\n"
        "from scrapers import treasury\n"
        "from .. import scrapers\n"
        "import importlib\n"
        "importlib.import_module('pipelines.registry')\n"
        "from schemas.base import Entity\n"
        "from . import identifiers\n"
    )
    assert upward_imports(source, "schemas.vocabularies.budgets") == [
        "pipelines.loading", "pipelines.registry",
        "scrapers", "scrapers.treasury", "scrapers.values", "scrapers.values.parse_money",
    ]
    assert upward_imports("from schemas.money import MAX_MONEY\n", "scrapers.values") == []
    assert upward_imports("from pipelines import registry\n", "scrapers.fpg") == [
        "pipelines", "pipelines.registry",
    ]


def _contracts() -> list[dict]:
    with (REPO / "pyproject.toml").open("rb") as fh:
        config = tomllib.load(fh)["tool"]["importlinter"]
    assert sorted(config["root_packages"]) == sorted(OURS)
    return config["contracts"]


def test_the_contracts_say_pipelines_scrapers_schemas():
    contracts = _contracts()
    (layers,) = [c for c in contracts if c["type"] == "layers"]
    assert layers["layers"] == ["pipelines", "scrapers", "schemas"]
    forbidden = {(tuple(c["source_modules"]), tuple(sorted(c["forbidden_modules"])))
                 for c in contracts if c["type"] == "forbidden"}
    assert forbidden == {(("scrapers", "schemas"), ("pipelines",)),
                         (("schemas",), ("pipelines", "scrapers"))}


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", "pyproject.toml"],
                          cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def test_lint_imports_keeps_every_contract():
    result = _lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    for contract in _contracts():
        assert f"{contract['name']} KEPT" in result.stdout


def test_lint_imports_breaks_on_an_upward_import(tmp_path):
    """The contracts bite: a copy of the code with one upward import per layer fails them."""
    for package in OURS:
        for path in _package_files(package):
            target = tmp_path / path.relative_to(REPO)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    shutil.copyfile(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / "schemas" / "money.py").open("a", encoding="utf-8") as fh:
        fh.write("\nimport scrapers.values  # noqa\n")
    with (tmp_path / "scrapers" / "files.py").open("a", encoding="utf-8") as fh:
        fh.write("\nimport pipelines.paths  # noqa\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    for contract in _contracts():
        assert f"{contract['name']} BROKEN" in result.stdout, result.stdout


@pytest.mark.parametrize("package", ["schemas", "scrapers"])
def test_a_module_reading_files_declares_them(package):
    for path in _package_files(package):
        if not reads_files(path.read_text(encoding="utf-8")):
            continue
        module = importlib.import_module(_module_name(path))
        data_files = getattr(module, "DATA_FILES", None)
        assert isinstance(data_files, tuple), f"{module.__name__} reads files: no DATA_FILES"
        assert all(isinstance(p, Path) and p.is_file() for p in data_files), module.__name__


def test_the_indicator_vocabulary_declares_the_seeds_it_reads():
    from schemas.vocabularies import SEEDS_DIR, indicators

    assert indicators.DATA_FILES == (SEEDS_DIR / "indicators.csv",
                                     SEEDS_DIR / "indicator_nouns.csv")


def test_a_vocabulary_brings_in_no_other_vocabulary():
    """A parser depends on the seeds of the vocabularies it imports, not on every seed."""
    code = ("import sys, schemas.vocabularies.budgets, schemas.vocabularies.funding, "
            "schemas.vocabularies.legal_forms, schemas.vocabularies.statuses; "
            "print('schemas.vocabularies.indicators' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=120, check=True)
    assert result.stdout.strip() == "False"
