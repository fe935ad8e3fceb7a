"""The one polite HTTP client: the only code in socfund that touches the network.

A `requests.Session` with a User-Agent, timeouts, retries with backoff on
connection errors, timeouts, 429/5xx (honouring `Retry-After`) and bodies that
break off, a per-host rate limit, conditional GET (ETag / Last-Modified), a
response-size cap (counted after gzip is undone) and an allow-list of hosts,
checked on every redirect. Every body is kept in the raw store, whole, before
anything parses it; a fetch that fails keeps nothing and raises FetchError naming
the source and the URL.

The validators of a conditional GET come from the raw store's small validators file
of each source; the versions a client downloads go back to it in batches and when
the client is closed (`with HttpClient(...) as client:`). A client never closed loses
only those last versions: their URLs are downloaded whole once more.

Offline, the same client reaches `samples/` through a loopback HTTP server:
`host_map` sends requests for a real host name to `127.0.0.1:<port>` with the
real `Host` header, so the fetch path is identical to a live night.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

from scrapers.rawstore import FetchRecord, RawStore, Validators

log = logging.getLogger(__name__)

USER_AGENT = "socfund/0.1 (open-data warehouse of social-sector funding; nightly, polite)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
# New versions are written to the store once this many are waiting, or a quarter of the
# source's URLs if more: a first fetch of tens of thousands of pages rewrites the file a
# few dozen times, not once a page.
SAVE_AT_LEAST = 256


class FetchError(RuntimeError):
    """A URL could not be fetched; the message names the source, the URL and why."""


class _BrokenBody(FetchError):
    """The body broke off (reset, timeout, fewer bytes than declared): worth another try."""


@dataclass(frozen=True)
class Fetched:
    source: str
    url: str
    status: int
    sha256: str
    size: int
    fetched_at: str
    content_type: str | None
    not_modified: bool
    body: bytes


class HttpClient:
    def __init__(
        self,
        store: RawStore,
        *,
        allowed_hosts: frozenset[str] | set[str],
        host_map: dict[str, str] | None = None,
        user_agent: str = USER_AGENT,
        timeout: tuple[float, float] = (10.0, 60.0),
        retries: int = 4,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        min_interval: float = 1.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        conditional: bool = True,
        session: requests.Session | None = None,
    ):
        self.store = store
        self.allowed_hosts = frozenset(_ascii_host(h) for h in allowed_hosts)
        self.host_map = {_ascii_host(h): addr for h, addr in (host_map or {}).items()}
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.min_interval = min_interval
        self.max_bytes = max_bytes
        self.conditional = conditional
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self._last_hit: dict[str, float] = {}
        self._host_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        # Per source, read from the store on the source's first request.
        self._versions: dict[str, dict[str, Validators]] = {}
        self._unsaved: dict[str, dict[str, Validators]] = {}
        self._versions_lock = threading.Lock()

    # -- public -------------------------------------------------------------
    def get(self, url: str, *, source: str) -> Fetched:
        """GET a URL, keep its body, log it; raise FetchError when it cannot be had."""
        try:
            return self._get(url, source)
        except FetchError as exc:
            raise FetchError(f"{source}: {exc}") from exc

    def save_validators(self) -> None:
        """Write the versions downloaded since the last save to the raw store."""
        with self._versions_lock:
            unsaved, self._unsaved = self._unsaved, {}
        for source, changed in unsaved.items():
            self.store.update_validators(source, changed)

    def close(self) -> None:
        """Save the validators and close the connections."""
        try:
            self.save_validators()
        finally:
            self.session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- internals ----------------------------------------------------------
    def _get(self, url: str, source: str) -> Fetched:
        current = url
        for _ in range(6):
            self._check_host(current)
            response, body = self._request_with_retries(current, source)
            if response.status_code in (301, 302, 303, 307, 308):
                location = response.headers.get("Location")
                response.close()
                if not location:
                    raise FetchError(f"{current}: redirect without a Location header")
                current = urljoin(current, location)
                continue
            return self._keep(url, current, response, body, source)
        raise FetchError(f"{url}: too many redirects")

    def _check_host(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https"):
            raise FetchError(f"{url}: scheme {parts.scheme!r} is not http or https")
        # urlsplit and urllib3 read `user@host` and a backslash differently
        # (`https://evil.test\@allowed.test/` is allowed.test to one, evil.test to the
        # other), so the host checked might not be the host reached: neither is accepted.
        if "@" in parts.netloc or "\\" in parts.netloc:
            raise FetchError(f"{url}: user info or a backslash in the host part")
        host = _host(url)
        if host not in self.allowed_hosts:
            raise FetchError(f"{url}: host {host!r} is not on the allow-list")

    def _wire_url(self, url: str) -> tuple[str, dict[str, str]]:
        parts = urlsplit(url)
        host = _host(url)
        mapped = self.host_map.get(host)
        if not mapped:
            return url, {}
        wire = urlunsplit(("http", mapped, parts.path or "/", parts.query, ""))
        return wire, {"Host": host}

    def _polite_wait(self, host: str) -> threading.Lock:
        with self._locks_guard:
            lock = self._host_locks.setdefault(host, threading.Lock())
        with lock:
            wait = self._last_hit.get(host, 0.0) + self.min_interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last_hit[host] = time.monotonic()
        return lock

    def _request_with_retries(
        self, url: str, source: str
    ) -> tuple[requests.Response, bytes | None]:
        """The response to a GET of `url`, with its body when the status is 200.

        Connection errors, timeouts, 429/5xx and a body that breaks off are tried again;
        what still fails after the last attempt is logged and raised. A body over the
        size cap is not tried again.
        """
        host = _host(url)
        wire, headers = self._wire_url(url)
        previous = self._previous(source, url)
        if previous is not None:
            if previous.etag:
                headers["If-None-Match"] = previous.etag
            if previous.last_modified:
                headers["If-Modified-Since"] = previous.last_modified
        last_error: str = ""
        for attempt in range(self.retries + 1):
            self._polite_wait(host)
            try:
                response = self.session.get(
                    wire, headers=headers, timeout=self.timeout, stream=True,
                    allow_redirects=False,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                self._sleep_backoff(attempt, None)
                continue
            except requests.RequestException as exc:  # a URL requests cannot use: no retry
                self._log_failure(source, url, f"{type(exc).__name__}: {exc}")
                raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
            if response.status_code in RETRY_STATUSES and attempt < self.retries:
                last_error = f"HTTP {response.status_code}"
                retry_after = response.headers.get("Retry-After")
                response.close()
                log.info("%s: HTTP %s, retry %d", url, response.status_code, attempt + 1)
                self._sleep_backoff(attempt, retry_after)
                continue
            if response.status_code != 200:
                return response, None
            try:
                return response, self._read_capped(url, response)
            except _BrokenBody as exc:
                last_error = str(exc)
                log.info("%s: %s, retry %d", url, exc, attempt + 1)
                self._sleep_backoff(attempt, None)
            except FetchError as exc:
                self._log_failure(source, url, str(exc), response.status_code)
                raise
        self._log_failure(source, url, last_error)
        raise FetchError(f"{url}: gave up after {self.retries + 1} attempts ({last_error})")

    def _sleep_backoff(self, attempt: int, retry_after: str | None) -> None:
        if attempt >= self.retries:  # the last attempt failed: nothing to wait for
            return
        delay = min(self.max_backoff, self.backoff * (2**attempt))
        if retry_after:
            delay = max(delay, min(self.max_backoff, _retry_after_seconds(retry_after)))
        time.sleep(delay)

    def _read_capped(self, url: str, response: requests.Response) -> bytes:
        declared = response.headers.get("Content-Length")
        length = int(declared) if declared and declared.isdigit() else None
        if length is not None and length > self.max_bytes:
            response.close()
            raise FetchError(
                f"{url}: response of {length} bytes exceeds the cap of {self.max_bytes}"
            )
        chunks: list[bytes] = []
        total = 0
        try:
            # Counted after any gzip is undone, so a small compressed body cannot
            # unpack past the cap.
            for chunk in response.iter_content(chunk_size=1 << 16):
                total += len(chunk)
                if total > self.max_bytes:
                    raise FetchError(f"{url}: response exceeds the cap of {self.max_bytes} bytes")
                chunks.append(chunk)
            received = response.raw.tell()
        except requests.RequestException as exc:
            raise _BrokenBody(f"{url}: body could not be read ({exc})") from exc
        finally:
            response.close()
        # Content-Length counts the bytes on the wire, before any gzip is undone.
        if length is not None and received != length:
            raise _BrokenBody(f"{url}: truncated body ({received} of {length} bytes)")
        return b"".join(chunks)

    def _keep(
        self, requested: str, final: str, response: requests.Response, body: bytes | None,
        source: str,
    ) -> Fetched:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        previous = self._previous(source, requested)
        if response.status_code == 304 and previous is not None:
            response.close()
            body = self.store.get(source, previous.sha256)
            record = FetchRecord(
                source=source, url=requested, fetched_at=now, status=304,
                sha256=previous.sha256, bytes=len(body), etag=previous.etag,
                last_modified=previous.last_modified, content_type=previous.content_type,
                not_modified=True,
            )
            self.store.log(record)
            return Fetched(source, requested, 304, previous.sha256, len(body), now,
                           previous.content_type, True, body)
        if response.status_code != 200 or body is None:
            status = response.status_code
            response.close()
            self._log_failure(source, requested, f"HTTP {status}", status)
            raise FetchError(f"{final}: HTTP {status}")
        digest = self.store.put(source, body)
        record = FetchRecord(
            source=source, url=requested, fetched_at=now, status=200, sha256=digest,
            bytes=len(body), etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            content_type=response.headers.get("Content-Type"),
        )
        self.store.log(record)
        self._remember(source, requested, Validators(
            sha256=digest, fetched_at=now, etag=record.etag,
            last_modified=record.last_modified, content_type=record.content_type))
        return Fetched(source, requested, 200, digest, len(body), now,
                       record.content_type, False, body)

    def _known(self, source: str) -> dict[str, Validators]:
        """The source's versions as this client knows them; the caller holds the lock."""
        known = self._versions.get(source)
        if known is None:
            known = self._versions[source] = self.store.validators(source)
        return known

    def _previous(self, source: str, url: str) -> Validators | None:
        if not self.conditional:
            return None
        with self._versions_lock:
            return self._known(source).get(url)

    def _remember(self, source: str, url: str, version: Validators) -> None:
        with self._versions_lock:
            known = self._known(source)
            if version.same_version(known.get(url)):
                return  # nothing new to write: a server without validators sent it again
            known[url] = version
            unsaved = self._unsaved.setdefault(source, {})
            unsaved[url] = version
            due = len(unsaved) >= max(SAVE_AT_LEAST, len(known) // 4)
        if due:
            self.save_validators()

    def _log_failure(self, source: str, url: str, error: str, status: int = 0) -> None:
        self.store.log(FetchRecord(
            source=source, url=url, fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
            status=status, sha256=None, bytes=0, error=error,
        ))


def _ascii_host(host: str) -> str:
    """A host name as the allow-list and the host map spell it: lower case, IDNA (punycode),
    so `президентскиегранты.рф` in a link is the same host as its `xn--…` form."""
    host = host.lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:  # not a name IDNA can spell: kept, it matches no allowed host
        return host


def _host(url: str) -> str:
    return _ascii_host(urlsplit(url).hostname or "")


def _retry_after_seconds(value: str) -> float:
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    if when.tzinfo is None:  # `-0000` or no zone: RFC 9110 dates are in UTC
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
