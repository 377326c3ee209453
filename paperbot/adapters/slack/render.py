"""Pure Block Kit rendering of digests and replies, within Slack's limits, escaping all text."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from paperbot.adapters.buttons import BUTTON_COMMANDS
from paperbot.adapters.slack import buttons
from paperbot.adapters.slack.buttons import (
    ACTION_DISCUSS,
    ACTION_DISLIKE,
    ACTION_LIKE,
    ACTION_MORE,
    ACTION_NEXT,
    ACTION_SHARE,
)
from paperbot.core.commands import Command, Discuss, MoreLikeThis, Search, Vote
from paperbot.core.messages import Digest, PaperCard, Reply
from paperbot.core.printable import printable

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
# Slack refuses a message (msg_blocks_too_long) near 13k characters even when each block fits.
MAX_MESSAGE_CHARS = 11_000
MAX_FALLBACK = 1_000
MAX_URL = 400

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}

Block = dict[str, Any]


@dataclass(frozen=True)
class SlackMessage:
    """One Slack message: fallback text (always sent) and blocks."""

    text: str
    blocks: list[Block] = field(default_factory=list)
    # The paper keys this message shows (a digest part, a shared result), for the records.
    papers: tuple[str, ...] = ()

    def args(self) -> dict[str, Any]:
        """Arguments for chat.postMessage / respond / ack; unfurling off, never link_names."""
        return {
            "text": self.text,
            "blocks": self.blocks,
            "unfurl_links": False,
            "unfurl_media": False,
        }


def escape(text: str) -> str:
    """Make third-party or user text inert: `<!channel>` and `<@U1>` show literally, ping nobody."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int, *, oneline: bool = True) -> str:
    """Printable, escaped `text`, cut (at a character, never inside an entity) to `limit`."""
    text = printable(text, multiline=not oneline)
    if oneline:
        text = " ".join(text.split())
    else:
        text = "\n".join(" ".join(line.split()) for line in text.strip().splitlines())
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    out: list[str] = []
    used = 0
    for ch in text:
        piece = _ESCAPES.get(ch, ch)
        if used + len(piece) > limit - 1:
            out.append("…")
            break
        out.append(piece)
        used += len(piece)
    return "".join(out)


def safe_url(url: str | None) -> str | None:
    """An http(s) URL that cannot break out of `<url|label>`, or None."""
    if not url or len(url) > MAX_URL:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    cleaned = quote(url.strip(), safe=":/?#[]@!$&'()*+,;=%~-._")
    return cleaned.replace("&", "&amp;")


def link(url: str | None, label: str) -> str:
    """A mrkdwn link with an escaped label; just the label when the URL is unusable."""
    target = safe_url(url)
    return f"<{target}|{label}>" if target else label


def paper_section(card: PaperCard) -> Block:
    """The paper's title, authors, signals, why, summary and links, with its thumbnail."""
    title = clip(card.title, 300) or "(untitled)"
    lines = [f"*{link(card.url, title)}*"]
    if card.authors:
        lines.append(clip(card.short_authors(3), 200))
    signal_line = " · ".join(card.signals())
    if card.why:
        signal_line = (
            f"{signal_line} — _{clip(card.why, 300)}_" if signal_line else clip(card.why, 300)
        )
    if signal_line:
        lines.append(signal_line)
    if card.summary:
        lines.append(clip(card.summary, 700))
    links = [
        link(url, label)
        for url, label in ((card.url, "Abstract"), (card.pdf_url, "PDF"), (card.code_url, "Code"))
        if safe_url(url)
    ]
    if links:
        lines.append(" · ".join(links))
    text = "\n".join(lines)[:MAX_SECTION]
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}
    thumb = safe_url(card.thumbnail)
    if thumb:
        block["accessory"] = {
            "type": "image",
            "image_url": thumb,
            "alt_text": clip(card.title, 150),
        }
    return block


def paper_actions(card: PaperCard, *, feedback: bool) -> Block:
    """The paper's buttons: More like this; on a message in the channel (a digest, a shared
    result) also like, dislike and discuss (an ephemeral one has no thread to discuss in)."""
    elements = [_button(ACTION_MORE, "More like this", buttons.encode(MoreLikeThis(card.key)))]
    if feedback:
        elements = [
            _button(ACTION_LIKE, "👍", buttons.encode(Vote(card.key, "like"))),
            _button(ACTION_DISLIKE, "👎", buttons.encode(Vote(card.key, "dislike"))),
            _button(ACTION_DISCUSS, "💬 Discuss", buttons.encode(Discuss(card.key))),
            *elements,
        ]
    return {"type": "actions", "elements": elements}


def paper_blocks(card: PaperCard, *, feedback: bool = False) -> list[Block]:
    return [paper_section(card), paper_actions(card, feedback=feedback)]


def render_discussion(card: PaperCard) -> SlackMessage:
    """The paper posted in its digest message's thread: title, link, summary, and what the
    thread is for."""
    note = context("Discuss this paper here: replies in this thread count for it.")
    fallback = f"Discussion: {clip(card.title, 300) or '(untitled)'}"
    return SlackMessage(text=fallback, blocks=[paper_section(card), note], papers=(card.key,))


