"""What every use case works with: the settings, the store, the search index, the platforms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from paperbot.config import Settings
from paperbot.core.ports import ChatPlatform
from paperbot.core.search.hybrid import HybridSearch


@dataclass(frozen=True)
class Context:
    """Built once by Paperbot; each use-case group reads the parts (and sections) it needs."""

    settings: Settings
    session_factory: sessionmaker[Session]
    index: HybridSearch
    # The service's own dict: adapters registered after the service exists are seen too.
    platforms: Mapping[str, ChatPlatform]
    worker_id: str
