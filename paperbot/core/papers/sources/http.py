"""HTTP for the sources: one client shape, deadlines, size caps, bounded retries, arXiv pacing.

Every request has a whole-request deadline (source_http.deadline_seconds, on top of httpx's
per-read timeout) and a size cap (max_response_bytes: the body is streamed and reading stops
past it); a source run can add its own end (`until`), so it releases the ingest lease in time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from paperbot.config import SourceHttpSettings
from paperbot.core.papers.sources.base import SourceError
from paperbot.core.papers.sources.deadline import Deadline, parse_retry_after

Params = Mapping[str, str | int]


def join_url(base: str, path: str) -> str:
    """base + path with exactly one slash between them, whether or not base ends with one."""
    return base.rstrip("/") + "/" + path.lstrip("/")


def make_client(cfg: SourceHttpSettings) -> httpx.Client:
    """The client every source uses: timeout and User-Agent from settings.source_http."""
    return httpx.Client(
        timeout=httpx.Timeout(cfg.timeout_seconds),
        headers={"User-Agent": cfg.user_agent},
        follow_redirects=True,
        # A fresh connection per request: the deadline then watches every phase of it (a
        # reused connection's socket is only known once its headers have arrived).
        limits=httpx.Limits(max_keepalive_connections=0),
    )


class RateLimiter:
    """Spaces request starts at least `interval` seconds apart across all threads of a process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self, interval: float) -> None:
        with self._lock:
            now = time.monotonic()
            if self._next > now:
                time.sleep(self._next - now)
                now = time.monotonic()
            self._next = now + interval

    def reset(self) -> None:
        with self._lock:
            self._next = 0.0


# arXiv's "one request every 3 seconds" counts per deployment; this is the per-process half.
ARXIV_LIMITER = RateLimiter()


class _RetryableStatus(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.status = response.status_code
        self.retry_after = parse_retry_after(response.headers.get("Retry-After"))


class _Overdue(Exception):
    """The whole-request deadline passed (retryable, like a timeout)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no complete reply within {seconds:g} s")
        self.seconds = seconds


def _retry_after(state: RetryCallState) -> float | None:
    exc = state.outcome.exception() if state.outcome else None
    return exc.retry_after if isinstance(exc, _RetryableStatus) else None


def _wait_for(cfg: SourceHttpSettings, state: RetryCallState) -> float:
    asked = _retry_after(state)
    if asked is not None:
        return min(asked, cfg.max_backoff_seconds)
    backoff = cfg.backoff_base_seconds * 2 ** min(state.attempt_number - 1, 30)
    return float(min(backoff, cfg.max_backoff_seconds))


def _stopper(cfg: SourceHttpSettings, until: float | None) -> Callable[[RetryCallState], bool]:
    attempts = stop_after_attempt(cfg.max_attempts)

    def stop(state: RetryCallState) -> bool:
        asked = _retry_after(state)
        # Retrying sooner than the server asked would not honour it: give up until the next run.
        if attempts(state) or (asked is not None and asked > cfg.max_backoff_seconds):
            return True
        return until is not None and time.monotonic() + _wait_for(cfg, state) >= until

    return stop


def _where(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.host}{':' + str(parsed.port) if parsed.port else ''}{parsed.path}"


def _body(response: httpx.Response, cap: int, where: str) -> bytes:
    """The (decoded) body, read no further than `cap` bytes."""
    too_large = SourceError(f"reply from {where} is larger than {_size(cap)}; stopped reading")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > cap:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > cap:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


def get(
    client: httpx.Client,
    url: str,
    *,
    cfg: SourceHttpSettings,
    params: Params | None = None,
    limiter: RateLimiter | None = None,
    interval: float = 0.0,
    until: float | None = None,
) -> bytes:
    """GET a body with bounded retries on 429/5xx/transport errors/deadlines.

    `until` (a time.monotonic() instant) ends retries and cuts the last deadline short.
    Raises SourceError (a short, loggable line) when it gives up.
    """
    where = _where(url)

    def attempt() -> bytes:
        if limiter is not None:
            limiter.wait(interval)
        seconds = cfg.deadline_seconds
        if until is not None:
            seconds = min(seconds, until - time.monotonic())
            if seconds <= 0:
                raise SourceError(f"gave up on {where}: the source run took too long")
        timeout = httpx.Timeout(min(cfg.timeout_seconds, seconds))
        with Deadline(seconds) as deadline:
            try:
                with client.stream(
                    "GET", url, params=params, timeout=timeout, extensions={"trace": deadline.trace}
                ) as response:
                    deadline.watch(response.extensions.get("network_stream"))
                    if response.status_code == 429 or response.status_code >= 500:
                        raise _RetryableStatus(response)
                    if response.status_code >= 400:
                        raise SourceError(f"HTTP {response.status_code} from {where}")
                    return _body(response, cfg.max_response_bytes, where)
            except httpx.TransportError:
                if deadline.expired:
                    raise _Overdue(seconds) from None
                raise

    retrying = Retrying(
        stop=_stopper(cfg, until),
        wait=lambda state: _wait_for(cfg, state),
        retry=retry_if_exception_type((_RetryableStatus, _Overdue, httpx.TransportError)),
        reraise=True,
    )
    try:
        return retrying(attempt)
    except _RetryableStatus as exc:
        tries = retrying.statistics.get("attempt_number", 1)
        hint = f", retry after {exc.retry_after:.0f}s" if exc.retry_after is not None else ""
        raise SourceError(f"HTTP {exc.status} from {where} ({tries} tries{hint})") from None
    except _Overdue as exc:
        tries = retrying.statistics.get("attempt_number", 1)
        raise SourceError(
            f"no complete reply from {where} within {exc.seconds:.3g} s ({tries} tries)"
        ) from None
    except httpx.TimeoutException:
        tries = retrying.statistics.get("attempt_number", 1)
        raise SourceError(f"timed out reaching {where} ({tries} tries)") from None
    except httpx.TransportError as exc:
        tries = retrying.statistics.get("attempt_number", 1)
        kind = "could not connect to" if isinstance(exc, httpx.ConnectError) else "network error at"
        raise SourceError(f"{kind} {where} ({tries} tries)") from None


__all__ = ["ARXIV_LIMITER", "RateLimiter", "get", "join_url", "make_client", "parse_retry_after"]