def context(text: str) -> Block:
    elements = [{"type": "mrkdwn", "text": clip(text, 2000, oneline=False), "verbatim": True}]
    return {"type": "context", "elements": elements}


def section(text: str) -> Block:
    body = clip(text, MAX_SECTION, oneline=False)
    return {"type": "section", "text": {"type": "mrkdwn", "text": body, "verbatim": True}}


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, MAX_HEADER)}}


def message_chars(blocks: list[Block]) -> int:
    """The characters Slack counts toward a message's size (all text in its blocks)."""
    return sum(len(json.dumps(b, ensure_ascii=False)) for b in blocks)


def _titles(cards: tuple[PaperCard, ...] | list[PaperCard]) -> str:
    return "; ".join(clip(c.title, 120) for c in cards)


def render_digest(digest: Digest) -> list[SlackMessage]:
    """The digest as one or more messages, each within 50 blocks and ~11k characters."""
    intro: list[Block] = [header(digest.title or "Today's papers")]
    intro += [context(note) for note in digest.notes]
    if digest.topics:
        intro.append(context("Topics: " + ", ".join(digest.topics)))
    if not digest.papers:
        intro.append(section("No new papers matched this channel's topics today."))
    parts: list[list[Block]] = [intro]
    part_cards: list[list[PaperCard]] = [[]]
    for card in digest.papers:
        group = [{"type": "divider"}, *paper_blocks(card, feedback=True)]
        current = parts[-1]
        too_many = len(current) + len(group) > MAX_BLOCKS - 1
        too_long = message_chars(current) + message_chars(group) > MAX_MESSAGE_CHARS - 200
        if current and (too_many or too_long) and part_cards[-1]:
            parts.append([])
            part_cards.append([])
            current = parts[-1]
        current.extend(group)
        part_cards[-1].append(card)
    total = len(parts)
    messages = []
    for i, (blocks, cards) in enumerate(zip(parts, part_cards, strict=True)):
        title = clip(digest.title or "Today's papers", 200)
        if total > 1:
            title += f" ({i + 1}/{total})"
            if i > 0:
                blocks.insert(
                    0, context(f"{digest.title or 'Digest'} — continued ({i + 1}/{total})")
                )
        count = len(cards)
        fallback = f"{title}: {count} paper{'s' if count != 1 else ''}"
        if cards:
            fallback += " — " + _titles(cards)
        keys = tuple(card.key for card in cards)
        messages.append(SlackMessage(text=fallback[:MAX_FALLBACK], blocks=blocks, papers=keys))
    return messages


def render_reply(
    reply: Reply, *, rerun: Command | None = None, shared_by: str | None = None
) -> SlackMessage:
    """A command's answer. Ephemeral result lists get "Share in channel" (re-running `rerun`,
    the command answered) and "Next"."""
    blocks: list[Block] = []
    if reply.text:
        blocks.append(section(reply.text))
    for note in reply.notes:
        blocks.append(context(note))
    if shared_by and shared_by.isalnum():
        # A real user id from Slack's signed payload: a mention the reader can click.
        elements = [{"type": "mrkdwn", "text": f"Shared by <@{shared_by}>"}]
        blocks.append({"type": "context", "elements": elements})
    actions: list[Block] = []
    if reply.ephemeral and isinstance(rerun, BUTTON_COMMANDS) and reply.papers:
        share = buttons.encode(rerun)
        actions.append(_button(ACTION_SHARE, "Share in channel", share, style="primary"))
    if reply.next_page is not None and not shared_by:
        page = Search(query=reply.next_page.query, page=reply.next_page.page)
        actions.append(_button(ACTION_NEXT, "Next", buttons.encode(page)))
    reserve = 2 if actions else 0
    shown = 0
    for card in reply.papers:
        group = [{"type": "divider"}, *paper_blocks(card, feedback=bool(shared_by))]
        if len(blocks) + len(group) + reserve > MAX_BLOCKS or (
            message_chars(blocks) + message_chars(group) > MAX_MESSAGE_CHARS - 600
        ):
            blocks.append(context(f"{len(reply.papers) - shown} more not shown."))
            break
        blocks.extend(group)
        shown += 1
    if actions:
        blocks.append({"type": "actions", "elements": actions})
    fallback = clip(reply.text, 500, oneline=False) if reply.text else "paperbot"
    if reply.papers:
        fallback += " — " + _titles(reply.papers[:shown])
    if not blocks:
        blocks.append(section(reply.text or "Done."))
    keys = tuple(card.key for card in reply.papers[:shown])
    return SlackMessage(text=fallback[:MAX_FALLBACK], blocks=blocks, papers=keys)


def render_pointer(text: str, url: str | None) -> SlackMessage:
    """A private one-liner pointing to a thread: `text <url|the thread>.`"""
    where = link(url, "the thread") if url else "the thread under that message"
    shown = f"{clip(text, 500)} {where}."
    block = {"type": "section", "text": {"type": "mrkdwn", "text": shown, "verbatim": True}}
    return SlackMessage(text=shown, blocks=[block])


def render_error(text: str) -> SlackMessage:
    return SlackMessage(text=clip(text, MAX_FALLBACK, oneline=False), blocks=[section(text)])


def _button(action_id: str, label: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": value,
    }
    if style:
        button["style"] = style
    return button
