"""Use cases behind every chat command: execute(Command, Caller) -> Reply, for all adapters."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from time import perf_counter

from sqlalchemy.orm import Session, sessionmaker

from paperbot.config import Settings
from paperbot.core import channels, commands, delivery, digest, metrics, policy, schedule, search
from paperbot.core.commands import Caller, Command, ParseError
from paperbot.core.messages import ChannelRef, Digest, Page, Reply
from paperbot.core.models import Channel
from paperbot.core.ports import ChatPlatform
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
            return self._similar(command, now)
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
            return Reply(kind="info", text=self._describe(channel, now), notes=self._notes(channel))

    # --- channel changes ------------------------------------------------------------------

    def _change(self, command: Command, caller: Caller, now: datetime) -> Reply:
        ref = _ref(caller)
        if isinstance(command, commands.DigestNow):
            return self._digest_now(caller, now)
        with self.session_factory.begin() as session:
            channel = channels.get_or_create(session, ref, self.settings.digest, now=now)
            notes = self._notes(channel)
            text = self._apply(session, channel, command, caller, now)
            session.flush()
            if isinstance(command, commands.Resume):
                notes = ()
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
            return f"Set the digest to {self._when(channel)}. " + self._next_line(channel, now)
        if isinstance(command, commands.Size):
            channel.size = command.n
            return f"Set the digest to {command.n} papers."
        if isinstance(command, commands.Pause):
            channel.paused, channel.pause_reason = True, f"paused by {caller.user}"
            return "Paused the daily digest. `/papers resume` starts it again."
        if isinstance(command, commands.Resume):
            channel.paused, channel.pause_reason, channel.removed_at = False, None, None
            return "Resumed the daily digest. " + self._next_line(channel, now)
        raise ParseError("Unknown command. Try `/papers help`.")

    def _digest_now(self, caller: Caller, now: datetime) -> Reply:
        platform = self.platforms.get(caller.platform)
        if platform is None:
            return _error("This platform cannot post digests right now; try again later.")
        with self.session_factory.begin() as session:
            channel_id = channels.get_or_create(
                session, _ref(caller), self.settings.digest, now=now
            ).id
        outcome = delivery.deliver_now(
            self.session_factory,
            platform,
            channel_id,
            self.digest_builder,
            now=now,
            settings=self.settings,
            worker_id=self.worker_id,
        )
        return Reply(kind="info", text=outcome.message)

    def digest_builder(
        self, session: Session, channel: Channel, now: datetime, missed: int
    ) -> Digest:
        return digest.build_digest(
            session,
            self.index,
            channel,
            now=now,
            settings=self.settings,
            missed_slots=missed,
            cache=self.digest_cache,
        )

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
        nxt = schedule.next_run(channel, now)
        local = nxt.astimezone(schedule.zone_of(channel))
        return f"Next digest: {local:%a %d %b %H:%M} ({channel.timezone})."

    def _describe(self, channel: Channel, now: datetime) -> str:
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
        return "\n".join(lines)

    @staticmethod
    def _notes(channel: Channel) -> tuple[str, ...]:
        if (
            channel.paused
            and channel.pause_reason
            and not channel.pause_reason.startswith("paused by")
        ):
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

    # --- platform events ------------------------------------------------------------------

    def topics(self, ref: ChannelRef) -> list[str]:
        with self.session_factory() as session:
            channel = channels.find(session, ref)
            return [s.topic for s in channel.subscriptions] if channel else []

    def channel_gone(self, ref: ChannelRef, reason: str, *, now: datetime) -> None:
        with self.session_factory.begin() as session:
            channels.channel_gone(session, ref, reason, now=now)

    def workspace_gone(self, platform: str, workspace: str, reason: str, *, now: datetime) -> None:
        with self.session_factory.begin() as session:
            n = channels.workspace_gone(session, platform, workspace, reason, now=now)
        log.info("%s workspace %s gone (%s): paused %d channels", platform, workspace, reason, n)

    def workspace_back(self, platform: str, workspace: str) -> None:
        with self.session_factory.begin() as session:
            n = channels.workspace_back(session, platform, workspace)
        if n:
            log.info("%s workspace %s is back: resumed %d channels", platform, workspace, n)
