"""One asyncio lock per key (a channel and a paper), so that two members pressing *Discuss* at
the same moment open one discussion, not two (within this process)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Hashable

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
