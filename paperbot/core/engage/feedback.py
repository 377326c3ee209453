"""The feedback store: one vote per member and paper per channel, anonymous weaker signals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Integer, delete, literal, select, union_all
from sqlalchemy.orm import Session

from paperbot.core.models import FeedbackSignal, FeedbackVote

VoteValue = Literal["like", "dislike"]
VoteResult = Literal["added", "changed", "withdrawn"]
# Weaker positives: "More like this", "Share", "Discuss", a reply in the paper's thread.
SIGNALS = ("more", "share", "discuss", "reply")
VALUES: dict[str, int] = {"like": 1, "dislike": -1}


@dataclass(frozen=True)
class Example:
    """One piece of feedback on a paper: +1 like, -1 dislike, or a weaker signal's kind."""

    paper_id: int
    value: float  # +1 / -1 for votes; +1 for signals (weighted by the model)
    weak: bool
    at: datetime


@dataclass(frozen=True)
class Counts:
    likes: int = 0
    dislikes: int = 0
    weak: int = 0

    @property
    def total(self) -> int:
        return self.likes + self.dislikes + self.weak


def _row(session: Session, channel_id: int, paper_id: int, member: str) -> FeedbackVote | None:
    return session.scalar(
        select(FeedbackVote).where(
            FeedbackVote.channel_id == channel_id,
            FeedbackVote.paper_id == paper_id,
            FeedbackVote.member == member[:64],
        )
    )


def _put(
    session: Session,
    row: FeedbackVote | None,
    key: tuple[int, int, str],
    value: int,
    now: datetime,
) -> None:
    """Set the member's vote (a new row, or the changed one); None deletes it."""
    if row is None:
        channel_id, paper_id, member = key
        row = FeedbackVote(channel_id=channel_id, paper_id=paper_id, member=member[:64])
        session.add(row)
    row.value, row.created_at = value, now
    session.flush()


def vote(
    session: Session, channel_id: int, paper_id: int, member: str, value: VoteValue, now: datetime
) -> VoteResult:
    """Record a press: the same press again withdraws the vote, the other one changes it."""
    wanted = VALUES[value]
    row = _row(session, channel_id, paper_id, member)
    if row is not None and row.value == wanted:
        session.delete(row)
        session.flush()
        return "withdrawn"
    _put(session, row, (channel_id, paper_id, member), wanted, now)
    return "added" if row is None else "changed"


def set_vote(
    session: Session,
    channel_id: int,
    paper_id: int,
    member: str,
    value: VoteValue,
    *,
    added: bool,
    now: datetime,
) -> bool:
    """A reaction: added sets the member's vote to `value`; removed withdraws it if it is that
    value (removing a 👎 the member never gave leaves their 👍). True when something changed."""
    wanted = VALUES[value]
    row = _row(session, channel_id, paper_id, member)
    if not added:
        if row is None or row.value != wanted:
            return False
        session.delete(row)
        session.flush()
        return True
    if row is not None and row.value == wanted:
        return False
    _put(session, row, (channel_id, paper_id, member), wanted, now)
    return True


def signal(
    session: Session, channel_id: int, paper_ids: Sequence[int], kind: str, now: datetime
) -> None:
    """Weaker positives, one per paper (no member id: they need no "one each")."""
    assert kind in SIGNALS, kind
    for pid in dict.fromkeys(paper_ids):
        session.add(FeedbackSignal(channel_id=channel_id, paper_id=pid, kind=kind, created_at=now))
    session.flush()


def examples(session: Session, channel_id: int, since: datetime | None = None) -> list[Example]:
    """The channel's feedback (since a time: older weighs next to nothing), oldest first.

    One query (digests of channels without feedback pay only this): votes are +1/-1, weaker
    signals come as 0.
    """
    votes = select(FeedbackVote.paper_id, FeedbackVote.value, FeedbackVote.created_at).where(
        FeedbackVote.channel_id == channel_id
    )
    signals = select(
        FeedbackSignal.paper_id, literal(0, Integer).label("value"), FeedbackSignal.created_at
    ).where(FeedbackSignal.channel_id == channel_id)
    if since is not None:
        votes = votes.where(FeedbackVote.created_at >= since)
        signals = signals.where(FeedbackSignal.created_at >= since)
    rows = session.execute(union_all(votes, signals)).all()
    out = [Example(pid, float(value) if value else 1.0, not value, at) for pid, value, at in rows]
    out.sort(key=lambda e: e.at)
    return out


def counts(examples: Sequence[Example]) -> Counts:
    """How many likes, dislikes and weaker signals these examples hold."""
    return Counts(
        likes=sum(1 for e in examples if not e.weak and e.value > 0),
        dislikes=sum(1 for e in examples if not e.weak and e.value < 0),
        weak=sum(1 for e in examples if e.weak),
    )


def forget(session: Session, channel_ids: Sequence[int]) -> Counts:
    """Delete these channels' feedback; what went (likes and dislikes counted together)."""
    if not channel_ids:
        return Counts()
    ids = list(channel_ids)
    gone = []
    for model in (FeedbackVote, FeedbackSignal):
        result = session.execute(delete(model).where(model.channel_id.in_(ids)))
        gone.append(int(getattr(result, "rowcount", 0) or 0))
    return Counts(likes=gone[0], weak=gone[1])
