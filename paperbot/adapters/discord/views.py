"""Persistent buttons ("More like this", "Next"): custom-id formats and their handlers.

The state lives in the custom id itself, so buttons keep working after a restart: the client
registers the DynamicItem classes once and discord.py matches every click against them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import discord

from paperbot.core.commands import (
    Command,
    MoreLikeThis,
    ParseError,
    Search,
    check_query,
    clean_text,
)

CUSTOM_ID_LIMIT = 100
# A digest part carries "|<tag>.<part>.<parts>" on its first button: find_posted reads it back.
MLT_TEMPLATE = re.compile(r"pb:mlt:(?P<paper>[^|]{1,80})(?:\|(?P<tag>[0-9a-z]{1,16}\.\d+\.\d+))?")
NEXT_TEMPLATE = re.compile(r"pb:next:(?P<page>\d{1,3})(?::(?P<query>.+))?")
# The footer of a search result's last embed; "Next" reads the query back from it when the
# query is too long for the custom id.
FOOTER_PREFIX = "search: "
_FOOTER = re.compile(r"^search: (?P<query>.+) · page \d+$")


@dataclass(frozen=True)
class ButtonSpec:
    """A button as render.py describes it (views are only built where they are sent)."""

    kind: Literal["mlt", "next"]
    label: str
    custom_id: str


class ButtonHost(Protocol):
    async def on_button(self, interaction: discord.Interaction[Any], command: Command) -> None: ...


def mlt_id(paper: str, tag: str | None = None) -> str:
    return f"pb:mlt:{paper[:80]}" + (f"|{tag}" if tag else "")


def next_id(page: int, query: str) -> str:
    custom_id = f"pb:next:{page}:{query}"
    return custom_id if len(custom_id) <= CUSTOM_ID_LIMIT else f"pb:next:{page}"


def footer_for(query: str, page: int) -> str:
    return f"{FOOTER_PREFIX}{query} · page {page}"


def query_from_message(message: discord.Message | None) -> str | None:
    """The search query shown in a result message's footer (plain text, no markdown)."""
    if message is None or not message.embeds:
        return None
    text = message.embeds[-1].footer.text or ""
    match = _FOOTER.match(text)
    return match.group("query") if match else None


def build_view(buttons: tuple[ButtonSpec, ...]) -> discord.ui.View | None:
    """A persistent view (no timeout, every item a DynamicItem) for these buttons."""
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for spec in buttons:
        style = (
            discord.ButtonStyle.primary if spec.kind == "next" else discord.ButtonStyle.secondary
        )
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=spec.label, style=style, custom_id=spec.custom_id
        )
        item_class = NextButton if spec.kind == "next" else MoreLikeThisButton
        view.add_item(item_class(button))
    return view


async def _forward(interaction: discord.Interaction[Any], command: Command | None) -> None:
    host = getattr(interaction.client, "paperbot", None)
    if host is None or command is None:
        await interaction.response.send_message(
            "This button has expired. Run `/papers search` again.",
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        return
    await host.on_button(interaction, command)


class MoreLikeThisButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=MLT_TEMPLATE):
    def __init__(self, item: discord.ui.Button[Any]) -> None:
        super().__init__(item)
        match = MLT_TEMPLATE.fullmatch(item.custom_id or "")
        self.paper = match.group("paper") if match else ""

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> MoreLikeThisButton:
        return cls(discord.ui.Button(label="More like this", custom_id=match.group(0)))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _forward(interaction, MoreLikeThis(paper=self.paper) if self.paper else None)


class NextButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=NEXT_TEMPLATE):
    def __init__(self, item: discord.ui.Button[Any], query: str | None = None) -> None:
        super().__init__(item)
        match = NEXT_TEMPLATE.fullmatch(item.custom_id or "")
        self.page = int(match.group("page")) if match else 1
        self.query = query or (match.group("query") if match else None)

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> NextButton:
        query = match.group("query") or query_from_message(interaction.message)
        return cls(discord.ui.Button(label="Next", custom_id=match.group(0)), query)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        command: Command | None = None
        if self.query and 1 <= self.page <= 50:
            try:
                command = Search(query=check_query(clean_text(self.query)), page=self.page)
            except ParseError:
                command = None
        await _forward(interaction, command)
