"""SQLAlchemy 2.0 typed tables: papers, signals, channels, subscriptions, deliveries, feedback."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Tz(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite drops the zone; we add it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Paper(Base):
    __tablename__ = "papers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Identity across sources: the versionless arXiv id, or "title:<hash>" when there is none.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    arxiv_id: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)
    abstract: Mapped[str] = mapped_column(Text, default="")
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    published: Mapped[date | None] = mapped_column(Date)
    # When the paper reached a feed we follow (HF daily list day, arXiv announcement day).
    announced: Mapped[date | None] = mapped_column(Date, index=True)
    url: Mapped[str | None] = mapped_column(Text)
    pdf_url: Mapped[str | None] = mapped_column(Text)
    github_repo: Mapped[str | None] = mapped_column(Text)
    project_page: Mapped[str | None] = mapped_column(Text)
    thumbnail: Mapped[str | None] = mapped_column(Text)
    ai_summary: Mapped[str | None] = mapped_column(Text)
    ai_keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    organization: Mapped[str | None] = mapped_column(Text)
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Latest signals, denormalised from the newest snapshot for ranking without joins.
    upvotes: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    github_stars: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[datetime] = mapped_column(Tz())
    updated_at: Mapped[datetime] = mapped_column(Tz())
    # Monotonic change counter (see Counter): the search index catches up from it.
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0, index=True)

    snapshots: Mapped[list[SignalSnapshot]] = relationship(
        back_populates="paper", cascade="all, delete-orphan", passive_deletes=True
    )


class SignalSnapshot(Base):
    __tablename__ = "signal_snapshots"
    __table_args__ = (Index("ix_signal_snapshots_paper_observed", "paper_id", "observed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(32))
    observed_at: Mapped[datetime] = mapped_column(Tz(), index=True)
    upvotes: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    github_stars: Mapped[int] = mapped_column(Integer, default=0)

    paper: Mapped[Paper] = relationship(back_populates="snapshots")


class Counter(Base):
    """Named monotonic counters (e.g. 'papers' for the search index watermark)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class Channel(Base):
    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("platform", "workspace", "channel", name="uq_channels_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    # Slack team id / Discord guild id / "local" for the console.
    workspace: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(64))
    digest_time: Mapped[str] = mapped_column(String(5), default="09:00")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # "daily", "weekdays" or a comma list of mon..sun.
    days: Mapped[str] = mapped_column(String(32), default="daily")
    size: Mapped[int] = mapped_column(Integer, default=5)
    post_empty: Mapped[bool] = mapped_column(Boolean, default=False)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    pause_reason: Mapped[str | None] = mapped_column(Text)
    # Why, as a PauseKind (paperbot.core.delivery.status): what resumes it, who can fix it.
    pause_kind: Mapped[str | None] = mapped_column(String(32))
    # Who was told about the current pause ("person" | "operator"): told once, by one replica.
    pause_notice: Mapped[str | None] = mapped_column(String(16))
    # The member who last changed its topics or schedule: the person told when it pauses.
    configured_by: Mapped[str | None] = mapped_column(String(64))
    # Set when a fixable pause ends; the next digest says so, then it is cleared.
    resumed_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Tz())
    # Set when the platform says the channel/workspace is gone; data is purged after a grace.
    removed_at: Mapped[datetime | None] = mapped_column(Tz())
    # The week's roundup: weekday (0 = Monday), local "HH:MM", zone (None: the channel's);
    # no weekday: no scheduled roundup.
    roundup_day: Mapped[int | None] = mapped_column(Integer)
    roundup_time: Mapped[str | None] = mapped_column(String(5))
    roundup_zone: Mapped[str | None] = mapped_column(String(64))

    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="channel",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Subscription.id",
    )


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("channel_id", "topic", name="uq_subscriptions_topic"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    # A query in the search grammar, e.g. 'diffusion -audio cat:cs.CV'.
    topic: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(Tz())

    channel: Mapped[Channel] = relationship(back_populates="subscriptions")


class Delivery(Base):
    """One digest slot of one channel: the unit of exactly-once delivery."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("channel_id", "slot", name="uq_deliveries_slot"),
        Index("ix_deliveries_status_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    # The local date of the scheduled run, or "manual-YYYYMMDDTHHMMZ" for `/papers digest`
    # (roundups: "roundup-<date>", "manual-roundup-<instant>").
    slot: Mapped[str] = mapped_column(String(32))
    # "digest" or "roundup" (the week's roundup: posts no "posted" rows).
    kind: Mapped[str] = mapped_column(String(16), default="digest", server_default="digest")
    scheduled_at: Mapped[datetime] = mapped_column(Tz())
    # A DeliveryStatus (paperbot.core.delivery.status documents each one).
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # Send attempts (claims that only reconcile do not count).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(Tz())
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    # Judged by the database's clock, never a replica's own.
    lease_until: Mapped[datetime | None] = mapped_column(Tz())
    # The fencing token: +1 on every claim; every send and record checks it is still ours.
    claim_version: Mapped[int] = mapped_column(Integer, default=0)
    missed_before: Mapped[int] = mapped_column(Integer, default=0)
    # The digest as reserved (cards, notes), so every retry posts exactly the same parts;
    # cleared once the delivery is final.
    digest: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Tz())
    sent_at: Mapped[datetime | None] = mapped_column(Tz())


class DeliveryPart(Base):
    """One message of a digest: the papers it shows, and its id once posted.

    started_at without message_id means a post whose outcome is unknown (a lost reply, a
    crash): the next holder asks the platform (find_posted) before posting it again.
    """

    __tablename__ = "delivery_parts"
    __table_args__ = (
        UniqueConstraint("delivery_id", "part", name="uq_delivery_parts_part"),
        # Reactions name a message: which paper it shows.
        Index("ix_delivery_parts_message_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    part: Mapped[int] = mapped_column(Integer)
    papers: Mapped[list[str]] = mapped_column(JSON, default=list)
    message_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(Tz())
    posted_at: Mapped[datetime | None] = mapped_column(Tz())


class PostedPaper(Base):
    __tablename__ = "posted_papers"
    __table_args__ = (UniqueConstraint("channel_id", "paper_id", name="uq_posted_papers_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"))
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL")
    )
    posted_at: Mapped[datetime] = mapped_column(Tz())


class Lease(Base):
    """A named, time-bound lock in the database (e.g. 'ingest': one replica ingests at a time)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(Tz())


class SourceState(Base):
    """Per-source bookkeeping: last success/error and the newest day fetched (for catch-up)."""

    __tablename__ = "source_states"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_success_at: Mapped[datetime | None] = mapped_column(Tz())
    last_error_at: Mapped[datetime | None] = mapped_column(Tz())
    last_error: Mapped[str | None] = mapped_column(Text)
    last_day: Mapped[date | None] = mapped_column(Date)
    papers_seen: Mapped[int] = mapped_column(Integer, default=0)


class WorkspaceState(Base):
    """A Slack team / Discord guild the bot was removed from (its channels are paused), or
    whose token is refused (paused as a whole, probed until it works; workspace "*": the
    platform's own token)."""

    __tablename__ = "workspace_states"
    __table_args__ = (UniqueConstraint("platform", "workspace", name="uq_workspace_states_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = mapped_column(String(64))
    removed_at: Mapped[datetime | None] = mapped_column(Tz())
    paused_reason: Mapped[str | None] = mapped_column(Text)
    paused_at: Mapped[datetime | None] = mapped_column(Tz())
    next_probe_at: Mapped[datetime | None] = mapped_column(Tz())
    probes: Mapped[int] = mapped_column(Integer, default=0)
    pause_notice: Mapped[str | None] = mapped_column(String(16))


class PaperEmbedding(Base):
    """A paper's passage vectors (int8) under one embedding key (model checksum, tokenizer,
    token budget, recipe). Replicas build their vector index from these rows by id."""

    __tablename__ = "paper_embeddings"
    __table_args__ = (
        UniqueConstraint("model", "paper_id", name="uq_paper_embeddings_model_paper"),
        Index("ix_paper_embeddings_model_id", "model", "id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(64))
    # The embedded title and abstract's hash: an update that keeps them is not re-embedded.
    text_sha: Mapped[str] = mapped_column(String(16))
    dim: Mapped[int] = mapped_column(Integer)
    vectors: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(Tz())


class FeedbackVote(Base):
    """One member's 👍 (+1) or 👎 (-1) on one paper in one channel: the member id is kept only
    so that each member has one vote per paper."""

    __tablename__ = "feedback_votes"
    __table_args__ = (
        UniqueConstraint("channel_id", "paper_id", "member", name="uq_feedback_votes_member"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"))
    member: Mapped[str] = mapped_column(String(64))
    value: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(Tz())


class FeedbackSignal(Base):
    """A weaker positive, anonymous: "more" (more like this), "share", "discuss", "reply"."""

    __tablename__ = "feedback_signals"
    __table_args__ = (Index("ix_feedback_signals_channel_created", "channel_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(Tz())


class EngageMessage(Base):
    """A message paperbot posted outside a digest ("share", "discuss") and the papers it shows."""

    __tablename__ = "engage_messages"
    __table_args__ = (
        UniqueConstraint("channel_id", "message_id", name="uq_engage_messages_message"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    papers: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(Tz())


class PaperThread(Base):
    """A paper's discussion thread in a channel (Slack: the root message's ts, shared by the
    papers of one digest message; Discord: the thread's channel id)."""

    __tablename__ = "paper_threads"
    __table_args__ = (
        UniqueConstraint("channel_id", "paper_id", name="uq_paper_threads_paper"),
        Index("ix_paper_threads_channel_thread", "channel_id", "thread_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"))
    thread_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(Tz())


__all__ = [
    "Base",
    "Channel",
    "Counter",
    "Delivery",
    "DeliveryPart",
    "EngageMessage",
    "FeedbackSignal",
    "FeedbackVote",
    "Lease",
    "Paper",
    "PaperEmbedding",
    "PaperThread",
    "PostedPaper",
    "SignalSnapshot",
    "SourceState",
    "Subscription",
    "WorkspaceState",
]
