"""What the dbt manifest says about each relation: descriptions, tests and lineage."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

_REF = re.compile(r"""ref\(\s*['"]([^'"]+)['"]\s*\)""")


@dataclass
class ModelDoc:
    """What the dbt manifest says about one relation: descriptions, tests, lineage."""

    unique_id: str
    name: str
    schema: str
    description: str = ""
    path: str = ""
    columns: dict[str, dict] = field(default_factory=dict)
    not_null: set[str] = field(default_factory=set)
    unique: set[str] = field(default_factory=set)
    accepted_values: dict[str, list] = field(default_factory=dict)
    relationships: list[tuple[str, str, str]] = field(default_factory=list)
    combinations: list[tuple[str, ...]] = field(default_factory=list)
    release_keys: list[tuple[str, ...]] = field(default_factory=list)  # see `release_key`
    upstream: tuple[str, ...] = ()

    @property
    def release_key(self) -> tuple[str, ...]:
        """The columns of the unique test marked `meta: {release_key: true}`: how a row is
        matched across releases; () when none or more than one is marked."""
        return self.release_keys[0] if len(self.release_keys) == 1 else ()


@dataclass
class DbtDocs:
    models: dict[str, ModelDoc]  # keyed by "<schema>.<relation name>"
    by_id: dict[str, ModelDoc]
    parents: dict[str, list[str]]
    names: dict[str, str]  # dbt name (as `ref()` uses it) -> unique id

    def get(self, schema: str, name: str) -> ModelDoc | None:
        return self.models.get(f"{schema}.{name}")


def read_dbt_docs(manifest_path: Path) -> DbtDocs:
    """Descriptions, tests (unique, not_null, accepted_values, relationships, unique
    combinations; error severity, no `where`) and lineage from a parsed dbt manifest."""
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    by_id: dict[str, ModelDoc] = {}
    names: dict[str, str] = {}
    for uid, node in [*manifest.get("nodes", {}).items(), *manifest.get("sources", {}).items()]:
        kind = node.get("resource_type")
        if kind not in ("model", "seed", "snapshot", "source"):
            continue
        relation = node.get("identifier") if kind == "source" else node.get("alias")
        doc = ModelDoc(
            unique_id=uid, name=relation or node["name"], schema=node.get("schema", ""),
            description=_clean(node.get("description")),
            path=node.get("original_file_path", ""),
            columns={name: {"description": _clean(col.get("description")),
                            "meta": col.get("meta") or {}}
                     for name, col in (node.get("columns") or {}).items()},
        )
        by_id[uid] = doc
        if kind != "source":
            names[node["name"]] = uid
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") == "test":
            _attach_test(node, by_id, names)
    parents = manifest.get("parent_map", {})
    for uid, doc in by_id.items():
        doc.upstream = tuple(sorted(_upstream(uid, parents, by_id)))
    models = {f"{d.schema}.{d.name}": d for d in by_id.values()}
    return DbtDocs(models=models, by_id=by_id, parents=parents, names=names)


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _attach_test(node: dict, by_id: dict[str, ModelDoc], names: dict[str, str]) -> None:
    meta = node.get("test_metadata") or {}
    doc = by_id.get(node.get("attached_node") or "")
    config = node.get("config") or {}
    if doc is None or not meta:
        return
    if str(config.get("severity", "error")).lower() != "error" or config.get("where"):
        return
    kwargs = meta.get("kwargs") or {}
    args = {**(kwargs.get("arguments") or {}), **kwargs}
    column = node.get("column_name") or args.get("column_name")
    test = meta.get("name")
    if (config.get("meta") or {}).get("release_key"):
        if test == "unique" and column:
            doc.release_keys.append((column,))
        elif test == "unique_combination" and args.get("columns"):
            doc.release_keys.append(tuple(args["columns"]))
    if test == "not_null" and column:
        doc.not_null.add(column)
    elif test == "unique" and column:
        doc.unique.add(column)
    elif test == "accepted_values" and column and args.get("values"):
        doc.accepted_values[column] = list(args["values"])
    elif test == "relationships" and column:
        match = _REF.search(str(args.get("to", "")))
        target = by_id.get(names.get(match.group(1), "")) if match else None
        if target is not None and args.get("field"):
            doc.relationships.append((column, target.name, str(args["field"])))
    elif test == "unique_combination" and args.get("columns"):
        doc.combinations.append(tuple(args["columns"]))


def _upstream(uid: str, parents: dict[str, list[str]], by_id: dict[str, ModelDoc]) -> set[str]:
    """Raw tables and seeds a relation is built from, as `schema.name`."""
    found: set[str] = set()
    seen: set[str] = set()
    stack = list(parents.get(uid, []))
    while stack:
        parent = stack.pop()
        if parent in seen:
            continue
        seen.add(parent)
        if parent.startswith(("source.", "seed.")) and parent in by_id:
            found.add(f"{by_id[parent].schema}.{by_id[parent].name}")
        else:
            stack.extend(parents.get(parent, []))
    return found
