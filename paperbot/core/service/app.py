"""Paperbot, the application service: every use case behind one object, built once by bootstrap.

The CLI, the console, the Slack and Discord adapters and the scheduler call only its methods
(and the value types in core.messages, core.commands and core.service). Each group of use
cases lives in its own module: chat (commands), channel_admin, delivery, papers, upkeep.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from paperbot.config import Settings
from paperbot.core.commands import Caller, Command
from paperbot.core.delivery import DeliveryOutcome, DeliveryReport
from paperbot.core.delivery.alerts import Alerts
from paperbot.core.delivery.status import PauseKind
from paperbot.core.digests.cache import DigestCache
from paperbot.core.engage.usecases import Engagement
from paperbot.core.maintenance import MaintenanceReport
from paperbot.core.messages import ChannelRef, PaperCard, Reply
from paperbot.core.ports import ChatPlatform
from paperbot.core.progress import Progress
from paperbot.core.search import SearchResult
from paperbot.core.search.backfill import BackfillReport
from paperbot.core.search.hybrid import HybridSearch, IndexStatus
from paperbot.core.service.channel_admin import ChannelAdmin
from paperbot.core.service.chat import Chat
from paperbot.core.service.context import Context
from paperbot.core.service.delivery import Deliveries
from paperbot.core.service.papers import Papers, Source
from paperbot.core.service.upkeep import Upkeep
from paperbot.core.service.values import (
    ChannelInfo,
    ChannelOptions,
    DigestPreview,
    IndexBuilt,
    PaperFile,
    SamplesRemoved,
)

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # the ingest code (httpx, feedparser) loads when ingesting
    from paperbot.core.papers.ingest import FileIngest, SourceRun


T = TypeVar("T")


def _quietly(event: Callable[[], T]) -> T | None:
    """Platform events never raise to the adapter: a failure is logged and dropped."""
    try:
        return event()
    except Exception:
        log.exception("engagement event failed")
        return None


@dataclass
class Paperbot:
    """The core application: storage, search, subscriptions and delivery behind one API."""

    settings: Settings
    session_factory: sessionmaker[Session]
    index: HybridSearch
    platforms: dict[str, ChatPlatform] = field(default_factory=dict)
    worker_id: str = "paperbot"
    # Shared topic matches and signals for one `now`: a delivery pass builds many digests.
    digest_cache: DigestCache = field(default_factory=DigestCache)

    def __post_init__(self) -> None:
        # `platforms` is this very dict: adapters registered later are seen by every pass.
        ctx = Context(
            self.settings, self.session_factory, self.index, self.platforms, self.worker_id
        )
        self.alerts = Alerts(self.settings.alerts)
        self._channels = ChannelAdmin(ctx)
        self._deliveries = Deliveries(ctx, self.alerts, self.digest_cache)
        self._papers = Papers(ctx)
        self._engage = Engagement(self.session_factory, self.settings)
        self._chat = Chat(ctx, self._channels, self._deliveries, self._papers, self._engage)
        self._upkeep = Upkeep(ctx)

    # --- chat commands --------------------------------------------------------------------

    def handle_text(self, text: str, caller: Caller, *, now: datetime) -> Reply:
        """Parse `/papers ...` text and execute it; bad input gets a friendly usage message."""
        return self._chat.handle_text(text, caller, now=now)

    def execute(self, command: Command, caller: Caller, *, now: datetime) -> Reply:
        """Run a command for a caller; never raises: a UserError is answered as it says."""
        return self._chat.execute(command, caller, now=now)

    # --- delivery and the scheduler's ticks -----------------------------------------------

    def deliver_due(self, now: datetime) -> DeliveryReport:
        """One delivery pass as of `now` (the scheduler's tick, `paperbot deliver`)."""
        return self._deliveries.deliver_due(now)

    def deliver_now(
        self, ref: ChannelRef, *, now: datetime, kind: str = "digest"
    ) -> DeliveryOutcome:
        """Post a channel's next digest (or its roundup) now (`/papers digest`, `roundup`)."""
        return self._deliveries.deliver_now(ref, now=now, kind=kind)

    def preview_digest(
        self, ref: ChannelRef, *, now: datetime, create: bool = False
    ) -> DigestPreview | None:
        """The channel's next digest, not posted (`paperbot digest --dry-run`, the console's
        start); None for an unknown channel unless `create` adds it."""
        return self._deliveries.preview(ref, now=now, create=create)

    def delivery_tick(self, now: datetime) -> DeliveryReport:
        """The scheduler's delivery tick: bring this replica's index up to date (rebuilding a
        broken folder), then one pass."""
        return self._deliveries.tick(now)

    def ingest_tick(self, source: Source, now: datetime) -> SourceRun | None:
        """The scheduler's ingest of one source, if this replica holds the ingest lease."""
        return self._papers.ingest_tick(source, now)

    def maintenance_tick(self, now: datetime) -> MaintenanceReport:
        """Daily: prune old snapshots and deliveries, purge data of long-removed channels."""
        return self._upkeep.maintenance_tick(now)

    def serves(self, platform: str) -> bool:
        """Whether a platform adapter is registered (digests can be posted there)."""
        return platform in self.platforms

    # --- channel administration (the CLI) -------------------------------------------------

    def add_channel(
        self, ref: ChannelRef, options: ChannelOptions, *, now: datetime
    ) -> ChannelInfo:
        """Add a channel, or update it; ChannelError (a UserError) and nothing changed if a
        topic does not work."""
        return self._channels.add(ref, options, now=now)

    def list_channels(self) -> list[ChannelInfo]:
        return self._channels.all()

    def remove_channel(self, ref: ChannelRef) -> bool:
        """Remove a channel, its topics and its delivery history; False if there is none."""
        return self._channels.remove(ref)

    def has_channel(self, ref: ChannelRef) -> bool:
        return self._channels.exists(ref)

    # --- platform events ------------------------------------------------------------------

    def topics(self, ref: ChannelRef) -> list[str]:
        """The channel's topics (for autocompletion)."""
        return self._channels.topics(ref)

    def channel_gone(
        self, ref: ChannelRef, reason: str, *, now: datetime, kind: str = PauseKind.GONE
    ) -> None:
        self._channels.channel_gone(ref, reason, now=now, kind=kind)

    def channel_back(self, ref: ChannelRef, kinds: Iterable[str] | None = None) -> bool:
        """paperbot can post in the channel again (re-invited, unarchived, a permission given
        back): resume it if it was paused for one of `kinds` (every reason when None)."""
        return self._channels.channel_back(ref, kinds)

    def paused_channels(self, platform: str, workspace: str, kinds: Iterable[str]) -> list[str]:
        """The channel ids of a workspace paused for one of `kinds` (to check them again)."""
        return self._channels.paused_channels(platform, workspace, kinds)

    def workspace_gone(self, platform: str, workspace: str, reason: str, *, now: datetime) -> None:
        self._channels.workspace_gone(platform, workspace, reason, now=now)

    def workspace_back(self, platform: str, workspace: str) -> None:
        """paperbot was added to the workspace again: resume what its removal, or a refused
        token, paused."""
        self._channels.workspace_back(platform, workspace)

    # --- engagement events (reactions, thread replies, the adapters' own posts) ------------

    def record_posted(
        self,
        channel: ChannelRef,
        message_id: str,
        papers: Sequence[str],
        *,
        kind: str,
        now: datetime,
    ) -> None:
        """The adapter posted these papers outside a digest ("share", "discuss"): reactions on
        it count, and a share is a weaker positive for each paper."""
        _quietly(
            lambda: self._engage.record_posted(channel, message_id, papers, kind=kind, now=now)
        )

    def react(
        self,
        channel: ChannelRef,
        message_id: str,
        member: str,
        vote: Literal["like", "dislike"],
        *,
        added: bool,
        now: datetime,
    ) -> bool:
        """A 👍/👎 reaction on a message showing exactly one paper (added=False withdraws it);
        True if it counted."""
        return bool(
            _quietly(
                lambda: self._engage.react(channel, message_id, member, vote, added=added, now=now)
            )
        )

    def thread_opened(
        self, channel: ChannelRef, paper: str, thread_id: str, *, now: datetime
    ) -> None:
        """The paper's discussion thread (Slack: the root message's ts; Discord: the thread)."""
        _quietly(lambda: self._engage.thread_opened(channel, paper, thread_id, now=now))

    def thread_reply(
        self, channel: ChannelRef, thread_id: str, member: str, *, now: datetime
    ) -> bool:
        """A reply in a thread: engagement for its newest paper; False for unknown threads."""
        return bool(
            _quietly(lambda: self._engage.thread_reply(channel, thread_id, member, now=now))
        )

    # --- papers ---------------------------------------------------------------------------

    def search(self, text: str, *, page: int, page_size: int, now: datetime) -> SearchResult:
        """A search as the CLI runs it (QueryTooLong, a UserError, for too long a query)."""
        return self._papers.search(text, page=page, page_size=page_size, now=now)

    def trending(self, *, now: datetime, limit: int) -> list[PaperCard]:
        return self._papers.trending(now=now, limit=limit)

    def ingest_source(
        self,
        source: Source,
        *,
        now: datetime,
        days: list[date] | None = None,
        categories: list[str] | None = None,
    ) -> tuple[SourceRun, int]:
        """Fetch a network source now, then index; (the run, papers indexed)."""
        return self._papers.ingest_source(source, now=now, days=days, categories=categories)

    def ingest_file(self, file: PaperFile, *, now: datetime) -> FileIngest:
        """Check and ingest a JSONL file (FileFormatError: nothing stored); index_papers next."""
        return self._papers.ingest_file(file, now=now)

    def index_papers(self, progress: Progress | None = None) -> int:
        """Bring the search index up to the database; papers indexed."""
        return self._papers.index_papers(progress)

    # --- maintenance ----------------------------------------------------------------------

    def rebuild_index(self, progress: Progress | None = None) -> IndexBuilt:
        """Rebuild the search index (and this model's vectors) from the database."""
        return self._upkeep.rebuild_index(progress)

    def index_status(self) -> IndexStatus:
        return self._upkeep.index_status()

    def embed_papers(
        self, *, budget_seconds: float | None = None, progress: Progress | None = None
    ) -> BackfillReport | None:
        """Embed the papers without vectors (None: semantic search is off or unusable)."""
        return self._upkeep.embed(budget_seconds=budget_seconds, progress=progress)

    def count_samples(self) -> int:
        """How many stored papers came from the bundled sample data."""
        return self._upkeep.count_samples()

    def remove_samples(self) -> SamplesRemoved:
        """Delete the bundled sample papers; compact the index if no one else holds it."""
        return self._upkeep.remove_samples()

    def readiness(self) -> list[str]:
        """Why this replica is not ready to serve (empty: ready)."""
        return self._upkeep.readiness()
