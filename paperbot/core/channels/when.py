"""The words people use for when: times (09:00, 9am, 17h30), days (weekdays, mon,wed,fri),
weekdays and time zones, read into values or a ParseError saying how to write them."""

from __future__ import annotations

import re
from datetime import time

from paperbot.core.channels import zones
from paperbot.core.channels.schedule import WEEKDAYS
from paperbot.core.errors import ParseError

DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = re.compile(r"^(\d{1,2})(?::|h|\.)?(\d{2})?\s*(am|pm)?$", re.IGNORECASE)


def parse_time(text: str) -> time:
    match = _TIME.match(text.strip())
    if not match:
        raise ParseError(f"`{text[:20]}` is not a time. Use 24-hour HH:MM, e.g. 09:00 or 17:30.")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    meridiem = (match.group(3) or "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            raise ParseError(f"`{text[:20]}` is not a time. Use e.g. 9am or 09:00.")
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ParseError(f"`{text[:20]}` is not a time. Use 24-hour HH:MM, e.g. 09:00 or 17:30.")
    return time(hour, minute)


def parse_zone(text: str) -> str:
    """An IANA zone name (CET, EST, Etc/GMT+5, europe/berlin...), see core.zones."""
    try:
        return zones.parse_zone(text)
    except zones.ZoneError as exc:
        raise ParseError(str(exc)) from None


def parse_days(text: str) -> str:
    """ "daily" | "weekdays" | "weekends" | "mon,wed,fri" (names or 3-letter prefixes);
    "weekly" is Mondays."""
    value = text.strip().lower()
    if value in ("daily", "everyday", "every-day", "all"):
        return "daily"
    if value == "weekly":
        return "mon"
    if value in ("weekdays", "workdays", "mon-fri"):
        return "weekdays"
    if value in ("weekends", "weekend"):
        return "sat,sun"
    days: list[str] = []
    for part in re.split(r"[,\s]+", value):
        if not part:
            continue
        number = weekday_of(part)
        if number is None:
            raise ParseError(
                f"`{part[:20]}` is not a day. Use daily, weekdays, or days like mon,wed,fri."
            )
        day = WEEKDAYS[number]
        if day not in days:
            days.append(day)
    if not days:
        raise ParseError("Which days? Use daily, weekdays, or days like mon,wed,fri.")
    days.sort(key=WEEKDAYS.index)
    return "daily" if len(days) == 7 else ",".join(days)


def weekday_of(text: str) -> int | None:
    """The weekday (0 = Monday) a word names ("fri", "friday"), else None."""
    word = text.lower()
    day = word[:3]
    if len(word) >= 3 and day in WEEKDAYS and DAY_NAMES[WEEKDAYS.index(day)].startswith(word):
        return WEEKDAYS.index(day)
    return None


__all__ = ["DAY_NAMES", "parse_days", "parse_time", "parse_zone", "weekday_of"]
