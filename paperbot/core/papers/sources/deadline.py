"""A whole-request deadline for httpx, and Retry-After values clamped to sane waits.

httpx's timeouts bound each read, so a server sending a byte every few seconds keeps a request
alive forever. `Deadline` watches the request's socket (handed over by httpcore's documented
"trace" extension as each connection opens, or TLS starts) and shuts it when time is up,
whatever phase the request is in; the blocked read then fails at once.
"""

from __future__ import annotations

import contextlib
import math
import socket
import threading
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any

# Longest wait any Retry-After may ask of us; the settings' max backoff usually caps it lower.
MAX_RETRY_AFTER_SECONDS = 3600.0
_SOCKET_EVENTS = ("connection.connect_tcp.complete", "connection.start_tls.complete")


class Deadline:
    """Use as `with Deadline(s) as d: client.stream(..., extensions={"trace": d.trace})`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._done = False
        self._timer = threading.Timer(max(0.0, seconds), self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with self._lock:
            self._done = True
        self._timer.cancel()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if event in _SOCKET_EVENTS:
            self.watch(info.get("return_value"))

    def watch(self, stream: Any) -> None:
        """Watch this network stream's socket (a response's "network_stream" extension too)."""
        get = getattr(stream, "get_extra_info", None)
        sock = get("socket") if get is not None else None
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._socket = sock
            expired = self.expired and not self._done
        if expired:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            sock = self._socket
        if sock is not None:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    # shutdown (not close) wakes a read blocked in another thread; httpcore then closes it.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date), else None.

    A value that is not finite or is negative is None (the caller's default backoff); others
    are clamped to MAX_RETRY_AFTER_SECONDS, a date in the past to 0.
    """
    if not value:
        return None
    value = value.strip()[:100]
    try:
        seconds = float(value)
    except ValueError:
        until = _seconds_until(value, now)
        if until is None:
            return None
        seconds = max(0.0, until)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER_SECONDS)


def _seconds_until(value: str, now: datetime | None) -> float | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return (when - (now or datetime.now(UTC))).total_seconds()
    except OverflowError:
        return None


__all__ = ["MAX_RETRY_AFTER_SECONDS", "Deadline", "parse_retry_after"]
