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
    if days == list(WEEKDAYS[:5]):
        return "weekdays"
    return "daily" if len(days) == 7 else ",".join(days)


def weekday_of(text: str) -> int | None:
    """The weekday (0 = Monday) a word names ("fri", "friday"), else None."""
    word = text.lower()
    day = word[:3]
    if len(word) >= 3 and day in WEEKDAYS and DAY_NAMES[WEEKDAYS.index(day)].startswith(word):
        return WEEKDAYS.index(day)
    return None


# Words people put between the parts of a schedule ("every monday at 9am").
SCHEDULE_FILLERS = frozenset({"at", "on", "every", "each", "and"})


def parse_schedule(text: str) -> tuple[time | None, str | None, str | None]:
    """(time, zone, days) of `/papers schedule`, each optional and in any order (as
    /papers roundup takes them): `09:00 Europe/Paris mon,thu`, `mon thu 9am`, `weekly`
    (Mondays). None: not given (the channel keeps what it has)."""
    at: time | None = None
    zone: str | None = None
    days: list[str] = []
    weekly = False
    for part in (p.strip(",") for p in text.split()):
        word = part.lower()
        if not part or word in SCHEDULE_FILLERS:
            continue
        if word == "weekly":
            weekly = True
        elif (found := zones.find_zone(part)) is not None:
            if zone is not None:
                raise ParseError("Give one time zone, e.g. Europe/Berlin.")
            zone = found
        elif part[:1].isdigit() and not zones.OFFSET.match(part):
            if at is not None:
                raise ParseError("Give one time, e.g. `/papers schedule 09:00 Europe/Paris`.")
            at = parse_time(part)
        elif "/" in part or zones.OFFSET.match(part):
            zone = parse_zone(part)  # raises, saying what is wrong with the zone
        else:
            try:
                days.append(parse_days(part))
            except ParseError:
                raise ParseError(
                    f"`{part[:20]}` is not a day, a time or a time zone. Days: daily, weekdays,"
                    " weekly or mon,wed,fri. Zones: IANA names such as Europe/Berlin, CET or UTC."
                ) from None
    return at, zone, _days(days, weekly=weekly)


def _days(values: list[str], *, weekly: bool) -> str | None:
    """Day words read apart ("mon", "thu" or "weekdays", "sat") as one days value; `weekly`
    alone means Mondays."""
    if not values:
        return "mon" if weekly else None
    if len(values) == 1:
        return values[0]
    spelled = {"daily": ",".join(WEEKDAYS), "weekdays": ",".join(WEEKDAYS[:5])}
    return parse_days(",".join(spelled.get(v, v) for v in values))


__all__ = ["DAY_NAMES", "parse_days", "parse_schedule", "parse_time", "parse_zone", "weekday_of"]
