"""Who may change a channel's digest (anyone may search)."""

from __future__ import annotations

from typing import Literal

from paperbot.core.commands import Caller

Mode = Literal["managers", "anyone"]


def may_change_channel(caller: Caller, mode: Mode) -> bool:
    """Platform admins, channel managers and allow-listed users; everyone in "anyone" mode.

    The console is the local operator's own terminal, so it may always change its channel.
    """
    if caller.platform == "console" or mode == "anyone":
        return True
    return caller.is_admin or caller.can_manage_channel is True


def refusal(caller: Caller) -> str:
    if caller.platform == "discord":
        return (
            "Only members who can *Manage Channels* here (or server admins) can change this"
            " channel's digest. Anyone can use `/papers search`."
        )
    return (
        "Only workspace admins and owners (or users on paperbot's admin list) can change this"
        " channel's digest. Anyone can use `/papers search`."
    )
