"""The chat commands' use cases: a Command from a Caller -> the Reply paperbot answers with."""

from __future__ import annotations

import logging
from datetime import datetime
from time import perf_counter
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from paperbot.core import commands, db, metrics, search
from paperbot.core.channels import policy, schedule
from paperbot.core.channels import store as channels
from paperbot.core.channels.when import DAY_NAMES, weekday_of
from paperbot.core.commands import Caller, Command
from paperbot.core.delivery import history as delivery_history
from paperbot.core.delivery import pauses
from paperbot.core.delivery.status import CAN_POST_AGAIN, PauseKind, kind_of
from paperbot.core.engage import weekly
from paperbot.core.engage.usecases import Engagement
from paperbot.core.errors import SORRY, PaperbotError, UserError
from paperbot.core.limits import SEARCH_PAGE_SIZE
from paperbot.core.messages import ChannelRef, Page, PaperCard, Reply
from paperbot.core.models import Channel
from paperbot.core.service.channel_admin import ChannelAdmin
from paperbot.core.service.context import Context
from paperbot.core.service.delivery import Deliveries
from paperbot.core.service.papers import Papers

log = logging.getLogger(__name__)


# Commands about the channel: their permission check also tells whether paperbot can post.
ABOUT_CHANNEL = (*commands.CHANNEL_CHANGES, commands.ListSettings)
# Changes that make the caller the person to tell when the channel's digest pauses.
CONFIGURING = (commands.Subscribe, commands.Unsubscribe, commands.Schedule, commands.Size)


def _ref(caller: Caller) -> ChannelRef:
    return ChannelRef(caller.platform, caller.workspace, caller.channel)


def _day_name(day: str) -> str:
    """ "mon" -> "Mondays" (the stored days are weekday prefixes)."""
    number = weekday_of(day.strip())
    return f"{DAY_NAMES[number].title()}s" if number is not None else day


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


# Engagement commands (the block "# --- engagement" below handles them).
ENGAGING = (commands.Vote, commands.Discuss, commands.Taste, commands.Roundup)


class Chat:
    """Runs commands for every chat front end (Slack, Discord, the console)."""

    def __init__(
        self,
        ctx: Context,
        admin: ChannelAdmin,
        deliveries: Deliveries,
        papers: Papers,
        engage: Engagement,
    ) -> None:
        self.ctx = ctx
        self.admin = admin
        self.deliveries = deliveries
        self.papers = papers
        self.engage = engage

    def handle_text(self, text: str, caller: Caller, *, now: datetime) -> Reply:
        try:
            command = commands.parse(text)
        except UserError as exc:
            return _error(str(exc))
        return self.execute(command, caller, now=now)

    def execute(self, command: Command, caller: Caller, *, now: datetime) -> Reply:
        name = type(command).__name__.lower()
        started = perf_counter()
        try:
            if caller.bot_can_post and not caller.is_dm and isinstance(command, ABOUT_CHANNEL):
                # A check that paperbot can post here now ends a pause for not being able to.
                self.admin.channel_back(_ref(caller), CAN_POST_AGAIN)
            reply = self._dispatch(command, caller, now)
        except UserError as exc:  # the error tree, mapped once: the person's own answer
            reply = _error(str(exc))
        except PaperbotError as exc:  # operational: the operator reads why in the log
            log.warning("command %s failed: %s", name, exc)
            reply = _error(SORRY)
        except Exception:
            log.exception("command %s failed", name)
            reply = _error(SORRY)
        metrics.observe_command(caller.platform, name, perf_counter() - started)
        return reply

    # --- dispatch -------------------------------------------------------------------------

    def _dispatch(self, command: Command, caller: Caller, now: datetime) -> Reply:
        if isinstance(command, commands.Help):
            return Reply(kind="help", text=commands.help_text(command.topic))
        if isinstance(command, commands.Search):
            return self._search(command, now)
        if isinstance(command, commands.MoreLikeThis):
            subject, reply = self._similar(command, now)
            if subject is not None:  # the signal is the resolved paper's, however it was typed
                self.engage.more_like_this(caller, subject.key, now=now)
            return reply
        if isinstance(command, ENGAGING) and not commands.changes_channel(command):
            return self._engage(command, caller, now)
        if isinstance(command, commands.Trending):
            papers = self.papers.trending(now=now, limit=SEARCH_PAGE_SIZE)
            text = "Trending papers" if papers else "No papers yet: paperbot is still fetching."
            return Reply(kind="trending", text=text, papers=tuple(papers))
        if isinstance(command, commands.ListSettings):
            return self._list(caller, now)
        if caller.is_dm:
            return _error(
                "Channel digests are set up in a channel, not in a direct message: run this"
                " command in the channel that should get the digest. Search works here."
            )
        if not policy.may_change_channel(caller, self.ctx.settings.permissions.channel_changes):
            return _error(policy.refusal(caller))
        if caller.bot_can_post is False:
            return _error(self._cannot_post(caller))
        return self._change(command, caller, now)

    def _search(self, command: commands.Search, now: datetime) -> Reply:
        result = search.search_papers(
            self.ctx.session_factory,
            self.ctx.index,
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

    def _similar(
        self, command: commands.MoreLikeThis, now: datetime
    ) -> tuple[PaperCard | None, Reply]:
        """The paper the command names (None if unknown) and the reply listing papers like it."""
        paper, similar = search.similar_papers(
            self.ctx.session_factory, self.ctx.index, command.paper, limit=SEARCH_PAGE_SIZE, now=now
        )
        if paper is None:
            return None, _error(f"I don't know the paper `{command.paper[:40]}`. Use an arXiv id.")
        if not similar:
            text = f"No papers similar to {quoted(paper.title)} yet."
            return paper, Reply(kind="similar", text=text)
        return paper, Reply(
            kind="similar", text=f"Papers like {quoted(paper.title)}", papers=tuple(similar)
        )

    def _list(self, caller: Caller, now: datetime) -> Reply:
        with db.snapshot(self.ctx.session_factory) as session:
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
            outcome = self.deliveries.deliver_now(ref, now=now)
            return Reply(kind="info", text=outcome.message)
        if isinstance(command, ENGAGING):
            return self._engage(command, caller, now)
        with self.ctx.session_factory.begin() as session:
            channel = channels.get_or_create(session, ref, self.ctx.settings.digest, now=now)
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
                time=command.at.strftime("%H:%M") if command.at else channel.digest_time,
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
        raise commands.ParseError("Unknown command. Try `/papers help`.")

    # --- text helpers ---------------------------------------------------------------------

    @staticmethod
    def _when(channel: Channel) -> str:
        days = {"daily": "every day", "weekdays": "on weekdays"}.get(
            channel.days, "on " + ", ".join(_day_name(d) for d in channel.days.split(","))
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
        if caller.bot_missing:
            missing = caller.bot_missing
            return f"I can't post in this channel: I'm missing the *{missing}* permission here."
        return f"I can't post in this channel yet: {caller.fix_posting or 'add me to it first'}."

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
        outcome = self.deliveries.deliver_now(_ref(caller), now=now, kind="roundup")
        return Reply(kind="info", text=outcome.message)
