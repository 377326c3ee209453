"""What the Slack adapter remembers, and for how long: event ids Slack retries, and who is an
admin (users.info, against the fake Slack), on a clock the test moves."""

from __future__ import annotations

from fakes.slack import FakeSlack
from slack_sdk.web.async_client import AsyncWebClient

from paperbot.adapters.slack.inbound import EventDeduper
from paperbot.adapters.slack.users import FAILED_TTL, AdminCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_retried_event_is_seen_once_within_the_hour() -> None:
    clock = Clock()
    deduper = EventDeduper(ttl=3600, size=3, timer=clock)
    assert deduper.first_time("Ev1") and not deduper.first_time("Ev1")
    clock.now += 3599
    assert not deduper.first_time("Ev1")
    clock.now += 2
    assert deduper.first_time("Ev1")  # an hour later Slack no longer retries it: a new event
    for event in ("Ev2", "Ev3", "Ev4"):
        assert deduper.first_time(event)
    assert deduper.first_time("Ev1")  # bounded: the oldest ids go first


async def test_admin_lookups_are_cached_and_failures_retried_sooner(slack: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-test-token", base_url=slack.api_url)
    clock = Clock()
    admins = AdminCache(ttl=600, timer=clock)
    assert await admins.is_admin(client, "T1", "UADMIN")
    assert not await admins.is_admin(client, "T1", "UPLAIN")
    assert await admins.is_admin(client, "T1", "UADMIN")
    assert len(slack.calls_to("users.info")) == 2
    # Another workspace's answer cannot make someone an admin here.
    assert not await admins.is_admin(client, "T2", "UADMIN")

    slack.inject("users.info", status=500, times=1)
    assert not await admins.is_admin(client, "T1", "UOTHER")
    calls = len(slack.calls_to("users.info"))
    clock.now += FAILED_TTL - 1
    assert not await admins.is_admin(client, "T1", "UOTHER")
    assert len(slack.calls_to("users.info")) == calls
    slack.add_user("T1", "UOTHER", admin=True)
    clock.now += 2
    assert await admins.is_admin(client, "T1", "UOTHER")  # the failure was not kept for long

    slack.add_user("T1", "UADMIN")  # demoted: believed until the entry expires
    assert await admins.is_admin(client, "T1", "UADMIN")
    clock.now += 600
    assert not await admins.is_admin(client, "T1", "UADMIN")


async def test_no_admin_cache_when_its_time_is_zero(slack: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-test-token", base_url=slack.api_url)
    admins = AdminCache(ttl=0)
    for _ in range(3):
        assert await admins.is_admin(client, "T1", "UADMIN")
    assert len(slack.calls_to("users.info")) == 3
