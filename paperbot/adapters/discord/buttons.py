"""What a Discord button carries: a command in its custom_id (<= 100 characters), and back.

    pb:next:2:diffusion models     Next (page 2 of the query)
    pb:next:3                      Next, the query too long for the id: the message's footer
                                   ("search: <query> · page 2") holds it
    pb:mlt:2401.12345              More like this
    pb:mlt:2401.12345|3f9a0c12d4e7.0.2
                                   ... on a digest part's first button: the delivery's marker
                                   (tag, part, parts), read back from history by find_posted
    pb:trending                    Trending
    pb:like  pb:dislike  pb:discuss
                                   A digest part's select menus (one per action): the chosen
                                   option's value is the paper key
    pb:like:2401.12345             ... the same as a button on one paper (also dislike, discuss)

The state lives in the id (or the option), so components keep working after a restart, and
every id paperbot 0.1 posted reads the same. Lengths are counted in UTF-16 units, never fewer
than Discord counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from paperbot.adapters import buttons
from paperbot.adapters.buttons import ButtonCommand, StaleButton
from paperbot.core.commands import Command, Search, Trending

LIMIT = 100
PREFIX = "pb:"
# Every id paperbot posts (the DynamicItem template): one we cannot read is answered, not dropped.
TEMPLATE = re.compile(r"pb:.+", re.DOTALL)
# The id part of each command about one paper.
MORE_LIKE_THIS = "mlt"
_PAPER_MAKERS = buttons.paper_makers(MORE_LIKE_THIS)
# What a digest part's select menus do (their ids are pb:<action>).
SelectAction = Literal["like", "dislike", "discuss"]
SELECT_ACTIONS: tuple[SelectAction, ...] = ("like", "dislike", "discuss")
_PAPER = re.compile(
    r"pb:(?P<name>[a-z]+):(?P<paper>[^|]{1,100})(?:\|(?P<mark>[0-9a-z]{1,16}\.\d{1,4}\.\d{1,4}))?"
)
_NEXT = re.compile(r"pb:next:(?P<page>\d{1,3})(?::(?P<query>.+))?", re.DOTALL)
FOOTER_PREFIX = "search: "
_FOOTER = re.compile(r"^search: (?P<query>.+) · page \d+$", re.DOTALL)


@dataclass(frozen=True)
class Mark:
    """Which delivery posted a message, and which of its parts it is."""

    tag: str
    part: int
    parts: int

    def __str__(self) -> str:
        return f"{self.tag}.{self.part}.{self.parts}"


def length(custom_id: str) -> int:
    return len(custom_id.encode("utf-16-le", "surrogatepass")) // 2


def select_id(action: SelectAction) -> str:
    """The custom_id of a digest part's select menu for `action`."""
    return f"{PREFIX}{action}"


def encode(command: ButtonCommand, *, mark: Mark | None = None) -> str:
    """The custom_id of a button that runs `command` (always within Discord's limit).

    `mark` goes on a paper button only (a paper key never holds "|")."""
    if isinstance(command, Search):
        custom_id = f"pb:next:{command.page}:{command.query}"
        return custom_id if length(custom_id) <= LIMIT else f"pb:next:{command.page}"
    if isinstance(command, Trending):
        return "pb:trending"
    head = f"pb:{buttons.paper_name(command, MORE_LIKE_THIS)}:"
    tail = f"|{mark}" if mark is not None else ""
    room = min(buttons.MAX_PAPER_CHARS, LIMIT - length(head) - length(tail))
    return head + command.paper.replace("|", "")[:room] + tail


def decode(
    custom_id: str, *, footer: str | None = None, values: list[str] | None = None
) -> Command:
    """The command a component's id runs, or StaleButton. `footer`: the text of the message's
    last embed footer, where a Next button too long for its id keeps the query. `values`: what
    was chosen in a select menu."""
    action = custom_id.removeprefix(PREFIX)
    if values is not None or action in SELECT_ACTIONS:
        if action not in SELECT_ACTIONS or not values or len(values) != 1:
            raise StaleButton
        return buttons.paper(_PAPER_MAKERS[action], values[0])
    if match := _NEXT.fullmatch(custom_id):
        query = match.group("query") or query_from_footer(footer)
        return buttons.search(query, int(match.group("page")))
    if custom_id == "pb:trending":
        return Trending()
    match = _PAPER.fullmatch(custom_id)
    if match and match.group("name") in _PAPER_MAKERS:
        return buttons.paper(_PAPER_MAKERS[match.group("name")], match.group("paper"))
    raise StaleButton


def mark_of(custom_id: str) -> Mark | None:
    """The delivery marker a digest part's first button carries, if this id has one."""
    match = _PAPER.fullmatch(custom_id)
    if match is None or match.group("mark") is None:
        return None
    tag, part, parts = match.group("mark").split(".")
    return Mark(tag, int(part), int(parts))


def footer_for(query: str, page: int) -> str:
    """The footer of a search result's last embed: the query a long Next id leaves out."""
    return f"{FOOTER_PREFIX}{query} · page {page}"


def query_from_footer(text: str | None) -> str | None:
    match = _FOOTER.match(text or "")
    return match.group("query") if match else None


__all__ = [
    "LIMIT",
    "SELECT_ACTIONS",
    "TEMPLATE",
    "Mark",
    "SelectAction",
    "decode",
    "encode",
    "footer_for",
    "length",
    "mark_of",
    "query_from_footer",
    "select_id",
]
