"""The core's vocabulary shared with adapters: channel refs, paper cards, digests, replies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal


@dataclass(frozen=True)
class ChannelRef:
    """A chat channel: platform ("slack" | "discord" | "console"), workspace (team/guild), id."""

    platform: str
    workspace: str
    channel: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.workspace}/{self.channel}"


@dataclass(frozen=True)
class PaperCard:
    """One paper as every platform shows it (third-party text: adapters must escape it)."""

    key: str
    title: str
    url: str
    authors: tuple[str, ...] = ()
    summary: str = ""
    arxiv_id: str | None = None
    pdf_url: str | None = None
    code_url: str | None = None
    project_url: str | None = None
    thumbnail: str | None = None
    upvotes: int = 0
    comments: int = 0
    github_stars: int = 0
    published: date | None = None
    categories: tuple[str, ...] = ()
    # One line saying why this paper is shown, e.g. "38 upvotes in 24 h · matches: diffusion".
    why: str = ""
    score: float = 0.0
    # The channel topics the paper matched, as the user wrote them, best first (digests only).
    topics: tuple[str, ...] = ()

    def signals(self) -> tuple[str, ...]:
        """The paper's signals as short phrases every platform shows the same way."""
        out: list[str] = []
        if self.upvotes:
            out.append(f"▲ {self.upvotes} upvote{'s' if self.upvotes != 1 else ''}")
        if self.comments:
            out.append(f"{self.comments} comment{'s' if self.comments != 1 else ''}")
        if self.github_stars:
            out.append(f"★ {self.github_stars} star{'s' if self.github_stars != 1 else ''}")
        return tuple(out)

    def short_authors(self, limit: int = 3) -> str:
        if not self.authors:
            return ""
        names = list(self.authors[:limit])
        more = len(self.authors) - limit
        return ", ".join(names) + (f" +{more} more" if more > 0 else "")


DigestKind = Literal["digest", "roundup"]


@dataclass(frozen=True)
class Digest:
    """A channel's digest at one instant: ranked papers plus the notes a reader should see."""

    channel: ChannelRef
    title: str
    papers: tuple[PaperCard, ...]
    generated_at: datetime
    # Digest slots missed while the bot was down (older than the grace period).
    missed_slots: int = 0
    # Sources whose last ingest failed, so the digest may be incomplete.
    partial_sources: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    # Digests since the last one that paperbot tried to post and gave up on, and why.
    undelivered: int = 0
    undelivered_reason: str = ""
    # Set when the channel's digest resumed after a pause a person fixed (the old reason).
    resumed_after: str = ""
    # "roundup": the week's roundup (cards' `why` carries the channel's counts); renderers may
    # show it without feedback buttons.
    kind: DigestKind = "digest"

    @property
    def notes(self) -> tuple[str, ...]:
        """Short lines shown under the header: resumed, not delivered, offline, partial."""
        out: list[str] = []
        if self.resumed_after:
            out.append(f"Digests are back: paperbot had paused them ({self.resumed_after}).")
        noun = self.kind
        if self.undelivered:
            n = self.undelivered
            what = f"1 {noun}" if n == 1 else f"{n} {noun}s"
            why = f": {self.undelivered_reason}" if self.undelivered_reason else ""
            out.append(f"{what} could not be delivered{why}.")
        if self.missed_slots:
            plural = "s" if self.missed_slots != 1 else ""
            out.append(
                f"paperbot was offline and missed {self.missed_slots} {noun}{plural};"
                " this one covers the gap."
            )
        if self.partial_sources:
            out.append(
                "Some sources could not be reached ("
                + ", ".join(self.partial_sources)
                + "): this digest may be incomplete."
            )
        return tuple(out)


@dataclass(frozen=True)
class Page:
    """Where the "Next" button leads: the same search, one page further."""

    query: str
    page: int


ReplyKind = Literal[
    "search", "trending", "similar", "info", "error", "help", "changed", "ack", "discuss"
]


@dataclass(frozen=True)
class Reply:
    """The answer to a command, rendered natively by each adapter."""

    kind: ReplyKind
    text: str
    papers: tuple[PaperCard, ...] = ()
    # Ephemeral: only the caller sees it; changes to a channel are confirmed in the channel.
    ephemeral: bool = True
    next_page: Page | None = None
    # Extra lines (e.g. "this channel is paused: ..."), shown under the text.
    notes: tuple[str, ...] = field(default=())
    # kind "discuss": the paper's existing thread (the adapter points there and posts nothing);
    # None: the adapter opens one and calls Paperbot.thread_opened.
    thread: str | None = None
