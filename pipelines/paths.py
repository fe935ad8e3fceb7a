"""Where the warehouse keeps its files. One folder, configurable, nothing read at import time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


# What dbt reads besides the store: a change to any of these means the warehouse changes.
DBT_INPUTS = ("dbt_project.yml", "profiles.yml", "models", "seeds", "macros", "tests")


def project_files(root: Path, names: tuple[str, ...], pattern: str = "*") -> list[Path]:
    """The files under `root/<name>` (a file or a folder) matching `pattern`, in order."""
    out: list[Path] = []
    for name in names:
        path = root / name
        out.extend(sorted(path.rglob(pattern)) if path.is_dir() else [path])
    return [f for f in out if f.is_file()]


def dbt_input_files() -> list[Path]:
    return project_files(DBT_PROJECT_DIR, DBT_INPUTS)


def default_warehouse_dir() -> Path:
    return Path(os.environ.get("SOCFUND_WAREHOUSE_DIR") or REPO_ROOT / "warehouse")


@dataclass(frozen=True)
class WarehousePaths:
    root: Path

    @property
    def raw_dir(self) -> Path:
        """Content-addressed response bodies and the fetch log (persist from night to night)."""
        return self.root / "raw"

    @property
    def store_db(self) -> Path:
        """Validated and quarantined rows of every source (persist from night to night)."""
        return self.root / "store.duckdb"

    @property
    def store_lock(self) -> Path:
        return self.root / ".store.lock"

    @property
    def build_dir(self) -> Path:
        return self.root / ".build"

    @property
    def build_db(self) -> Path:
        """The warehouse being built aside; swapped in only when the dbt build passes."""
        return self.build_dir / "socfund.duckdb"

    @property
    def published_db(self) -> Path:
        return self.root / "socfund.duckdb"

    @property
    def exports_dir(self) -> Path:
        return self.root / "exports"

    @property
    def site_dir(self) -> Path:
        return self.root / "site"

    def ensure(self) -> WarehousePaths:
        for folder in (self.root, self.raw_dir, self.build_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self
