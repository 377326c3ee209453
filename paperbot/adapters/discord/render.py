"""Pure rendering of the core's Digest and Reply into Discord messages within Discord's limits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import discord
from discord.utils import escape_markdown

from paperbot.adapters.discord import buttons
from paperbot.adapters.discord.buttons import Mark
from paperbot.adapters.discord.views import MAX_ROWS, ButtonSpec, SelectSpec, rows_needed
from paperbot.core.commands import MoreLikeThis, Search
from paperbot.core.messages import Digest, PaperCard, Reply
from paperbot.core.printable import printable

CONTENT_LIMIT = 2000
EMBEDS_PER_MESSAGE = 10
EMBED_CHARS_PER_MESSAGE = 6000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FOOTER_LIMIT = 2048
URL_LIMIT = 2048
OPTION_LIMIT = 100
# A digest part's select menus, one row each (beside at most two rows of "More like #n").
FEEDBACK_MENUS: tuple[tuple[buttons.SelectAction, str], ...] = (
    ("like", "👍 More like this one…"),
    ("dislike", "👎 Fewer like this one…"),
    ("discuss", "💬 Discuss one in a thread…"),
)
COLOUR = discord.Colour(0x5865F2)
# Every message goes out with this: third-party text and echoed user text ping nobody.
NO_MENTIONS = discord.AllowedMentions.none()


_EVERYONE = re.compile(r"@(everyone|here)")
_MENTION = re.compile(r"<([@#][!&]?)(\d+)>")


@dataclass(frozen=True)
class Part:
    """One Discord message: content, up to 10 embeds, buttons and select menus."""

    content: str | None
    embeds: tuple[discord.Embed, ...] = ()
    buttons: tuple[ButtonSpec, ...] = ()
    selects: tuple[SelectSpec, ...] = ()


def defuse(text: str) -> str:
    """Printable text with mention syntax broken by a zero-width space (allowed_mentions
    already stops pings)."""
    text = printable(text, multiline=True)
    return _MENTION.sub("<\\1\u200b\\2>", _EVERYONE.sub("@\u200b\\1", text))


def safe(text: str) -> str:
    """Third-party or user text shown as is: printable, no markdown effects, no mentions."""
    return defuse(escape_markdown(" ".join(printable(text).split())))


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def safe_url(url: str | None) -> str | None:
    """An http(s) URL Discord will accept, or None (a bad URL fails the whole message)."""
    if not url or len(url) > URL_LIMIT or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    # Parentheses would end a markdown link early.
    return url.replace("(", "%28").replace(")", "%29")


def signals_line(card: PaperCard) -> str:
    bits = list(card.signals())
    if card.published:
        bits.append(card.published.isoformat())
    if card.categories:
        bits.append(safe(", ".join(card.categories[:3])))
    return " · ".join(bits)


def links_line(card: PaperCard) -> str:
    named = [
        ("Abstract", card.url),
        ("PDF", card.pdf_url),
        ("Code", card.code_url),
        ("Project", card.project_url),
    ]
    return " · ".join(f"[{name}]({url})" for name, u in named if (url := safe_url(u)))


def paper_embed(card: PaperCard, number: int) -> discord.Embed:
    """One paper: linked title, authors, signals, why, short summary, links, thumbnail."""
    lines = []
    if card.authors:
        lines.append("*" + clip(safe(card.short_authors()), 300) + "*")
    if signals := signals_line(card):
        lines.append(signals)
    if card.why:
        lines.append("> " + clip(safe(card.why), 300))
    if card.summary:
        lines.append(clip(safe(card.summary), 1200))
    if links := links_line(card):
        lines.append(links)
    embed = discord.Embed(
        title=clip(f"{number}. {safe(card.title)}", TITLE_LIMIT),
        url=safe_url(card.url),
        description=clip("\n".join(lines), DESCRIPTION_LIMIT),
        colour=COLOUR,
    )
    if thumbnail := safe_url(card.thumbnail):
        embed.set_thumbnail(url=thumbnail)
    return embed


def pack(embeds: list[discord.Embed]) -> list[list[discord.Embed]]:
    """Group embeds into messages of <= 10 embeds and <= 6000 embed characters."""
    groups: list[list[discord.Embed]] = []
    size = 0
    for embed in embeds:
        if (
            not groups
            or len(groups[-1]) == EMBEDS_PER_MESSAGE
            or size + len(embed) > (EMBED_CHARS_PER_MESSAGE)
        ):
            groups.append([])
            size = 0
        groups[-1].append(embed)
        size += len(embed)
    return groups


def split_text(text: str, limit: int = CONTENT_LIMIT) -> list[str]:
    """Split at line breaks into chunks of <= limit characters (hard-cut very long lines)."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current)
    return chunks


