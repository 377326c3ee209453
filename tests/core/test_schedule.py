"""Channel schedules: due slots in local time, DST gaps and folds, grace and missed counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from paperbot.core.channels import schedule

GRACE = timedelta(hours=6)


@dataclass
class Sched:
    digest_time: str = "09:00"
    timezone: str = "UTC"
    days: str = "daily"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_slot_is_local_time_in_the_channel_zone() -> None:
    berlin = Sched("09:00", "Europe/Berlin")
    due = schedule.due_slot(
        berlin, now=utc(2026, 11, 27, 8, 0), since=utc(2026, 11, 1), grace=GRACE
    )
    assert due is not None
    assert due.slot.key == "2026-11-27"
    assert due.slot.at == utc(2026, 11, 27, 8, 0)  # 09:00 CET
    assert (
        schedule.due_slot(
            berlin, now=utc(2026, 11, 27, 7, 59), since=utc(2026, 11, 26, 8), grace=GRACE
        )
        is None
    )


def test_slot_key_is_the_local_date_even_when_utc_is_another_day() -> None:
    tokyo = Sched("07:30", "Asia/Tokyo")
    due = schedule.due_slot(
        tokyo, now=utc(2026, 11, 26, 22, 31), since=utc(2026, 11, 26), grace=GRACE
    )
    assert due is not None and due.slot.key == "2026-11-27"


def test_skipped_local_time_fires_when_clocks_jump() -> None:
    # Europe/Berlin springs forward on 2026-03-29 at 02:00 -> 03:00: 02:30 does not exist.
    night = Sched("02:30", "Europe/Berlin")
    slot = schedule.slot_on(night, datetime(2026, 3, 29).date())
    assert slot is not None
    assert slot.at == utc(2026, 3, 29, 1, 0)  # 03:00 CEST, the first valid instant after
    assert slot.at.astimezone(schedule.zone_of(night)).strftime("%H:%M") == "03:00"


def test_repeated_local_time_fires_once() -> None:
    # Clocks fall back on 2026-10-25 at 03:00 -> 02:00: 02:30 happens twice.
    night = Sched("02:30", "Europe/Berlin")
    slots = schedule.slots_between(night, utc(2026, 10, 24, 12), utc(2026, 10, 25, 12))
    assert [s.at for s in slots] == [utc(2026, 10, 25, 0, 30)]
    # Half an hour later the wall clock shows 02:30 again, and nothing new is due.
    since = slots[0].at
    assert schedule.due_slot(night, now=utc(2026, 10, 25, 1, 30), since=since, grace=GRACE) is None


def test_new_york_ahead_of_dst_change_keeps_local_nine() -> None:
    ny = Sched("09:00", "America/New_York")
    before = schedule.slot_on(ny, datetime(2026, 3, 6).date())
    after = schedule.slot_on(ny, datetime(2026, 3, 9).date())
    assert before is not None and after is not None
    assert before.at.hour == 14 and after.at.hour == 13


def test_weekdays_and_chosen_days() -> None:
    weekdays = Sched(days="weekdays")
    # 2026-11-28 is a Saturday.
    assert schedule.slot_on(weekdays, datetime(2026, 11, 28).date()) is None
    assert schedule.slot_on(weekdays, datetime(2026, 11, 27).date()) is not None
    mwf = Sched(days="mon,wed,fri")
    days = {
        s.local_date.weekday()
        for s in schedule.slots_between(mwf, utc(2026, 11, 1), utc(2026, 11, 30))
    }
    assert days == {0, 2, 4}


def test_missed_slot_within_grace_is_due_with_missed_count() -> None:
    s = Sched("09:00", "UTC")
    # Down from Monday 08:00 to Thursday 14:00 (5 h after Thursday's slot).
    due = schedule.due_slot(s, now=utc(2026, 11, 26, 14), since=utc(2026, 11, 22, 9), grace=GRACE)
    assert due is not None
    assert due.slot.key == "2026-11-26"
    assert due.missed == 3  # Mon, Tue, Wed


def test_slot_older_than_grace_is_not_due() -> None:
    s = Sched("09:00", "UTC")
    assert (
        schedule.due_slot(s, now=utc(2026, 11, 26, 15, 1), since=utc(2026, 11, 25, 9), grace=GRACE)
        is None
    )
    # The next day's digest reports the one it skipped.
    due = schedule.due_slot(s, now=utc(2026, 11, 27, 9), since=utc(2026, 11, 25, 9), grace=GRACE)
    assert due is not None and due.missed == 1


def test_channel_created_after_todays_slot_waits_for_tomorrow() -> None:
    s = Sched("09:00", "UTC")
    created = utc(2026, 11, 27, 10)
    assert schedule.due_slot(s, now=utc(2026, 11, 27, 11), since=created, grace=GRACE) is None
    due = schedule.due_slot(s, now=utc(2026, 11, 28, 9), since=created, grace=GRACE)
    assert due is not None and due.missed == 0


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2026, 11, 27, 8, 59), utc(2026, 11, 27, 9)),
        (utc(2026, 11, 27, 9, 0), utc(2026, 11, 30, 9)),  # Friday 09:00 -> Monday (weekdays)
    ],
)
def test_next_run(now: datetime, expected: datetime) -> None:
    assert schedule.next_run(Sched(days="weekdays"), now) == expected
