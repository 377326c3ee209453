"""A channel's weekly roundup schedule: set, stopped, described, and seen as a schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from paperbot.core.channels.schedule import WEEKDAYS
from paperbot.core.channels.when import DAY_NAMES
from paperbot.core.models import Channel


@dataclass
class RoundupSchedule:
    """The roundup's schedule shaped like a channel's (channels.schedule.HasSchedule)."""

    digest_time: str
    timezone: str
    days: str


def schedule_of(channel: Channel) -> RoundupSchedule | None:
    """The channel's roundup as a schedule; None when it has none."""
    if channel.roundup_day is None or not 0 <= channel.roundup_day <= 6:
        return None
    return RoundupSchedule(
        digest_time=channel.roundup_time or "16:00",
        timezone=channel.roundup_zone or channel.timezone or "UTC",
        days=WEEKDAYS[channel.roundup_day],
    )


def set_weekly(channel: Channel, weekday: int, at: time, zone: str | None) -> None:
    channel.roundup_day = weekday
    channel.roundup_time = at.strftime("%H:%M")
    channel.roundup_zone = zone


def stop(channel: Channel) -> bool:
    """Stop the weekly roundup; False when there was none."""
    had = channel.roundup_day is not None
    channel.roundup_day = channel.roundup_time = channel.roundup_zone = None
    return had


def describe(channel: Channel) -> str:
    """e.g. "Fridays 16:00 Europe/Paris"."""
    shown = schedule_of(channel)
    if shown is None or channel.roundup_day is None:
        return "off"
    return f"{DAY_NAMES[channel.roundup_day].title()}s {shown.digest_time} {shown.timezone}"
