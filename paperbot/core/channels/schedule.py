"""Channel schedules as instants: due slots at `now`, DST-safe, with grace and missed counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Missed slots are counted over at most this many days (a bot down for a year says "365+").
MAX_LOOKBACK_DAYS = 400


class HasSchedule(Protocol):
    """What a schedule is read from: a Channel row, or anything shaped like one."""

    digest_time: str
    timezone: str
    days: str


@dataclass(frozen=True)
class Slot:
    """One scheduled run: its key (the local date, ISO) and the UTC instant it fires."""

    key: str
    local_date: date
    at: datetime


@dataclass(frozen=True)
class DueSlot:
    slot: Slot
    # Slots after `since` and before this one that were not run (down longer than the grace).
    missed: int


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone_of(channel: HasSchedule) -> ZoneInfo:
    return _zone(channel.timezone or "UTC")


@lru_cache(maxsize=1024)
def _days(spec: str) -> frozenset[int]:
    value = (spec or "daily").strip().lower()
    if value == "daily":
        return frozenset(range(7))
    if value == "weekdays":
        return frozenset(range(5))
    days = frozenset(WEEKDAYS.index(d.strip()[:3]) for d in value.split(",") if d.strip())
    return days or frozenset(range(7))


def _time(spec: str) -> time:
    hour, _, minute = (spec or "09:00").partition(":")
    return time(int(hour), int(minute or 0))


def instant(local_date: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time on a date.

    A repeated wall time (clocks fall back) is its first occurrence, so it fires once. A skipped
    one (clocks spring forward) fires at the next valid instant: the moment the clocks jump.
    """
    naive = datetime.combine(local_date, at)
    first = naive.replace(tzinfo=zone, fold=0)
    utc = first.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == naive:
        return utc
    # In a gap: find the earliest instant whose local time is at or past the wall time.
    lo = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    hi = utc
    lo, hi = min(lo, hi), max(lo, hi)
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid
    return hi.replace(microsecond=0)


def slot_on(channel: HasSchedule, local_date: date) -> Slot | None:
    """The channel's slot on a local date, or None when it does not run that weekday."""
    if local_date.weekday() not in _days(channel.days):
        return None
    at = instant(local_date, _time(channel.digest_time), zone_of(channel))
    return Slot(key=local_date.isoformat(), local_date=local_date, at=at)


def slots_between(channel: HasSchedule, start: datetime, end: datetime) -> list[Slot]:
    """Slots with start < at <= end, oldest first (at most MAX_LOOKBACK_DAYS of them)."""
    zone = zone_of(channel)
    first_day = max(start, end - timedelta(days=MAX_LOOKBACK_DAYS)).astimezone(zone).date()
    # A skipped day (e.g. a zone crossing the date line) can push a slot one day late.
    day = first_day - timedelta(days=1)
    last_day = end.astimezone(zone).date() + timedelta(days=1)
    out: list[Slot] = []
    while day <= last_day:
        slot = slot_on(channel, day)
        if slot is not None and start < slot.at <= end:
            out.append(slot)
        day += timedelta(days=1)
    return out


def due_slot(
    channel: HasSchedule, *, now: datetime, since: datetime, grace: timedelta
) -> DueSlot | None:
    """The slot to deliver at `now`, if any, and how many slots before it were missed.

    `since` is the instant of the channel's last planned slot (or its creation): slots after it
    are candidates. Only the newest one that fired within `grace` of `now` is due; older ones
    are counted as missed.
    """
    slots = slots_between(channel, since, now)
    if not slots or now - slots[-1].at > grace:
        return None
    return DueSlot(slot=slots[-1], missed=len(slots) - 1)


def next_run(channel: HasSchedule, now: datetime) -> datetime:
    """The next instant strictly after `now` at which the channel's digest is scheduled."""
    zone = zone_of(channel)
    day = now.astimezone(zone).date() - timedelta(days=1)
    for _ in range(16):
        slot = slot_on(channel, day)
        if slot is not None and slot.at > now:
            return slot.at
        day += timedelta(days=1)
    raise ValueError(f"schedule {channel.days!r} never runs")