def option_label(number: int, card: PaperCard) -> str:
    """A select option: the paper's number in the digest and its title (plain text)."""
    title = " ".join(printable(card.title).split()) or "(untitled)"
    return clip(f"#{number} {title}", OPTION_LIMIT)


def feedback_menus(cards: tuple[PaperCard, ...], first: int) -> tuple[SelectSpec, ...]:
    """Like, dislike and discuss for the papers of one message (numbered from `first`): one
    select menu per action, an option per paper, so ten papers fit in Discord's five rows."""
    options = tuple(
        (option_label(first + i, card), card.key[: buttons.LIMIT]) for i, card in enumerate(cards)
    )
    return tuple(
        SelectSpec(buttons.select_id(action), placeholder, options)
        for action, placeholder in FEEDBACK_MENUS
    )


def _more_like(card: PaperCard, mark: Mark | None) -> str:
    return buttons.encode(MoreLikeThis(paper=card.arxiv_id or card.key), mark=mark)


def _paper_parts(
    content: list[str],
    cards: tuple[PaperCard, ...],
    *,
    footer: str | None = None,
    next_button: ButtonSpec | None = None,
    tag: str | None = None,
    feedback: bool = False,
) -> list[Part]:
    embeds = [paper_embed(card, i) for i, card in enumerate(cards, 1)]
    if footer and embeds:
        embeds[-1].set_footer(text=clip(footer, FOOTER_LIMIT))
    groups = pack(embeds)
    texts: list[str | None] = list(content)
    parts: list[Part] = [Part(text) for text in texts[:-1]]
    last_text = texts[-1] if texts else None
    if not groups:
        return [*parts, Part(last_text, (), (next_button,) if next_button else ())]
    start = 0
    for index, group in enumerate(groups):
        # The first button of a digest part carries the delivery's marker (see platform.py).
        mark = Mark(tag, index, len(groups)) if tag is not None else None
        specs = [
            ButtonSpec("mlt", f"More like #{start + i + 1}", _more_like(card, None if i else mark))
            for i, card in enumerate(cards[start : start + len(group)])
        ]
        if next_button and index == len(groups) - 1:
            specs.append(next_button)
        shown = cards[start : start + len(group)]
        menus = feedback_menus(shown, start + 1) if feedback else ()
        if rows_needed(tuple(specs), menus) > MAX_ROWS:
            menus = ()  # never happens with <= 10 papers and no Next; buttons come first
        text = last_text if index == 0 else None
        parts.append(Part(text, tuple(group), tuple(specs), menus))
        start += len(group)
    return parts


def digest_parts(digest: Digest, tag: str | None = None) -> list[Part]:
    """A digest as messages; the header (title, notes, topics) is the first message's content.

    `tag` marks each part's first button so a post can be recognised later (see platform.py);
    the feedback select menus sit below the buttons and carry no marker.
    """
    header = [f"**{safe(digest.title)}**"]
    header += [f"*{safe(note)}*" for note in digest.notes]
    if digest.topics:
        header.append("Topics: " + ", ".join(f"`{safe(t)}`" for t in digest.topics))
    if not digest.papers:
        header.append("No new papers match this channel's topics today.")
    footer = f"paperbot · {digest.generated_at:%Y-%m-%d}"
    return _paper_parts(
        split_text("\n".join(header)), digest.papers, footer=footer, tag=tag, feedback=True
    )


def reply_parts(reply: Reply) -> list[Part]:
    """A command's answer as messages (the caller decides whether they are ephemeral)."""
    # Core text may echo user input: mention syntax is defused even though nothing can ping.
    lines = [defuse(reply.text)] if reply.text else []
    lines += [f"*{defuse(note)}*" for note in reply.notes]
    if not lines and not reply.papers:
        lines = ["Nothing to show."]
    content = split_text("\n".join(lines)) if lines else []
    footer = next_button = None
    if reply.next_page is not None:
        query, page = reply.next_page.query, reply.next_page.page
        footer = buttons.footer_for(query, page - 1)
        next_button = ButtonSpec("next", "Next", buttons.encode(Search(query=query, page=page)))
    return _paper_parts(content, reply.papers, footer=footer, next_button=next_button)
