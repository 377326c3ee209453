"""Plain-text rendering of digests and replies for a terminal (pure; no escaping, no escapes)."""

from __future__ import annotations

from paperbot.core.messages import Digest, PaperCard, Reply
from paperbot.core.printable import printable


def clean(text: str, *, multiline: bool = False) -> str:
    """Third-party text for a terminal: printable (no escapes, controls or bidi overrides),
    whitespace collapsed; `multiline` keeps line breaks."""
    if multiline:
        lines = (" ".join(line.split()) for line in printable(text, multiline=True).split("\n"))
        return "\n".join(lines).strip("\n")
    return " ".join(printable(text).split())


def render_card(card: PaperCard, number: int | None = None) -> str:
    head = f"{number}. " if number is not None else "• "
    lines = [head + clean(card.title)]
    pad = " " * len(head)
    byline = [clean(card.short_authors())] if card.authors else []
    if card.published:
        byline.append(card.published.isoformat())
    if signals := card.signals():
        byline.append(" · ".join(signals))
    if byline:
        lines.append(pad + " — ".join(part for part in byline if part))
    if card.summary:
        lines.append(pad + clean(card.summary))
    if card.why:
        lines.append(pad + "why: " + clean(card.why))
    links = [clean(u) for u in (card.url, card.pdf_url, card.code_url, card.project_url) if u]
    if links:
        lines.append(pad + "  ".join(links))
    return "\n".join(lines)


def render_papers(papers: tuple[PaperCard, ...] | list[PaperCard], *, numbered: bool = True) -> str:
    return "\n\n".join(
        render_card(card, i if numbered else None) for i, card in enumerate(papers, start=1)
    )


def render_digest(digest: Digest) -> str:
    """The digest as the console shows (and the console platform posts) it."""
    title = clean(digest.title) or "paperbot digest"
    lines = [f"== {title} ==", f"{digest.channel} · {digest.generated_at:%Y-%m-%d %H:%M %Z}"]
    if digest.topics:
        lines.append("Topics: " + ", ".join(clean(t) for t in digest.topics))
    lines.extend(clean(note) for note in digest.notes)
    lines.append("")
    if digest.papers:
        lines.append(render_papers(digest.papers))
    else:
        lines.append("No new papers for this channel today.")
    return "\n".join(lines)


def render_reply(reply: Reply) -> str:
    """A command's answer: text, papers, notes and the next-page hint."""
    parts = [clean(reply.text, multiline=True)] if reply.text else []
    if reply.papers:
        parts.append(render_papers(reply.papers))
    if reply.notes:
        parts.append("\n".join(clean(n) for n in reply.notes))
    if reply.next_page is not None:
        query = clean(reply.next_page.query)
        parts.append(f"More: /papers search {query} page:{reply.next_page.page}")
    return "\n\n".join(p for p in parts if p)
