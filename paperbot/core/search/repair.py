"""Keeping the derived search index usable: notice a vanished or broken folder, rebuild it.

The index is derived from the database, so a folder deleted or corrupted under a running bot
is rebuilt rather than left to fail every tick; tantivy's panics (BaseException) are caught.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.panics import is_native_panic, recoverable

log = logging.getLogger(__name__)


class RepairableIndex(Protocol):
    @property
    def path(self) -> Path: ...

    def catch_up(
        self, session_factory: sessionmaker[Session], *, wait_seconds: float = ...
    ) -> int: ...
    def rebuild(
        self, session_factory: sessionmaker[Session], *, wait_seconds: float = ...
    ) -> int: ...
    def reload(self) -> None: ...
    def reopen(self) -> None: ...


MISSING = "the search index folder is missing"


def _meta(index: RepairableIndex) -> Path:
    return Path(index.path) / "meta.json"


def problem(index: RepairableIndex) -> str | None:
    """Why the index cannot serve searches right now, or None."""
    if not _meta(index).exists():
        return MISSING
    try:
        index.reload()
    except BaseException as exc:
        if not recoverable(exc):
            raise
        return f"the search index cannot be opened ({type(exc).__name__})"
    return None


def catch_up(index: RepairableIndex, session_factory: sessionmaker[Session]) -> int:
    """Bring the index up to date; rebuild it from the database when its folder is broken.

    Never raises a recoverable error: a failed catch-up is logged and tried again next tick.
    """
    # A vanished folder makes catch_up quietly do nothing (no writer lock to take): look first.
    broken: str | None = MISSING if not _meta(index).exists() else None
    if broken is None:
        try:
            return index.catch_up(session_factory)
        except BaseException as exc:
            if not recoverable(exc):
                raise
            broken = problem(index) or (
                "the search index panicked" if is_native_panic(exc) else None
            )
            if not broken:
                log.warning("search index catch-up failed: %s: %s", type(exc).__name__, exc)
                return 0
    return repair(index, session_factory, broken)


def repair(index: RepairableIndex, session_factory: sessionmaker[Session], why: str) -> int:
    log.warning("%s: rebuilding it from the database", why)
    try:
        index.reopen()
        done = index.rebuild(session_factory)
    except BaseException as exc:
        if not recoverable(exc):
            raise
        log.warning("rebuilding the search index failed: %s: %s", type(exc).__name__, exc)
        return 0
    log.info("search index rebuilt: %d papers", done)
    return done
