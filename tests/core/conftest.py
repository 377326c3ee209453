"""Fixtures of the core tests: a search index in the test's own folder, and the recording
platform and pass runner the delivery tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from delivery_world import FakePlatform, runner
from engage_world import engaged_core
from sqlalchemy.orm import Session, sessionmaker

from paperbot.bootstrap import Core
from paperbot.config import Settings
from paperbot.core.search import SearchIndex


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SearchIndex]:
    idx = SearchIndex(tmp_path / "index")
    yield idx
    idx.close()


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
def run(session_factory: sessionmaker[Session], settings: Settings, platform: FakePlatform) -> Any:
    """run(now, worker="w1") -> DeliveryReport: one delivery pass over `platform`."""
    return runner(session_factory, settings, platform)


@pytest.fixture
def engaged(make_settings: Any) -> Iterator[Core]:
    """The service over the sample papers, with engage_world's recording platform "fake"."""
    yield from engaged_core(make_settings)
