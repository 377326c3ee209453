"""The Slack button codec: every command a button carries comes back from its value, within
Slack's 2,000 characters, and every value paperbot 0.1 posted still reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from button_commands import button_commands, pages, searches
from hypothesis import given, settings

from paperbot.adapters.buttons import ButtonCommand, StaleButton
from paperbot.adapters.slack import buttons
from paperbot.core.commands import Discuss, MoreLikeThis, ParseError, Search, Trending, Vote

POSTED = json.loads((Path(__file__).parent / "data" / "button_values_0.1.json").read_text())


@settings(max_examples=300, deadline=None)
@given(button_commands)
def test_every_button_command_comes_back_from_its_value(command: ButtonCommand) -> None:
    value = buttons.encode(command)
    assert buttons.fits(value) and len(value) <= buttons.MAX_VALUE
    back = buttons.decode(value)
    if back != command:  # only a query too long for 2,000 UTF-8 bytes is cut, at a character
        assert isinstance(command, Search) and isinstance(back, Search)
        assert back.page == command.page and command.query.startswith(back.query)
        assert len(json.dumps({"q": command.query}, ensure_ascii=False).encode()) > 1900


@settings(max_examples=50, deadline=None)
@given(pages)
def test_a_query_too_long_for_the_value_is_cut_and_still_runs(page: int) -> None:
    # 500 characters of 4 UTF-8 bytes each: 2,000 bytes before the JSON around them.
    command = Search("😀" * 499 + "x", page)
    value = buttons.encode(command)
    assert buttons.fits(value)
    back = buttons.decode(value)
    assert isinstance(back, Search) and back.page == page
    assert back.query and command.query.startswith(back.query)


def test_values_are_compact_json() -> None:
    assert buttons.encode(Search("diffusion models", 2)) == (
        '{"cmd":"search","q":"diffusion models","p":2}'
    )
    quoted = '{"cmd":"search","q":"say \\"hi\\" café","p":1}'
    assert buttons.encode(Search('say "hi" café', 1)) == quoted
    assert buttons.encode(MoreLikeThis("2401.12345")) == (
        '{"cmd":"more-like-this","paper":"2401.12345"}'
    )
    assert buttons.encode(Trending()) == '{"cmd":"trending"}'
    assert buttons.encode(Vote("2401.12345", "like")) == '{"cmd":"like","paper":"2401.12345"}'
    assert buttons.encode(Vote("2401.12345", "dislike")) == (
        '{"cmd":"dislike","paper":"2401.12345"}'
    )
    assert buttons.encode(Discuss("2401.12345")) == '{"cmd":"discuss","paper":"2401.12345"}'


@pytest.mark.parametrize("posted", POSTED["values"], ids=lambda p: p["value"][:40])
def test_values_posted_by_paperbot_0_1_still_read(posted: dict[str, str]) -> None:
    assert repr(buttons.decode(posted["value"])) == posted["command"]


@given(searches)
@settings(max_examples=50, deadline=None)
def test_a_search_reads_the_same_in_the_old_and_the_new_layout(command: Search) -> None:
    old = json.dumps({"cmd": "search", "q": command.query, "p": command.page})
    assert buttons.decode(old) == buttons.decode(buttons.encode(command)) == command


@pytest.mark.parametrize(
    "value",
    [
        "",
        "null",
        "[]",
        "{",
        "not json",
        '"search"',
        "{}",
        '{"cmd": "frobnicate"}',
        '{"cmd": "love", "paper": "2401.12345"}',  # a newer paperbot's button
        '{"cmd": "like"}',
        '{"cmd": "discuss", "paper": 12345}',
        '{"cmd": "search", "q": "x", "p": true}',
        '{"cmd": "search", "q": "x", "p": 0}',
        '{"cmd": "search", "q": "x", "p": 51}',
        '{"cmd": "search", "q": "x", "p": "2"}',
        '{"cmd": "search", "q": "", "p": 1}',
        '{"cmd": "search", "q": "   ", "p": 1}',
        '{"cmd": "search", "q": 7, "p": 1}',
        json.dumps({"cmd": "search", "q": "q" * 501, "p": 1}),
        '{"cmd": "more-like-this"}',
        '{"cmd": "more-like-this", "paper": ""}',
        '{"cmd": "more-like-this", "paper": ["2401.12345"]}',
        "[" * 100_000,
    ],
    ids=lambda v: v[:30],
)
def test_a_value_it_cannot_read_is_a_friendly_stale_button(value: str) -> None:
    with pytest.raises(StaleButton) as raised:
        buttons.decode(value)
    assert isinstance(raised.value, ParseError)
    assert str(raised.value) == "That button is out of date. Run the command again."


def test_decoding_cleans_what_a_tampered_value_carries() -> None:
    tampered = json.dumps({"cmd": "search", "q": "a\x1b[2J\u202eb\n c", "p": 3})
    assert buttons.decode(tampered) == Search("ab c", 3)
    long_key = json.dumps({"cmd": "more-like-this", "paper": "k" * 300})
    assert buttons.decode(long_key) == MoreLikeThis("k" * 100)
