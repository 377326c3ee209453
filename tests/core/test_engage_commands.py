"""The engagement commands' grammar: taste, taste reset, roundup now / weekly / off; bad input."""

from __future__ import annotations

from datetime import time

import pytest

from paperbot.core import commands
from paperbot.core.commands import ParseError, Roundup, Taste, Vote, build, changes_channel, parse


def test_taste_and_its_reset_on_both_platforms() -> None:
    assert parse("taste") == Taste()
    assert parse("/papers taste reset") == Taste(reset=True)
    assert build("taste", "reset:true") == Taste(reset=True)  # Discord's option
    assert build("taste", "reset:false") == Taste()
    assert not changes_channel(Taste()) and changes_channel(Taste(reset=True))


def test_roundup_now_weekly_and_off() -> None:
    assert parse("roundup") == Roundup()
    assert parse("roundup off") == Roundup(action="off")
    assert parse("roundup weekly fri 16:00 Europe/Paris") == Roundup(
        "weekly", 4, time(16, 0), "Europe/Paris"
    )
    assert parse("roundup weekly friday 4pm") == Roundup("weekly", 4, time(16, 0), None)
    assert parse("roundup mon 09:30 utc") == Roundup("weekly", 0, time(9, 30), "UTC")
    assert all(changes_channel(r) for r in (Roundup(), Roundup(action="off")))
    assert not changes_channel(Vote("2401.00001", "like"))


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("taste please", "Usage: /papers taste"),
        ("roundup weekly", "Which day and time?"),
        ("roundup weekly fri", "Which day and time?"),
        ("roundup weekly fri 25:00", "is not a time"),
        ("roundup weekly fri 16:00 Mars/Olympus", "Mars/Olympus"),
        ("roundup weekly fri 16:00 UTC UTC", "is not a weekday, a time or a time zone"),
        ("roundup off now", "Usage: /papers roundup"),
        ("roundup fr 16:00", "is not a weekday"),
    ],
)
def test_bad_input_says_what_to_type(text: str, says: str) -> None:
    with pytest.raises(ParseError, match=says.replace("(", r"\(")):
        parse(text)


def test_help_mentions_taste_and_roundup() -> None:
    text = commands.help_text()
    assert "/papers taste" in text and "/papers roundup" in text
