"""What a Discord button carries: a command in its custom_id (<= 100 characters), and back.

    pb:next:2:diffusion models     Next (page 2 of the query)
    pb:next:3                      Next, the query too long for the id: the message's footer
                                   ("search: <query> · page 2") holds it
    pb:mlt:2401.12345              More like this
    pb:mlt:2401.12345|3f9a0c12d4e7.0.2
                                   ... on a digest part's first button: the delivery's marker
                                   (tag, part, parts), read back from history by find_posted
    pb:trending                    Trending

The state lives in the id, so buttons keep working after a restart, and every id paperbot 0.1
posted reads the same. Lengths are counted in UTF-16 units, never fewer than Discord counts.
The next issue's buttons on one paper take pb:like:<key>, pb:dislike:<key>, pb:discuss:<key>.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from paperbot.adapters import buttons
from paperbot.adapters.buttons import ButtonCommand, StaleButton
from paperbot.core.commands import Command, MoreLikeThis, Search, Trending

LIMIT = 100
PREFIX = "pb:"
# Every id paperbot posts (the DynamicItem template): one we cannot read is answered, not dropped.
TEMPLATE = re.compile(r"pb:.+", re.DOTALL)
# The id part of each command about one paper.
PAPER_NAMES: dict[type[buttons.PaperCommand], str] = {MoreLikeThis: "mlt"}
_PAPER_TYPES = {name: kind for kind, name in PAPER_NAMES.items()}
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


def encode(command: ButtonCommand, *, mark: Mark | None = None) -> str:
    """The custom_id of a button that runs `command` (always within Discord's limit).

    `mark` goes on a paper button only (a paper key never holds "|")."""
    if isinstance(command, Search):
        custom_id = f"pb:next:{command.page}:{command.query}"
        return custom_id if length(custom_id) <= LIMIT else f"pb:next:{command.page}"
    if isinstance(command, Trending):
        return "pb:trending"
    head = f"pb:{PAPER_NAMES[type(command)]}:"
    tail = f"|{mark}" if mark is not None else ""
    room = min(buttons.MAX_PAPER_CHARS, LIMIT - length(head) - length(tail))
    return head + command.paper.replace("|", "")[:room] + tail


def decode(custom_id: str, *, footer: str | None = None) -> Command:
    """The command a button's id runs, or StaleButton. `footer`: the text of the message's last
    embed footer, where a Next button too long for its id keeps the query."""
    if match := _NEXT.fullmatch(custom_id):
        query = match.group("query") or query_from_footer(footer)
        return buttons.search(query, int(match.group("page")))
    if custom_id == "pb:trending":
        return Trending()
    match = _PAPER.fullmatch(custom_id)
    if match and match.group("name") in _PAPER_TYPES:
        return buttons.paper(_PAPER_TYPES[match.group("name")], match.group("paper"))
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
    "TEMPLATE",
    "Mark",
    "decode",
    "encode",
    "footer_for",
    "length",
    "mark_of",
    "query_from_footer",
]
