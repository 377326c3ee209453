"""Persistent buttons: the views render.py's ButtonSpecs become, and the one DynamicItem that
answers every click on a paperbot id (decoded by buttons.py), before or after a restart."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import discord

from paperbot.adapters.discord import buttons
from paperbot.adapters.discord.commands import Runner


@dataclass(frozen=True)
class ButtonSpec:
    """A button as render.py describes it (views are only built where they are sent)."""

    kind: Literal["mlt", "next"]
    label: str
    custom_id: str


def build_view(specs: tuple[ButtonSpec, ...]) -> discord.ui.View | None:
    """A persistent view (no timeout, every item a DynamicItem) for these buttons."""
    if not specs:
        return None
    view = discord.ui.View(timeout=None)
    for spec in specs:
        style = (
            discord.ButtonStyle.primary if spec.kind == "next" else discord.ButtonStyle.secondary
        )
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=spec.label, style=style, custom_id=spec.custom_id
        )
        view.add_item(PaperbotButton(button))
    return view


def footer_of(message: discord.Message | None) -> str | None:
    """The footer of a message's last embed (where a long Next id keeps its query)."""
    if message is None or not message.embeds:
        return None
    return message.embeds[-1].footer.text


class PaperbotButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=buttons.TEMPLATE):
    """Any paperbot button: its command is decoded from the id when it is clicked."""

    def __init__(self, item: discord.ui.Button[Any], footer: str | None = None) -> None:
        super().__init__(item)
        self.footer = footer

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> PaperbotButton:
        button = discord.ui.Button[Any](custom_id=match.group(0))
        return cls(button, footer_of(interaction.message))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        host: Runner | None = getattr(interaction.client, "paperbot", None)
        if host is not None:  # always, on paperbot's own clients
            custom_id, footer = self.item.custom_id or "", self.footer
            # A button it cannot read (StaleButton) is answered "run the command again".
            await host.run(interaction, lambda: buttons.decode(custom_id, footer=footer), slow=True)
