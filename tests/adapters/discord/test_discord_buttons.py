"""The Discord button codec: every command a button carries comes back from its custom_id
(within Discord's 100 characters, the footer holding a query too long for it), and every id
paperbot 0.1 posted still reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from button_commands import button_commands, paper_keys, searches
from hypothesis import given, settings
from hypothesis import strategies as st

from paperbot.adapters.buttons import ButtonCommand, StaleButton
from paperbot.adapters.discord import buttons
from paperbot.adapters.discord.buttons import Mark
from paperbot.core.commands import Discuss, MoreLikeThis, Search, Trending, Vote

POSTED = json.loads((Path(__file__).parent / "data" / "custom_ids_0.1.json").read_text())
marks = st.builds(
    Mark,
    tag=st.from_regex(r"\A[0-9a-f]{12}\Z"),
    part=st.integers(0, 24),
    parts=st.integers(1, 25),
)


def footer_for(command: ButtonCommand) -> str | None:
    """What render.py puts under a search result's last embed."""
    if isinstance(command, Search):
        return buttons.footer_for(command.query, command.page - 1)
    return None


@settings(max_examples=300, deadline=None)
@given(button_commands)
def test_every_button_command_comes_back_from_its_id(command: ButtonCommand) -> None:
    custom_id = buttons.encode(command)
    assert buttons.length(custom_id) <= buttons.LIMIT and len(custom_id) <= 100
    assert buttons.TEMPLATE.fullmatch(custom_id)
    assert buttons.decode(custom_id, footer=footer_for(command)) == command
    if buttons.length(f"pb:next:50:{getattr(command, 'query', '')}") <= buttons.LIMIT:
        assert buttons.decode(custom_id) == command  # short enough: the id alone says it all


@settings(max_examples=200, deadline=None)
@given(paper_keys, marks)
def test_a_digest_marker_rides_on_a_paper_button(key: str, mark: Mark) -> None:
    custom_id = buttons.encode(MoreLikeThis(key), mark=mark)
    assert buttons.length(custom_id) <= buttons.LIMIT
    assert buttons.decode(custom_id) == MoreLikeThis(key)
    assert buttons.mark_of(custom_id) == mark
    assert buttons.mark_of(buttons.encode(MoreLikeThis(key))) is None


@settings(max_examples=100, deadline=None)
@given(searches)
def test_a_long_query_moves_to_the_footer(command: Search) -> None:
    custom_id = buttons.encode(command)
    if custom_id == f"pb:next:{command.page}":
        assert buttons.length(f"pb:next:{command.page}:{command.query}") > buttons.LIMIT
        with pytest.raises(StaleButton):
            buttons.decode(custom_id)  # no footer (the message lost its embeds): out of date
    else:
        assert custom_id == f"pb:next:{command.page}:{command.query}"


@settings(max_examples=100, deadline=None)
@given(paper_keys)
def test_a_select_menu_names_the_action_and_its_option_the_paper(key: str) -> None:
    assert buttons.decode(buttons.select_id("like"), values=[key]) == Vote(key, "like")
    assert buttons.decode(buttons.select_id("dislike"), values=[key]) == Vote(key, "dislike")
    assert buttons.decode(buttons.select_id("discuss"), values=[key]) == Discuss(key)
    assert buttons.encode(Vote(key, "like")) == f"pb:like:{key}"  # the same as a button


@pytest.mark.parametrize(
    ("custom_id", "values"),
    [
        ("pb:like", []),
        ("pb:like", ["a", "b"]),
        ("pb:like", [""]),
        ("pb:love", ["2401.12345"]),
        ("pb:mlt:2401.12345", ["2401.12345"]),  # a button's id on a select menu
    ],
)
def test_a_choice_it_cannot_read_is_a_stale_button(custom_id: str, values: list[str]) -> None:
    with pytest.raises(StaleButton, match="That button is out of date"):
        buttons.decode(custom_id, values=values)


def test_ids_read_as_0_1_wrote_them() -> None:
    assert buttons.encode(Search("diffusion models", 2)) == "pb:next:2:diffusion models"
    assert buttons.encode(Search("q" * 200, 3)) == "pb:next:3"
    assert buttons.encode(MoreLikeThis("2401.12345")) == "pb:mlt:2401.12345"
    marked = buttons.encode(MoreLikeThis("2401.12345"), mark=Mark("3f9a0c12d4e7", 0, 2))
    assert marked == "pb:mlt:2401.12345|3f9a0c12d4e7.0.2"
    assert buttons.encode(Trending()) == "pb:trending"
    # A key too long for the id (never a stored one) is cut, and the id still fits and reads.
    cut = buttons.encode(MoreLikeThis("k" * 100), mark=Mark("3f9a0c12d4e7", 10, 12))
    assert len(cut) == 100 and buttons.decode(cut) == MoreLikeThis("k" * 74)


@pytest.mark.parametrize("posted", POSTED["ids"], ids=lambda p: p["custom_id"][:40])
def test_ids_posted_by_paperbot_0_1_still_read(posted: dict[str, str | None]) -> None:
    custom_id = str(posted["custom_id"])
    footer = None
    if posted["footer_query"] is not None:
        footer = buttons.footer_for(str(posted["footer_query"]), 1)
    assert repr(buttons.decode(custom_id, footer=footer)) == posted["command"]
    mark = buttons.mark_of(custom_id)
    assert (str(mark) if mark else None) == posted["mark"]


@pytest.mark.parametrize(
    "custom_id",
    [
        "pb:",
        "pb:frobnicate",
        "pb:love:2401.12345",  # a newer paperbot's button
        "pb:like",  # a select menu's id on a button: nothing chosen
        "pb:mlt:",
        "pb:mlt: ",
        "pb:mlt:a|b",
        "pb:next:0:x",
        "pb:next:51:x",
        "pb:next:1000:x",
        "pb:next:x:diffusion",
        "pb:next:2",  # the query is in a footer this message does not have
        "pb:next:2:   ",
        "pb:next:2:" + "q" * 501,
        "pb:trending:now",
    ],
)
def test_an_id_it_cannot_read_is_a_friendly_stale_button(custom_id: str) -> None:
    with pytest.raises(StaleButton, match="That button is out of date"):
        buttons.decode(custom_id, footer="paperbot · 2026-11-27")


def test_the_footer_only_counts_when_the_id_has_no_query() -> None:
    footer = buttons.footer_for("other query", 1)
    assert buttons.decode("pb:next:2:diffusion", footer=footer) == Search("diffusion", 2)
    assert buttons.decode("pb:next:2", footer=footer) == Search("other query", 2)
