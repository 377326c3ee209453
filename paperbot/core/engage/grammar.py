"""The engagement commands' grammar: `/papers taste [reset]` and `/papers roundup ...`."""

from __future__ import annotations

from datetime import time

from paperbot.core.channels import zones
from paperbot.core.channels.when import parse_time, parse_zone, weekday_of
from paperbot.core.channels.zones import find_zone
from paperbot.core.commands import USAGE, Roundup, Taste
from paperbot.core.errors import ParseError


def taste(rest: str) -> Taste:
    """`reset`, `reset:true` (Discord's option as text) or nothing."""
    word = rest.lower().replace(" ", "").replace("=", ":")
    if word in ("", "reset:false", "reset:no"):
        return Taste()
    if word in ("reset", "reset:true", "reset:yes", "forget", "clear"):
        return Taste(reset=True)
    raise ParseError("Usage: " + USAGE["taste"])


def roundup(rest: str) -> Roundup:
    """Nothing or `now`; `off`; `[weekly] <day> <HH:MM> [zone]` in any order."""
    parts = [p for p in rest.split(" ") if p]
    if not parts or parts == ["now"]:
        return Roundup()
    if parts[0].lower() in ("off", "stop", "none"):
        if len(parts) > 1:
            raise ParseError("Usage: " + USAGE["roundup"])
        return Roundup(action="off")
    if parts[0].lower() == "weekly":
        parts = parts[1:]
    weekday: int | None = None
    at: time | None = None
    zone: str | None = None
    for part in parts:
        day = weekday_of(part)
        if day is not None and weekday is None:
            weekday = day
        elif at is None and part[:1].isdigit():
            at = parse_time(part)
        elif zone is None and (found := find_zone(part)) is not None:
            zone = found
        elif zone is None and ("/" in part or zones.OFFSET.match(part)):
            zone = parse_zone(part)  # raises, saying what is wrong with the zone
        else:
            raise ParseError(
                f"`{part[:20]}` is not a weekday, a time or a time zone. Usage: " + USAGE["roundup"]
            )
    if weekday is None or at is None:
        raise ParseError(
            "Which day and time? e.g. `/papers roundup weekly fri 16:00 Europe/Paris`."
        )
    return Roundup(action="weekly", weekday=weekday, at=at, zone=zone)
