"""What a chat button may carry, shared by the Slack and Discord codecs: which commands, and the
checks every decoded one passes (an old, foreign or tampered button is a StaleButton).

Each platform's `buttons` module lays these commands out in its own format and size limit. A
new kind of button is one more command here and one more entry in each codec's table.
"""

from __future__ import annotations

from collections.abc import Callable

from paperbot.core.commands import (
    Command,
    Discuss,
    MoreLikeThis,
    ParseError,
    Search,
    Trending,
    Vote,
    clean_text,
)
from paperbot.core.limits import MAX_PAPER_REF_CHARS, MAX_QUERY_CHARS, SEARCH_PAGE

# The result pages a search has, and a paper reference's length (as the commands take them).
MAX_PAGE = SEARCH_PAGE.high
MAX_PAPER_CHARS = MAX_PAPER_REF_CHARS
STALE = "That button is out of date. Run the command again."

# What a button may carry; every other command is typed, never clicked.
ButtonCommand = Search | MoreLikeThis | Trending | Vote | Discuss
# What a "Share in channel" button may re-run (a result list).
BUTTON_COMMANDS = (Search, MoreLikeThis, Trending)
# Commands about one paper, built from its key.
PaperCommand = MoreLikeThis | Vote | Discuss


def like(key: str) -> Vote:
    return Vote(paper=key, value="like")


def dislike(key: str) -> Vote:
    return Vote(paper=key, value="dislike")


def paper_makers(more_like_this: str) -> dict[str, Callable[[str], Command]]:
    """Each command about one paper by its name in a button; each platform has its own name
    for "more like this" (Discord's ids are short)."""
    return {more_like_this: MoreLikeThis, "like": like, "dislike": dislike, "discuss": Discuss}


def paper_name(command: PaperCommand, more_like_this: str) -> str:
    """A command about one paper's name in a button (the inverse of paper_makers)."""
    if isinstance(command, Vote):
        return command.value
    return "discuss" if isinstance(command, Discuss) else more_like_this


class StaleButton(ParseError):
    """A button this release cannot read: answered "run the command again", nothing runs."""

    def __init__(self, text: str = STALE) -> None:
        super().__init__(text)


def search(query: object, page: object) -> Search:
    """A Search from a button's fields, or StaleButton."""
    # bool is an int to Python, not a page to us.
    if not isinstance(query, str) or not isinstance(page, int) or page not in SEARCH_PAGE:
        raise StaleButton
    text = clean_text(query)
    if not text or len(text) > MAX_QUERY_CHARS:
        raise StaleButton
    return Search(query=text, page=page)


def paper(make: Callable[[str], Command], key: object) -> Command:
    """A command about one paper (`make(key)`) from a button's key, or StaleButton."""
    if not isinstance(key, str):
        raise StaleButton
    text = clean_text(key).split(" ")[0][:MAX_PAPER_CHARS]
    if not text:
        raise StaleButton
    return make(text)


def cut_query(query: str, fits: Callable[[str], bool]) -> str:
    """The longest start of `query` that `fits` (whole characters, no trailing space): a button
    re-runs a query that long, never one its platform would refuse."""
    if fits(query):
        return query
    low, high = 0, len(query)
    while low < high:  # the longest prefix that fits: fits() only grows with the length
        mid = (low + high + 1) // 2
        if fits(query[:mid].rstrip()):
            low = mid
        else:
            high = mid - 1
    return query[:low].rstrip()


__all__ = [
    "BUTTON_COMMANDS",
    "MAX_PAGE",
    "MAX_PAPER_CHARS",
    "STALE",
    "ButtonCommand",
    "StaleButton",
    "cut_query",
    "dislike",
    "like",
    "paper",
    "paper_makers",
    "paper_name",
    "search",
]
