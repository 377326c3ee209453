"""Time zone names as people type them: every IANA name, any case where that is unambiguous."""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from paperbot.core.errors import UserError


class ZoneError(UserError):
    """Input we cannot act on; the message is shown to the user as is."""


# Files in a tz folder that are not zone names.
_NOT_ZONES = frozenset({"localtime", "posixrules", "factory"})
OFFSET = re.compile(r"^(?:utc|gmt)\s*([+-])\s*(\d{1,2})(?::?00)?$", re.IGNORECASE)
ZONE_HINT = "Use an IANA name such as Europe/Berlin, America/New_York, Asia/Tokyo, CET or UTC."


@lru_cache(maxsize=1)
def _zones() -> dict[str, tuple[str, ...]]:
    """Every IANA zone name, by its lower-case form (names that differ only in case: all)."""
    names: dict[str, list[str]] = {}
    for zone in available_timezones():
        if zone.lower() not in _NOT_ZONES:
            names.setdefault(zone.lower(), []).append(zone)
    return {key: tuple(sorted(found)) for key, found in names.items()}


def zone_or_utc(name: str | None) -> ZoneInfo:
    """A stored zone, else UTC: a zone tzdata dropped must not break a title or a date."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, LookupError, OSError):
        return ZoneInfo("UTC")


def zone_names() -> tuple[str, ...]:
    """Every zone name `parse_zone` accepts as written, sorted."""
    return tuple(sorted({"UTC", *(name for names in _zones().values() for name in names)}))


def find_zone(text: str) -> str | None:
    """The IANA zone name `text` spells (any case, where that is unambiguous), or None."""
    name = text.strip()
    if name.upper() in ("UTC", "GMT", "Z"):
        return "UTC"
    found = _zones().get(name.lower(), ())
    zone = name if name in found else found[0] if len(found) == 1 else None
    if zone is None:
        return None
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return zone


def parse_zone(text: str) -> str:
    """An IANA zone name (CET, EST, Etc/GMT+5, europe/berlin...) or a ZoneError saying why."""
    zone = find_zone(text)
    if zone is not None:
        return zone
    name = text.strip()[:40]
    found = _zones().get(name.lower(), ())
    if len(found) > 1:
        raise ZoneError(f"`{name}` could be {' or '.join(found)}: write it exactly.")
    offset = OFFSET.match(name)
    if offset is not None:
        # POSIX signs are inverted in the Etc zones: Etc/GMT-5 is five hours ahead of UTC.
        inverted = "-" if offset.group(1) == "+" else "+"
        raise ZoneError(
            f"`{name}` is an offset, not a zone name: use Etc/GMT{inverted}{int(offset.group(2))}"
            " (its sign is inverted), or a city's zone such as Asia/Kolkata."
        )
    raise ZoneError(f"`{name}` is not a time zone I know. {ZONE_HINT}")


__all__ = ["OFFSET", "ZONE_HINT", "ZoneError", "find_zone", "parse_zone", "zone_names"]
