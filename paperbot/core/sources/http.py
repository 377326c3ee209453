"""HTTP for the sources: one client shape, bounded retries honouring Retry-After, arXiv pacing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from paperbot.config import Settings, SourceHttpSettings
from paperbot.core.sources.base import SourceError

Params = Mapping[str, str | int]


def join_url(base: str, path: str) -> str:
    """base + path with exactly one slash between them, whether or not base ends with one."""
    return base.rstrip("/") + "/" + path.lstrip("/")


def make_client(settings: Settings) -> httpx.Client:
    """The client every source uses: timeout and User-Agent from settings.source_http."""
    cfg = settings.source_http
    return httpx.Client(
        timeout=httpx.Timeout(cfg.timeout_seconds),
        headers={"User-Agent": cfg.user_agent},
        follow_redirects=True,
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


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _retry_after(state: RetryCallState) -> float | None:
    exc = state.outcome.exception() if state.outcome else None
    return exc.retry_after if isinstance(exc, _RetryableStatus) else None


def _waiter(cfg: SourceHttpSettings) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        asked = _retry_after(state)
        if asked is not None:
            return min(asked, cfg.max_backoff_seconds)
        return float(min(cfg.backoff_base_seconds * 2 ** (state.attempt_number - 1),
                         cfg.max_backoff_seconds))  # fmt: skip

    return wait


def _stopper(cfg: SourceHttpSettings) -> Callable[[RetryCallState], bool]:
    attempts = stop_after_attempt(cfg.max_attempts)

    def stop(state: RetryCallState) -> bool:
        asked = _retry_after(state)
        # Retrying sooner than the server asked would not honour it: give up until the next run.
        return attempts(state) or (asked is not None and asked > cfg.max_backoff_seconds)

    return stop


def _where(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.host}{':' + str(parsed.port) if parsed.port else ''}{parsed.path}"


def get(
    client: httpx.Client,
    url: str,
    *,
    settings: Settings,
    params: Params | None = None,
    limiter: RateLimiter | None = None,
    interval: float = 0.0,
) -> httpx.Response:
    """GET with bounded retries on 429/5xx/transport errors; raises SourceError when it gives up."""
    cfg = settings.source_http

    def attempt() -> httpx.Response:
        if limiter is not None:
            limiter.wait(interval)
        response = client.get(url, params=params)
        if response.status_code == 429 or response.status_code >= 500:
            raise _RetryableStatus(response)
        if response.status_code >= 400:
            raise SourceError(f"HTTP {response.status_code} from {_where(url)}")
        return response

    retrying = Retrying(
        stop=_stopper(cfg),
        wait=_waiter(cfg),
        retry=retry_if_exception_type((_RetryableStatus, httpx.TransportError)),
        reraise=True,
    )
    try:
        return retrying(attempt)
    except _RetryableStatus as exc:
        tries = retrying.statistics.get("attempt_number", 1)
        hint = f", retry after {exc.retry_after:.0f}s" if exc.retry_after is not None else ""
        raise SourceError(f"HTTP {exc.status} from {_where(url)} ({tries} tries{hint})") from None
    except httpx.TimeoutException:
        tries = retrying.statistics.get("attempt_number", 1)
        raise SourceError(f"timed out reaching {_where(url)} ({tries} tries)") from None
    except httpx.TransportError as exc:
        tries = retrying.statistics.get("attempt_number", 1)
        kind = "could not connect to" if isinstance(exc, httpx.ConnectError) else "network error at"
        raise SourceError(f"{kind} {_where(url)} ({tries} tries)") from None


__all__ = ["ARXIV_LIMITER", "RateLimiter", "get", "join_url", "make_client", "parse_retry_after"]
