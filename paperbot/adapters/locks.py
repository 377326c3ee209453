"""One asyncio lock per key (a channel and a paper), so that two members pressing *Discuss* at
the same moment open one discussion, not two (within this process); and platform events
counted one at a time, in order (InOrder)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import Any

from cachetools import LRUCache

# Keys remembered at once; an evicted one is only a lock nobody was waiting on, most likely.
MAX_KEYS = 4096


class KeyedLocks:
    def __init__(self, size: int = MAX_KEYS) -> None:
        self._locks: LRUCache[Hashable, asyncio.Lock] = LRUCache(maxsize=size)

    def hold(self, key: Hashable | None) -> contextlib.AbstractAsyncContextManager[object]:
        """The lock for `key`, or no lock at all for None."""
        if key is None:
            return contextlib.nullcontext()
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock


class InOrder:
    """Core calls for platform events, one at a time in the order they arrived (a 👍 added
    and at once removed must not reach the database the other way round), each in a worker
    thread with `now`. The core logs and drops their failures (Paperbot._quietly)."""

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None  # made in the running loop, on first use

    async def run(self, call: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            await asyncio.to_thread(call, *args, now=datetime.now(UTC), **kwargs)
