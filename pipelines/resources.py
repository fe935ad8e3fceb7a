"""Dagster resources: where the warehouse lives, and how the sources are reached.

`SourcesResource` has two fetching modes with the same client code: `samples`
(the offline default: a loopback HTTP server over a samples folder — `samples/`, the
real documents, unless another is named — reached through a host mapping) and `live`
(the real hosts); and `raw`, which fetches nothing and rebuilds from the documents
already kept in the raw store. Offline, a document the folder holds no copy of is not
requested (`has_copy`): its source is `live only` on that build, not failed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster import ConfigurableResource

from pipelines.paths import WarehousePaths, default_warehouse_dir
from scrapers.http import HttpClient
from scrapers.rawstore import RawStore
from scrapers.samples import SAMPLES_DIR
from scrapers.samples import has_copy as folder_has_copy
from scrapers.samples_server import serve_samples


class WarehouseResource(ConfigurableResource):
    """The warehouse folder: raw store, persistent store, published DuckDB file, exports."""

    warehouse_dir: str = ""

    def paths(self) -> WarehousePaths:
        root = Path(self.warehouse_dir) if self.warehouse_dir else default_warehouse_dir()
        return WarehousePaths(root.resolve()).ensure()

    def raw_store(self) -> RawStore:
        return RawStore(self.paths().raw_dir)


class SourcesResource(ConfigurableResource):
    """How fetches reach the sources: `samples` (offline default), `live`, or `raw` (none)."""

    mode: str = "samples"
    samples_dir: str = ""
    min_interval_seconds: float = 1.0

    @property
    def live(self) -> bool:
        if self.mode not in ("samples", "live", "raw"):
            raise ValueError(
                f"sources mode must be 'samples', 'live' or 'raw', not {self.mode!r}")
        return self.mode == "live"

    @property
    def from_raw(self) -> bool:
        return not self.live and self.mode == "raw"

    @property
    def samples_root(self) -> Path:
        return Path(self.samples_dir) if self.samples_dir else SAMPLES_DIR

    def has_copy(self, url: str) -> bool:
        """Whether a fetch may request `url`: always live; offline, when the folder holds it."""
        return self.live or folder_has_copy(url, self.samples_root)

    @contextmanager
    def client(self, store: RawStore, allowed_hosts: set[str]) -> Iterator[HttpClient]:
        if self.from_raw:
            raise RuntimeError("sources mode 'raw' fetches nothing: no HTTP client")
        # Closing the client writes the validators it learnt back to the raw store.
        if self.live:
            with HttpClient(store, allowed_hosts=allowed_hosts,
                            min_interval=self.min_interval_seconds) as client:
                yield client
            return
        root = self.samples_root
        # The loopback server answers at once: no politeness delay, few retries.
        with serve_samples(root) as host_map, HttpClient(
                store, allowed_hosts=allowed_hosts, host_map=host_map, min_interval=0.0,
                retries=1, backoff=0.1) as client:
            yield client
