"""What a Slack button carries: a command as the button's `value` (JSON, <= 2,000), and back.

    {"cmd":"search","q":"diffusion models","p":2}     Next, Share in channel
    {"cmd":"more-like-this","paper":"2401.12345"}       More like this
    {"cmd":"trending"}                                  Share in channel
    {"cmd":"like","paper":"2401.12345"}                 👍 (also "dislike", "discuss")

The action_id says what a click does with the command (page in place, share, answer); the value
says which command. Values posted by paperbot 0.1 (the same JSON with spaces and \\u escapes)
read the same. Slack does not say how it counts the 2,000: counted here in UTF-8 bytes, the
strictest reading, and a query too long for that is cut at a whole character.
The buttons on one paper are action_ids paperbot_more_like_this, paperbot_like,
paperbot_dislike and paperbot_discuss, each with a {"cmd": ..., "paper": ...} value.
"""

from __future__ import annotations

import json
from typing import Any

from paperbot.adapters import buttons
from paperbot.adapters.buttons import ButtonCommand, StaleButton
from paperbot.core.commands import Command, Search, Trending

MAX_VALUE = 2000

ACTION_SHARE = "paperbot_share"
ACTION_NEXT = "paperbot_next"
ACTION_MORE = "paperbot_more_like_this"
ACTION_LIKE = "paperbot_like"
ACTION_DISLIKE = "paperbot_dislike"
ACTION_DISCUSS = "paperbot_discuss"
# The `cmd` of each command about one paper.
MORE_LIKE_THIS = "more-like-this"
_PAPER_MAKERS = buttons.paper_makers(MORE_LIKE_THIS)


def _dump(fields: dict[str, Any]) -> str:
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def fits(value: str) -> bool:
    return len(value.encode("utf-8", "surrogatepass")) <= MAX_VALUE


def encode(command: ButtonCommand) -> str:
    """The value of a button that runs `command` (always within Slack's limit)."""
    if isinstance(command, Search):
        query = buttons.cut_query(
            command.query, lambda q: fits(_dump({"cmd": "search", "q": q, "p": command.page}))
        )
        return _dump({"cmd": "search", "q": query, "p": command.page})
    if isinstance(command, Trending):
        return _dump({"cmd": "trending"})
    key = command.paper[: buttons.MAX_PAPER_CHARS]
    return _dump({"cmd": buttons.paper_name(command, MORE_LIKE_THIS), "paper": key})


def decode(value: str) -> Command:
    """The command a button's value runs, or StaleButton (an old, foreign or tampered value)."""
    try:
        fields = json.loads(value)
    except (ValueError, RecursionError):
        raise StaleButton from None
    if not isinstance(fields, dict):
        raise StaleButton
    name = fields.get("cmd")
    if name == "search":
        return buttons.search(fields.get("q"), fields.get("p"))
    if name == "trending":
        return Trending()
    if isinstance(name, str) and name in _PAPER_MAKERS:
        return buttons.paper(_PAPER_MAKERS[name], fields.get("paper"))
    raise StaleButton


__all__ = [
    "ACTION_DISCUSS",
    "ACTION_DISLIKE",
    "ACTION_LIKE",
    "ACTION_MORE",
    "ACTION_NEXT",
    "ACTION_SHARE",
    "MAX_VALUE",
    "decode",
    "encode",
    "fits",
]
