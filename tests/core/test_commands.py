"""The command grammar: every text gets a Command or a friendly ParseError, never a traceback."""

from __future__ import annotations

import contextlib
import random
import re
from datetime import time

import pytest

from paperbot.core import commands as c
from paperbot.core.channels.zones import zone_names


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("search diffusion models", c.Search("diffusion models")),
        ("/papers search diffusion models 2", c.Search("diffusion models 2", 1)),
        ("/papers search gpt 4", c.Search("gpt 4", 1)),
        ("/papers search vit p2", c.Search("vit p2", 1)),
        ("search llm page:3", c.Search("llm", 3)),
        ("search page:2 equivariance", c.Search("equivariance", 2)),
        ('search "see page:2" llm', c.Search('"see page:2" llm', 1)),
        ("search gpt 4", c.Search("gpt 4", 1)),
        ("search x page:²", c.Search("x page:²", 1)),
        ('search "state space" -mamba', c.Search('"state space" -mamba')),
        ("find rlhf", c.Search("rlhf")),
        ("more-like-this 2606.00467v2", c.MoreLikeThis("2606.00467v2")),
        ("trending", c.Trending()),
        ("subscribe diffusion   models", c.Subscribe("diffusion models")),
        ("unsubscribe all", c.Unsubscribe("all")),
        ("list", c.ListSettings()),
        ("schedule 9:30", c.Schedule(time(9, 30))),
        (
            "schedule 17:05 Europe/Berlin weekdays",
            c.Schedule(time(17, 5), "Europe/Berlin", "weekdays"),
        ),
        (
            "schedule 8am mon,wed,FRI america/new_york",
            c.Schedule(time(8), "America/New_York", "mon,wed,fri"),
        ),
        ("schedule 21:00 UTC monday,tuesday", c.Schedule(time(21), "UTC", "mon,tue")),
        ("size 7", c.Size(7)),
        ("digest", c.DigestNow()),
        ("pause", c.Pause()),
        ("resume", c.Resume()),
        ("", c.Help()),
        ("help schedule", c.Help("schedule")),
    ],
)
def test_parse(text: str, expected: c.Command) -> None:
    assert c.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("frobnicate", "Unknown command"),
        ("search", "What should I search for"),
        ("search " + "x" * 10_000, "keep it under 500"),
        ("schedule 25:00", "not a time"),
        ("schedule 9:00 Mars/Olympus", "not a time zone"),
        ("schedule 9:00 Europe/Berlin someday", "not a day"),
        ("schedule", "When?"),
        ("size 0", "1 to 20"),
        ("size lots", "1 to 20"),
        ("size ²", "1 to 20"),  # a digit int() cannot read once raised ValueError
        ("subscribe", "Which topic"),
        ("subscribe " + "y" * 300, "at most 200"),
        ("unsubscribe", "Which topic"),
        ("more-like-this", "Which paper"),
    ],
)
def test_bad_input_gets_friendly_message(text: str, message: str) -> None:
    with pytest.raises(c.ParseError, match=message):
        c.parse(text)


def test_unknown_command_echo_is_short() -> None:
    with pytest.raises(c.ParseError) as err:
        c.parse("x" * 5000)
    assert len(str(err.value)) < 100


def test_thousands_of_messy_lines_never_raise_anything_else() -> None:
    rng = random.Random(7)
    specials = ["/papers ", "schedule ", "size "]
    alphabet = [*"abc xyz:\"'()-*@<>!&^#\\/\t\n\x00\x1b😀AND(OR", *specials]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        with contextlib.suppress(c.ParseError):
            c.parse(text)


@pytest.mark.parametrize(
    ("text", "zone", "days"),
    [
        ("schedule 09:00 CET", "CET", None),
        ("schedule 09:00 cet weekdays", "CET", "weekdays"),
        ("schedule 9am EST mon,wed", "EST", "mon,wed"),
        ("schedule 09:00 weekdays Etc/GMT+5", "Etc/GMT+5", "weekdays"),
        ("schedule 09:00 etc/gmt-14", "Etc/GMT-14", None),
        ("schedule 09:00 europe/BERLIN", "Europe/Berlin", None),
        ("schedule 09:00 America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires", None),
        ("schedule 09:00 Japan daily", "Japan", "daily"),
        ("schedule 09:00 zulu", "Zulu", None),
        ("schedule 09:00 gmt", "UTC", None),
    ],
)
def test_schedule_takes_every_iana_zone_name(text: str, zone: str, days: str | None) -> None:
    assert c.parse(text) == c.Schedule(time(9), zone, days)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("schedule weekly mon 09:00 Europe/Paris", c.Schedule(time(9), "Europe/Paris", "mon")),
        ("schedule mon 9am", c.Schedule(time(9), None, "mon")),
        ("schedule every thursday at 17:30 CET", c.Schedule(time(17, 30), "CET", "thu")),
        ("schedule weekly thu", c.Schedule(None, None, "thu")),
        ("schedule weekly", c.Schedule(None, None, "mon")),
        ("schedule weekdays", c.Schedule(None, None, "weekdays")),
        ("schedule Asia/Tokyo", c.Schedule(None, "Asia/Tokyo", None)),
        ("schedule 08:00 mon, thu", c.Schedule(time(8), None, "mon,thu")),
        ("schedule 08:00 mon tue wed thu fri", c.Schedule(time(8), None, "weekdays")),
        ("schedule weekdays sat 8:00", c.Schedule(time(8), None, "mon,tue,wed,thu,fri,sat")),
    ],
)
def test_schedule_parts_come_in_any_order_and_each_is_optional(
    text: str, expected: c.Command
) -> None:
    """As /papers roundup takes them: people write "mon 9am" as often as "09:00 mon"."""
    assert c.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("schedule 09:00 10:00", "one time"),
        ("schedule mon 25:00", "not a time"),
        ("schedule weekly someday 09:00", "not a day, a time or a time zone"),
    ],
)
def test_schedule_mistakes_in_any_order_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(c.ParseError, match=message):
        c.parse(text)


def test_every_zone_the_cli_accepts_chat_accepts_too() -> None:
    names = zone_names()
    assert len(names) > 500 and "localtime" not in names and "posixrules" not in names
    for name in names:
        zone = "UTC" if name in ("GMT", "UTC") else name
        assert c.parse_zone(name) == zone
        assert c.parse(f"schedule 10:00 {name}") == c.Schedule(time(10), zone)
        weekdays = c.parse(f"schedule 10:00 {name.lower()} weekdays")
        assert weekdays == c.Schedule(time(10), zone, "weekdays")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("schedule 09:00 UTC+5", "Etc/GMT-5"),
        ("schedule 09:00 gmt-3", "Etc/GMT+3"),
        ("schedule 09:00 localtime", "not a day, a time or a time zone"),
        ("schedule 09:00 CET EST", "one time zone"),
        ("schedule 09:00 Europe/Atlantis", "not a time zone I know"),
        ("schedule 09:00 ../../etc/passwd", "not a time zone I know"),
    ],
)
def test_zone_mistakes_get_a_helpful_line(text: str, message: str) -> None:
    with pytest.raises(c.ParseError, match=re.escape(message)):
        c.parse(text)


def test_chat_text_is_printable() -> None:
    assert c.parse("subscribe robots\x1b[31m \u202edrawkcab\ud800") == c.Subscribe(
        "robots drawkcab\ufffd"
    )
