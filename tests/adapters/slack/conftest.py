"""The loopback fake Slack most Slack tests share: one team, channel C1, an admin and a member."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes.slack import FakeSlack


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_channel("C1")
        fake.add_user("T1", "UADMIN", admin=True)
        fake.add_user("T1", "UPLAIN")
        yield fake
