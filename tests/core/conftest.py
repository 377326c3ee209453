"""Fixtures the delivery tests share: the recording platform and a pass runner over it."""

from __future__ import annotations

from typing import Any

import pytest
from delivery_world import FakePlatform, runner
from sqlalchemy.orm import Session, sessionmaker

from paperbot.config import Settings


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
def run(session_factory: sessionmaker[Session], settings: Settings, platform: FakePlatform) -> Any:
    """run(now, worker="w1") -> DeliveryReport: one delivery pass over `platform`."""
    return runner(session_factory, settings, platform)
