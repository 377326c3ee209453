"""Use cases behind every chat command: execute(Command, Caller) -> Reply, for all adapters."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from time import perf_counter
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from paperbot.config import Settings
from paperbot.core import commands, metrics, readiness, search
from paperbot.core.channels import policy, schedule
from paperbot.core.channels import store as channels
from paperbot.core.commands import Caller, Command, ParseError
from paperbot.core.delivery import (
    Deliverer,
    DeliveryDeps,
    DeliveryOutcome,
    DeliveryReport,
    Digests,
    pauses,
    workspaces,
)
from paperbot.core.delivery import history as delivery_history
from paperbot.core.delivery.alerts import Alerts
from paperbot.core.delivery.status import CAN_POST_AGAIN, PauseKind, kind_of
from paperbot.core.digests import builder as digest
from paperbot.core.engage import weekly
from paperbot.core.engage.usecases import Engagement
from paperbot.core.messages import ChannelRef, Digest, Page, Reply
from paperbot.core.models import Channel
from paperbot.core.ports import ChatPlatform
from paperbot.core.search import repair as index_repair
from paperbot.core.search.hybrid import HybridSearch

log = logging.getLogger(__name__)

SEARCH_PAGE_SIZE = 5


def _ref(caller: Caller) -> ChannelRef:
    return ChannelRef(caller.platform, caller.workspace, caller.channel)


def quoted(text: str) -> str:
    """Quote user text for display, unless it brings its own quotes (topics often do)."""
    return text if '"' in text else f"“{text}”"


def _error(text: str) -> Reply:
    return Reply(kind="error", text=text)


def _zone(channel: Channel) -> ZoneInfo:
    try:
        return schedule.zone_of(channel)
    except (ValueError, LookupError):
        return ZoneInfo("UTC")


# Commands about the channel: their permission check also tells whether paperbot can post.
ABOUT_CHANNEL = (*commands.CHANNEL_CHANGES, commands.ListSettings)
# Engagement commands (the block "# --- engagement" below handles them).
ENGAGING = (commands.Vote, commands.Discuss, commands.Taste, commands.Roundup)
# Changes that make the caller the person to tell when the channel's digest pauses.
CONFIGURING = (commands.Subscribe, commands.Unsubscribe, commands.Schedule, commands.Size)


@dataclass
class Paperbot:
    """The core application: storage, search, subscriptions and delivery behind one API."""

    settings: Settings
    session_factory: sessionmaker[Session]
    index: HybridSearch
    platforms: dict[str, ChatPlatform] = field(default_factory=dict)
    worker_id: str = "paperbot"
    # Shared topic matches and signals for one `now`: a delivery pass builds many digests.
    digest_cache: digest.DigestCache = field(default_factory=digest.DigestCache)

    def __post_init__(self) -> None:
        self.alerts = Alerts(self.settings.alerts)
        self.digests = Digests(self.index, self.settings, self.digest_cache)
        # `platforms` is this very dict: adapters registered later are seen by every pass.
        self.delivery = Deliverer(
            DeliveryDeps(
                self.session_factory,
                self.settings,
                self.platforms,
                self.digests,
                self.alerts,
                self.worker_id,
            )
        )
        self.engage = Engagement(self.session_factory, self.settings)

    def handle_text(self, text: str, caller: Caller, *, now: datetime) -> Reply:
        """Parse `/papers ...` text and execute it; bad input gets a friendly usage message."""
        try:
            command = commands.parse(text)
        except ParseError as exc:
            return _error(str(exc))
        return self.execute(command, caller, now=now)

    def execute(self, command: Command, caller: Caller, *, now: datetime) -> Reply:
        name = type(command).__name__.lower()
        started = perf_counter()
        try:
            if caller.bot_can_post and not caller.is_dm and isinstance(command, ABOUT_CHANNEL):
                # A check that paperbot can post here now ends a pause for not being able to.
                self.channel_back(_ref(caller), CAN_POST_AGAIN)
            reply = self._dispatch(command, caller, now)
        except (ParseError, channels.ChannelError, search.QueryTooLong) as exc:
            reply = _error(str(exc))
        except Exception:
            log.exception("command %s failed", name)
            reply = _error("Something went wrong on paperbot's side; please try again shortly.")
        metrics.observe_command(caller.platform, name, perf_counter() - started)
        return reply

    # --- dispatch -------------------------------------------------------------------------

    def _dispatch(self, command: Command, caller: Caller, now: datetime) -> Reply:
        if isinstance(command, commands.Help):
            return Reply(kind="help", text=commands.help_text(command.topic))
        if isinstance(command, commands.Search):
            return self._search(command, now)
        if isinstance(command, commands.MoreLikeThis):
            reply = self._similar(command, now)
            if reply.kind != "error":
                self.engage.more_like_this(caller, command.paper, now=now)
            return reply
        if isinstance(command, ENGAGING) and not commands.changes_channel(command):
            return self._engage(command, caller, now)
        if isinstance(command, commands.Trending):
            papers = digest.trending_papers(
                self.session_factory, now=now, settings=self.settings, limit=SEARCH_PAGE_SIZE
            )
            text = "Trending papers" if papers else "No papers yet: paperbot is still fetching."
            return Reply(kind="trending", text=text, papers=tuple(papers))
        if isinstance(command, commands.ListSettings):
            return self._list(caller, now)
        if caller.is_dm:
            return _error(
                "Channel digests are set up in a channel, not in a direct message: run this"
                " command in the channel that should get the digest. Search works here."
            )
        if not policy.may_change_channel(caller, self.settings.permissions.channel_changes):
            return _error(policy.refusal(caller))
        if caller.bot_can_post is False:
            return _error(self._cannot_post(caller))
        return self._change(command, caller, now)

    def _search(self, command: commands.Search, now: datetime) -> Reply:
        result = search.search_papers(
            self.session_factory,
            self.index,
            command.query,
            page=command.page,
            page_size=SEARCH_PAGE_SIZE,
            now=now,
        )
        notes = tuple(result.notes)
        if not result.cards:
            more = " on that page" if command.page > 1 else ""
            return Reply(
                kind="search",
                text=f"No papers found for {quoted(command.query)}{more}.",
                notes=notes,
            )
        first = (result.page - 1) * SEARCH_PAGE_SIZE + 1
        last = first + len(result.cards) - 1
        # Beyond a few hundred hits the engine estimates the total rather than counting it.
        total = f"{result.total}" if result.total < 200 else f"about {result.total:,}"
        text = f"Papers for {quoted(command.query)} ({first}–{last} of {total})"
        next_page = Page(command.query, result.page + 1) if result.has_next else None
        return Reply(
            kind="search", text=text, papers=result.cards, next_page=next_page, notes=notes
        )

    def _similar(self, command: commands.MoreLikeThis, now: datetime) -> Reply:
        paper, similar = search.similar_papers(
            self.session_factory, self.index, command.paper, limit=SEARCH_PAGE_SIZE, now=now
        )
        if paper is None:
            return _error(f"I don't know the paper `{command.paper[:40]}`. Use an arXiv id.")
        if not similar:
            return Reply(kind="similar", text=f"No papers similar to {quoted(paper.title)} yet.")
        return Reply(
            kind="similar", text=f"Papers like {quoted(paper.title)}", papers=tuple(similar)
        )

    def _list(self, caller: Caller, now: datetime) -> Reply:
        with self.session_factory() as session:
            channel = channels.find(session, _ref(caller))
            if channel is None or caller.is_dm:
                return Reply(
                    kind="info",
                    text="This channel gets no digest yet. Start one with"
                    " `/papers subscribe <topic>` or `/papers schedule 09:00 Europe/Berlin`.",
                )
            return Reply(
                kind="info", text=self._describe(session, channel, now), notes=self._notes(channel)
            )

    # --- channel changes ------------------------------------------------------------------

    def _change(self, command: Command, caller: Caller, now: datetime) -> Reply:
        ref = _ref(caller)
        if isinstance(command, commands.DigestNow):
            return self._digest_now(caller, now)
        if isinstance(command, ENGAGING):
            return self._engage(command, caller, now)
        with self.session_factory.begin() as session:
            channel = channels.get_or_create(session, ref, self.settings.digest, now=now)
            notes = self._notes(channel)
            text = self._apply(session, channel, command, caller, now)
            if isinstance(command, CONFIGURING):
                channel.configured_by = caller.user
            session.flush()
            if isinstance(command, commands.Resume | commands.Schedule):
                notes = self._notes(channel)
            return Reply(kind="changed", text=text, ephemeral=False, notes=notes)

    def _apply(
        self, session: Session, channel: Channel, command: Command, caller: Caller, now: datetime
    ) -> str:
        if isinstance(command, commands.Subscribe):
            if not channels.subscribe(session, channel, command.topic, user=caller.user, now=now):
                return f"This channel already follows {quoted(command.topic)}."
            return f"Subscribed this channel to {quoted(command.topic)}. " + self._next_line(
                channel, now
            )
        if isinstance(command, commands.Unsubscribe):
            removed = channels.unsubscribe(session, channel, command.topic)
            if not removed:
                topics = ", ".join(f"{quoted(s.topic)}" for s in channel.subscriptions) or "none"
                raise channels.ChannelError(
                    f"This channel does not follow {quoted(command.topic)}. Its topics: {topics}."
                )
            if command.topic.lower() == "all":
                return "Removed all topics; the digest now covers all papers."
            return f"Unsubscribed this channel from {quoted(removed[0])}."
        if isinstance(command, commands.Schedule):
            spec = channels.ScheduleSpec(
                time=command.at.strftime("%H:%M"),
                zone=command.zone or channel.timezone,
                days=command.days or channel.days,
            )
            channels.set_schedule(channel, spec)
            if channel.paused and kind_of(channel.pause_kind) is PauseKind.SCHEDULE:
                session.flush()
                pauses.resume(session, [Channel.id == channel.id])
                session.refresh(channel)
            return f"Set the digest to {self._when(channel)}. " + self._next_line(channel, now)
        if isinstance(command, commands.Size):
            channel.size = command.n
            return f"Set the digest to {command.n} papers."
        if isinstance(command, commands.Pause):
            session.flush()
            where = [Channel.id == channel.id]
            pauses.pause(session, where, f"paused by {caller.user}", PauseKind.PERSON)
            session.refresh(channel)
            return "Paused the daily digest. `/papers resume` starts it again."
        if isinstance(command, commands.Resume):
            session.flush()
            pauses.resume(session, [Channel.id == channel.id])
            session.refresh(channel)
            return "Resumed the daily digest. " + self._next_line(channel, now)
        raise ParseError("Unknown command. Try `/papers help`.")

    def _digest_now(self, caller: Caller, now: datetime) -> Reply:
        outcome = self.deliver_now(_ref(caller), now=now)
        return Reply(kind="info", text=outcome.message)

    def digest_builder(
        self, session: Session, channel: Channel, now: datetime, missed: int
    ) -> Digest:
        return self.digests.build(session, channel, now, missed)

    # --- delivery -------------------------------------------------------------------------

    def deliver_due(self, now: datetime) -> DeliveryReport:
        """One delivery pass as of `now` (the scheduler's tick, `paperbot deliver`)."""
        return self.delivery.deliver_due(now)

    def deliver_now(self, ref: ChannelRef, *, now: datetime) -> DeliveryOutcome:
        """Post a channel's next digest now (`/papers digest`, `paperbot digest`)."""
        if ref.platform not in self.platforms:
            text = "This platform cannot post digests right now; try again later."
            return DeliveryOutcome("failed", None, text)
        with self.session_factory.begin() as session:
            channel_id = channels.get_or_create(session, ref, self.settings.digest, now=now).id
        return self.delivery.deliver_now(channel_id, now)

    def delivery_tick(self, now: datetime) -> DeliveryReport:
        """The scheduler's delivery tick: bring this replica's index up to date (rebuilding a
        broken folder), then one pass."""
        index_repair.catch_up(self.index, self.session_factory)
        report = self.deliver_due(now)
        if any((report.planned, report.sent, report.reconciled, report.failed, report.paused)):
            log.info("delivery: %s", report.summary())
        return report

    def readiness(self) -> list[str]:
        """Why this replica is not ready to serve (empty: ready)."""
        return readiness.reasons(self.session_factory, self.index, self.platforms)

    # --- text helpers ---------------------------------------------------------------------

    @staticmethod
    def _when(channel: Channel) -> str:
        days = {"daily": "every day", "weekdays": "on weekdays"}.get(
            channel.days, "on " + channel.days.replace(",", ", ")
        )
        return f"{channel.digest_time} {channel.timezone} {days}"

    def _next_line(self, channel: Channel, now: datetime) -> str:
        if channel.paused:
            return "The digest is paused."
        try:
            nxt = schedule.next_run(channel, now)
        except (ValueError, LookupError):
            return f"The schedule does not work ({channel.timezone}): run `/papers schedule`."
        local = nxt.astimezone(schedule.zone_of(channel))
        return f"Next digest: {local:%a %d %b %H:%M} ({channel.timezone})."

    def _describe(self, session: Session, channel: Channel, now: datetime) -> str:
        topics = [s.topic for s in channel.subscriptions]
        lines = [
            "Topics: "
            + (", ".join(f"{quoted(t)}" for t in topics) if topics else "none (all papers)"),
            f"Schedule: {self._when(channel)}, {channel.size} papers",
        ]
        if channel.paused:
            lines.append(f"Paused: {channel.pause_reason or 'yes'}")
        else:
            lines.append(self._next_line(channel, now))
        if channel.roundup_day is not None:  # engagement
            lines.append(f"Weekly roundup: {weekly.describe(channel)}")
        # The caller's session: on SQLite a second one would wait for this one's lock.
        lines += delivery_history.lines(session, channel.id, _zone(channel))
        return "\n".join(lines)

    @staticmethod
    def _notes(channel: Channel) -> tuple[str, ...]:
        if channel.paused and kind_of(channel.pause_kind) is not PauseKind.PERSON:
            return (
                f"This channel's digest is paused: {channel.pause_reason}."
                " Fix that, then run `/papers resume`.",
            )
        return ()

    @staticmethod
    def _cannot_post(caller: Caller) -> str:
        if caller.platform == "slack":
            return "I can't post in this channel yet: invite @paperbot first (`/invite @paperbot`)."
        missing = caller.bot_missing or "Send Messages"
        return f"I can't post in this channel: I'm missing the *{missing}* permission here."

    # --- engagement (issue 12): thin methods delegating to core/engage -------------------

    def _engage(self, command: Command, caller: Caller, now: datetime) -> Reply:
        """Votes, discussions, /papers taste and /papers roundup (permission checked before,
        for a taste reset and roundups)."""
        if isinstance(command, commands.Vote):
            return self.engage.vote(command, caller, now=now)
        if isinstance(command, commands.Discuss):
            return self.engage.discuss(command, caller, now=now)
        if isinstance(command, commands.Taste):
            return self.engage.taste(command, caller, now=now)
        if isinstance(command, commands.Roundup) and command.action != "now":
            return self.engage.roundup_schedule(command, caller, now=now)
        outcome = self.roundup_now(_ref(caller), now=now)
        return Reply(kind="info", text=outcome.message)

    def roundup_now(self, ref: ChannelRef, *, now: datetime) -> DeliveryOutcome:
        """Post the channel's roundup now (`/papers roundup`): a delivery of kind roundup."""
        if ref.platform not in self.platforms:
            text = "This platform cannot post right now; try again later."
            return DeliveryOutcome("failed", None, text)
        with self.session_factory.begin() as session:
            channel_id = channels.get_or_create(session, ref, self.settings.digest, now=now).id
        return self.delivery.deliver_now(channel_id, now, kind="roundup")

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
        self._quietly(self.engage.record_posted, channel, message_id, papers, kind=kind, now=now)

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
            self._quietly(
                self.engage.react, channel, message_id, member, vote, added=added, now=now
            )
        )

    def thread_opened(
        self, channel: ChannelRef, paper: str, thread_id: str, *, now: datetime
    ) -> None:
        """The paper's discussion thread (Slack: the root message's ts; Discord: the thread)."""
        self._quietly(self.engage.thread_opened, channel, paper, thread_id, now=now)

    def thread_reply(
        self, channel: ChannelRef, thread_id: str, member: str, *, now: datetime
    ) -> bool:
        """A reply in a thread: engagement for its newest paper; False for unknown threads."""
        return bool(self._quietly(self.engage.thread_reply, channel, thread_id, member, now=now))

    @staticmethod
    def _quietly(method: Any, *args: Any, **kwargs: Any) -> Any:
        """Platform events never raise to the adapter: a failure is logged and dropped."""
        try:
            return method(*args, **kwargs)
        except Exception:
            log.exception("engagement event %s failed", getattr(method, "__name__", "?"))
            return None

    # --- end engagement -------------------------------------------------------------------

    # --- platform events ------------------------------------------------------------------

    def topics(self, ref: ChannelRef) -> list[str]:
        with self.session_factory() as session:
            channel = channels.find(session, ref)
            return [s.topic for s in channel.subscriptions] if channel else []

    def channel_gone(
        self, ref: ChannelRef, reason: str, *, now: datetime, kind: str = PauseKind.GONE
    ) -> None:
        with self.session_factory.begin() as session:
            channels.channel_gone(session, ref, reason, now=now, kind=kind_of(kind))

    def channel_back(self, ref: ChannelRef, kinds: Iterable[str] | None = None) -> bool:
        """paperbot can post in the channel again (re-invited, unarchived, a permission given
        back): resume it if it was paused for one of `kinds` (every reason when None)."""
        wanted = None if kinds is None else {kind_of(k) for k in kinds}
        with self.session_factory.begin() as session:
            done = pauses.resume(session, pauses.at(ref), wanted)
        if done:
            log.info("%s: paperbot can post again; its digest resumed", ref)
        return bool(done)

    def paused_channels(self, platform: str, workspace: str, kinds: Iterable[str]) -> list[str]:
        """The channel ids of a workspace paused for one of `kinds` (to check them again)."""
        where = [Channel.platform == platform, Channel.workspace == workspace]
        query = pauses.paused(where, {kind_of(k) for k in kinds}).with_only_columns(Channel.channel)
        with self.session_factory() as session:
            return list(session.scalars(query))

    def workspace_gone(self, platform: str, workspace: str, reason: str, *, now: datetime) -> None:
        with self.session_factory.begin() as session:
            n = channels.workspace_gone(session, platform, workspace, reason, now=now)
        log.info("%s workspace %s gone (%s): paused %d channels", platform, workspace, reason, n)

    def workspace_back(self, platform: str, workspace: str) -> None:
        """paperbot was added to the workspace again: resume what its removal, or a refused
        token, paused."""
        with self.session_factory.begin() as session:
            n = channels.workspace_back(session, platform, workspace)
            workspaces.resume(session, platform, workspace)
        if n:
            log.info("%s workspace %s is back: resumed %d channels", platform, workspace, n)
