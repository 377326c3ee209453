"""The week's roundup: the papers a channel was shown or shared in its last days, ordered by
its own engagement (likes, thread replies, shares), each with its counts."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paperbot.config import EngageSettings
from paperbot.core.channels.zones import zone_or_utc
from paperbot.core.messages import ChannelRef, Digest
from paperbot.core.models import (
    Channel,
    EngageMessage,
    FeedbackSignal,
    FeedbackVote,
    PostedPaper,
)
from paperbot.core.papers.store import ids_by_key
from paperbot.core.papers.trending import load_cards


@dataclass
class Engaged:
    """A paper's engagement in one channel."""

    likes: int = 0
    dislikes: int = 0
    replies: int = 0
    shares: int = 0
    other: int = 0  # discussions opened, "more like this"
    last_shown: datetime | None = None

    def order(self) -> tuple[int, int, int, int, int, float]:
        shown = self.last_shown.timestamp() if self.last_shown else 0.0
        return (self.likes, self.replies, self.shares, self.other, -self.dislikes, shown)

    def line(self) -> str:
        """e.g. "👍 4 · 💬 3 replies · shared 1"."""
        bits = []
        if self.likes:
            bits.append(f"👍 {self.likes}")
        if self.dislikes:
            bits.append(f"👎 {self.dislikes}")
        if self.replies:
            bits.append(f"💬 {self.replies} repl{'y' if self.replies == 1 else 'ies'}")
        if self.shares:
            bits.append(f"shared {self.shares}")
        return " · ".join(bits) or "no reactions yet"


def _shown(session: Session, channel_id: int, since: datetime) -> dict[int, datetime]:
    """The papers the channel saw since `since` (shown, shared, discussed), and when last."""
    out: dict[int, datetime] = {}
    for pid, at in session.execute(
        select(PostedPaper.paper_id, PostedPaper.posted_at).where(
            PostedPaper.channel_id == channel_id, PostedPaper.posted_at >= since
        )
    ):
        out[pid] = max(at, out.get(pid, at))
    keys: dict[str, datetime] = {}
    for papers, at in session.execute(
        select(EngageMessage.papers, EngageMessage.created_at).where(
            EngageMessage.channel_id == channel_id, EngageMessage.created_at >= since
        )
    ):
        for key in papers or ():
            keys[key] = max(at, keys.get(key, at))
    for key, pid in ids_by_key(session, list(keys)).items():
        out[pid] = max(keys[key], out.get(pid, keys[key]))
    # Discussed or shared here this week, even if the post itself was not recorded.
    for pid, at in session.execute(
        select(FeedbackSignal.paper_id, FeedbackSignal.created_at).where(
            FeedbackSignal.channel_id == channel_id,
            FeedbackSignal.kind.in_(("share", "discuss")),
            FeedbackSignal.created_at >= since,
        )
    ):
        out[pid] = max(at, out.get(pid, at))
    return out


def engagement(session: Session, channel_id: int, ids: list[int]) -> dict[int, Engaged]:
    """Each paper's counts in the channel (every paper of `ids`, engaged or not)."""
    out: dict[int, Engaged] = defaultdict(Engaged)
    for pid in ids:
        out[pid] = Engaged()
    for pid, value, n in session.execute(
        select(FeedbackVote.paper_id, FeedbackVote.value, func.count())
        .where(FeedbackVote.channel_id == channel_id, FeedbackVote.paper_id.in_(ids))
        .group_by(FeedbackVote.paper_id, FeedbackVote.value)
    ):
        if value > 0:
            out[pid].likes += n
        else:
            out[pid].dislikes += n
    for pid, kind, n in session.execute(
        select(FeedbackSignal.paper_id, FeedbackSignal.kind, func.count())
        .where(FeedbackSignal.channel_id == channel_id, FeedbackSignal.paper_id.in_(ids))
        .group_by(FeedbackSignal.paper_id, FeedbackSignal.kind)
    ):
        if kind == "reply":
            out[pid].replies += n
        elif kind == "share":
            out[pid].shares += n
        else:
            out[pid].other += n
    return dict(out)


def title(channel: Channel, since: datetime, now: datetime) -> str:
    zone = zone_or_utc(channel.roundup_zone or channel.timezone)
    first, last = since.astimezone(zone), now.astimezone(zone)
    return f"The week's roundup · {first.day} {first:%b} – {last.day} {last:%b %Y}"


def build_roundup(
    session: Session, channel: Channel, *, now: datetime, cfg: EngageSettings, missed: int = 0
) -> Digest:
    """The channel's roundup at `now` (no papers: nothing was shown or shared here lately)."""
    since = now - timedelta(days=cfg.roundup_days)
    shown = _shown(session, channel.id, since)
    counts = engagement(session, channel.id, list(shown))
    for pid, at in shown.items():
        counts[pid].last_shown = at
    # A paper its members disliked more than liked is not shown to the channel again.
    kept = [pid for pid, c in counts.items() if c.dislikes <= c.likes]
    kept.sort(key=lambda pid: (counts[pid].order(), pid), reverse=True)
    kept = kept[: cfg.roundup_size]
    cards = load_cards(session, kept)
    papers = tuple(
        dataclasses.replace(cards[pid], why=counts[pid].line()) for pid in kept if pid in cards
    )
    return Digest(
        channel=ChannelRef(channel.platform, channel.workspace, channel.channel),
        title=title(channel, since, now),
        papers=papers,
        generated_at=now,
        missed_slots=max(0, missed),
        kind="roundup",
    )
