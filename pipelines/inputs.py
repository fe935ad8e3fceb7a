"""What a load's rows are a function of, and its digest: socfund's one change detector.

A load's rows are a function of the documents it parses (each by URL and SHA-256 of
the kept bytes), its parser version, the parse function and the pandera model, every
project module those two import (transitively: the import statements of each module,
read with `ast`, never by running it) and every data file those modules read at run
time (a module names them in its `DATA_FILES`, e.g. the seeds behind a vocabulary). A
change to any of them changes the digest, so the next build re-parses that load and no
other; `meta.loads (table_name, input_digest, …)` records the digest beside the rows.

The per-load skip (`pipelines.loading.load_entity`, the ФПГ per-contest step), the dbt
skip (`pipelines.warehouse.build_fingerprint`) and the fast path before Dagster
(`pipelines.unchanged`) all read their digests from here. Plain Python: importing this
module imports neither Dagster nor the parsers, so the fast path stays fast.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pipelines.paths import DBT_PROJECT_DIR, REPO_ROOT, dbt_input_files

if TYPE_CHECKING:
    from pipelines.registry import EntityDecl

# Every load's rows pass through `validate` of this module, whatever its schema imports.
VALIDATION_MODULE = "schemas.base"


class KeptDocument(Protocol):
    """A document of a fetch manifest, as far as a digest is concerned."""

    @property
    def url(self) -> str: ...

    @property
    def sha256(self) -> str: ...


@dataclass(frozen=True)
class LoadInputs:
    """Everything but the documents that a load's rows are a function of.

    `code` names the parser version, the parse function, the model and how a broken
    document is handled; `files` are the modules and data files behind them, relative
    to the project root where they lie under it.
    """

    table: str
    source: str
    document_kind: str
    code: str
    files: tuple[str, ...]

    def to_json(self) -> dict:
        return {**asdict(self), "files": list(self.files)}

    @classmethod
    def from_json(cls, value: dict) -> LoadInputs:
        return cls(value["table"], value["source"], value["document_kind"], value["code"],
                   tuple(value["files"]))


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes (the one place a detector reads a file)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def input_digest(inputs: LoadInputs, docs: Iterable[KeptDocument]) -> str:
    """The digest of a load's inputs: equal digests, equal rows."""
    h = hashlib.sha256(f"{inputs.table}\n{inputs.code}\n{files_digest(inputs.files)}\n".encode())
    for doc in docs:
        h.update(f"{doc.url}\t{doc.sha256}\n".encode())
    return h.hexdigest()


def dbt_digest() -> str:
    """The digest of every file of the dbt project that a build reads besides the store."""
    h = hashlib.sha256()
    for f in dbt_input_files():
        h.update(f"{f.relative_to(DBT_PROJECT_DIR).as_posix()}\t{file_digest(f)}\n".encode())
    return h.hexdigest()


def files_digest(names: Sequence[str]) -> str:
    """The digest of project files named as in `LoadInputs.files`."""
    h = hashlib.sha256()
    for name in names:
        h.update(f"{name}\t{file_digest(REPO_ROOT / name)}\n".encode())
    return h.hexdigest()


def load_inputs(decl: EntityDecl, parser_version: str) -> LoadInputs:
    """What a declared load reads besides its documents (see the module's docstring)."""
    parse, model = decl.parse, decl.entity.model
    code = "\n".join((
        f"parser_version={parser_version}",
        f"parse={_qualified_name(parse)}",
        f"model={_qualified_name(model)}",
        f"per_document_errors={decl.per_document_errors}",
    ))
    files = module_files([_module_name(parse), _module_name(model), VALIDATION_MODULE])
    return LoadInputs(decl.table, decl.entity.source, decl.document_kind, code,
                      tuple(project_name(f) for f in files))


def project_name(path: Path) -> str:
    """A file's name as `LoadInputs.files` keeps it: relative to the project root if inside."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(resolved)


def module_files(modules: Iterable[str], root: Path = REPO_ROOT) -> list[Path]:
    """The files of these modules, of every project module they import, and their data files.

    Project modules are those of the packages at `root` (a folder with `__init__.py`);
    importing `a.b.c` runs `a/__init__.py` and `a/b/__init__.py` too, so they count.
    The data files are each module's `DATA_FILES`, read from the imported module (the
    parsers import every one of them anyway), so their paths are exactly those read.
    """
    found = _transitive_modules(modules, root)
    files = [path for _, path in sorted(found.items())]
    data: set[Path] = set()
    for name, path in sorted(found.items()):
        data.update(_data_files(name, path))
    return files + sorted(data)


def _transitive_modules(modules: Iterable[str], root: Path) -> dict[str, Path]:
    packages = frozenset(p.parent.name for p in root.glob("*/__init__.py"))
    found: dict[str, Path] = {}
    pending = [m for name in modules for m in _with_packages(name)]
    while pending:
        name = pending.pop()
        if name in found or name.split(".")[0] not in packages:
            continue
        path = _module_path(name, root)
        if path is None:
            continue  # `from package import name` where the name is not a module
        found[name] = path
        stat = path.stat()
        pending.extend(_imported_names(path, name, stat.st_mtime_ns, stat.st_size))
    return found


def _with_packages(name: str) -> list[str]:
    """`a.b.c` → `a`, `a.b`, `a.b.c`: importing a module runs its packages' `__init__`."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _module_path(name: str, root: Path) -> Path | None:
    base = root.joinpath(*name.split("."))
    for candidate in (base.parent / f"{base.name}.py", base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@cache
def _imported_names(path: Path, module: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    """Every module name an import statement of this file may load (at any depth).

    Imports inside functions and `if` blocks count: they run when the parser runs.
    `from a import b` names both `a` and `a.b`; the walk keeps `a.b` only if it is a
    module. Cached by the file's modification time and size: a long-running process
    sees an edit.
    """
    tree = ast.parse(path.read_bytes(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.extend(_with_packages(alias.name))
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package, path)
            names.extend(_with_packages(base))
            names.extend(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return tuple(dict.fromkeys(names))


def _absolute(node: ast.ImportFrom, package: str, path: Path) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".") if package else []
    if node.level - 1 > len(parts) or (node.level - 1 == len(parts) and not node.module):
        raise ValueError(f"{path}:{node.lineno}: relative import beyond the top-level package")
    base = parts[:len(parts) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _data_files(name: str, path: Path) -> list[Path]:
    module = sys.modules.get(name) or importlib.import_module(name)
    loaded = Path(module.__file__ or "").resolve()
    if loaded != path.resolve():
        raise ValueError(f"module {name} was imported from {loaded}, not from {path}: "
                         f"its data files cannot be read")
    out = []
    for entry in getattr(module, "DATA_FILES", ()):
        data = Path(entry).resolve()
        if not data.is_file():
            raise FileNotFoundError(f"{name}: DATA_FILES names {data}, which is not a file")
        out.append(data)
    return out


def _module_name(obj: object) -> str:
    module = inspect.getmodule(obj)
    if module is None:
        raise ValueError(f"{obj!r}: no module defines it; a parser and a model must be "
                         f"defined in a project module")
    return module.__name__


def _qualified_name(obj: object) -> str:
    return f"{_module_name(obj)}.{getattr(obj, '__qualname__', repr(obj))}"
