"""Who may change a channel's digest (anyone may search)."""

from __future__ import annotations

from typing import Literal

from paperbot.core.commands import Caller

Mode = Literal["managers", "anyone"]


def may_change_channel(caller: Caller, mode: Mode) -> bool:
    """Platform admins, channel managers and allow-listed users; everyone in "anyone" mode.
    (The console's caller is an admin: it is the local operator's own terminal.)"""
    if mode == "anyone":
        return True
    return caller.is_admin or caller.can_manage_channel is True


def refusal(caller: Caller) -> str:
    """Why a change was refused, naming who may make it in the platform's words."""
    who = caller.managers or "admins"
    return f"Only {who} can change this channel's digest. Anyone can use `/papers search`."
