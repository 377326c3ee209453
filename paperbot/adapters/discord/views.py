"""Persistent components: the views render.py's ButtonSpecs and SelectSpecs become, and the one
DynamicItem that answers every click or choice on a paperbot id (decoded by buttons.py), before
or after a restart."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import discord

from paperbot.adapters.discord import buttons
from paperbot.adapters.discord.commands import Runner
from paperbot.core.commands import Command, ParseError, Vote

# Discord's limits on a message's components.
MAX_ROWS = 5
BUTTONS_PER_ROW = 5


@dataclass(frozen=True)
class ButtonSpec:
    """A button as render.py describes it (views are only built where they are sent)."""

    kind: Literal["mlt", "next"]
    label: str
    custom_id: str


@dataclass(frozen=True)
class SelectSpec:
    """A select menu (one row): its id, placeholder, and (label, value) options."""

    custom_id: str
    placeholder: str
    options: tuple[tuple[str, str], ...]


def rows_needed(buttons: tuple[ButtonSpec, ...], selects: tuple[SelectSpec, ...]) -> int:
    return -(-len(buttons) // BUTTONS_PER_ROW) + len(selects)


def build_view(
    specs: tuple[ButtonSpec, ...], selects: tuple[SelectSpec, ...] = ()
) -> discord.ui.View | None:
    """A persistent view (no timeout, every item a DynamicItem): the buttons in rows of five,
    then one row per select menu."""
    if not specs and not selects:
        return None
    view = discord.ui.View(timeout=None)
    for spec in specs:
        style = (
            discord.ButtonStyle.primary if spec.kind == "next" else discord.ButtonStyle.secondary
        )
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=spec.label, style=style, custom_id=spec.custom_id
        )
        view.add_item(PaperbotComponent(button))
    for menu in selects:
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=menu.custom_id,
            placeholder=menu.placeholder,
            options=[
                discord.SelectOption(label=label, value=value) for label, value in menu.options
            ],
        )
        view.add_item(PaperbotComponent(select))
    return view


def footer_of(message: discord.Message | None) -> str | None:
    """The footer of a message's last embed (where a long Next id keeps its query)."""
    if message is None or not message.embeds:
        return None
    return message.embeds[-1].footer.text


def chosen(interaction: discord.Interaction[Any]) -> list[str] | None:
    """What was chosen in a select menu (None for a button)."""
    data: dict[str, Any] = dict(interaction.data or {})
    values = data.get("values")
    if data.get("component_type") != discord.ComponentType.string_select.value:
        return None
    return [str(v) for v in values] if isinstance(values, list) else []


class PaperbotComponent(discord.ui.DynamicItem[discord.ui.Item[Any]], template=buttons.TEMPLATE):
    """Any paperbot button or select menu: its command is decoded from the id (and the chosen
    option) when it is used."""

    def __init__(self, item: discord.ui.Item[Any], footer: str | None = None) -> None:
        super().__init__(item)
        self.footer = footer

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> PaperbotComponent:
        fresh: discord.ui.Item[Any]
        if isinstance(item, discord.ui.Select):
            fresh = discord.ui.Select[Any](custom_id=match.group(0))
        else:
            fresh = discord.ui.Button[Any](custom_id=match.group(0))
        return cls(fresh, footer_of(interaction.message))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        host: Runner | None = getattr(interaction.client, "paperbot", None)
        if host is None:  # never, on paperbot's own clients
            return
        custom_id, footer, values = self.custom_id or "", self.footer, chosen(interaction)

        decoded: Command | ParseError
        try:
            decoded = buttons.decode(custom_id, footer=footer, values=values)
        except ParseError as exc:  # StaleButton: answered "run the command again"
            decoded = exc

        def build() -> Command:
            if isinstance(decoded, ParseError):
                raise decoded
            return decoded

        # A vote (or a stale button) is answered at once, not deferred.
        await host.run(interaction, build, slow=not isinstance(decoded, Vote | ParseError))
