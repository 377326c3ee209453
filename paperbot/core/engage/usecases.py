"""What the service's engagement methods do: votes, reactions, discussions, threads, shares,
`/papers taste` and the roundup's schedule. Every one is per channel (platform, workspace,
channel): one team's feedback never reaches another's."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from paperbot.config import Settings
from paperbot.core import commands
from paperbot.core.channels import store as channels
from paperbot.core.commands import Caller
from paperbot.core.engage import feedback, lean, posts, threads, weekly
from paperbot.core.engage.taste import paper_weights
from paperbot.core.messages import ChannelRef, Reply
from paperbot.core.models import Channel, Paper
from paperbot.core.papers.store import ids_by_key
from paperbot.core.papers.trending import load_cards

T = TypeVar("T")

NO_DIGEST = (
    "This channel gets no digest yet, so there is no taste to teach: start one with"
    " `/papers subscribe <topic>`."
)


def channel_name(caller: Caller) -> str:
    name = (caller.channel_name or "").strip()
    if not name:
        return "this channel"
    return name if name.startswith("#") else f"#{name}"


def _known(session: Session, ref: ChannelRef) -> Channel | None:
    channel = channels.find(session, ref)
    return channel if channel is not None and channel.removed_at is None else None


@dataclass
class Engagement:
    """The engagement use cases over the store (the service's block delegates here)."""

    session_factory: sessionmaker[Session]
    settings: Settings

    # --- presses (commands) ---------------------------------------------------------------

    def vote(self, command: commands.Vote, caller: Caller, *, now: datetime) -> Reply:
        if caller.is_dm:
            return Reply(
                kind="error", text="👍/👎 teach a channel's digest: use them in a channel."
            )
        ref = ChannelRef(caller.platform, caller.workspace, caller.channel)

        def press(session: Session) -> feedback.VoteResult | Reply:
            channel = _known(session, ref)
            if channel is None:
                return Reply(kind="error", text=NO_DIGEST)
            pid = ids_by_key(session, [command.paper]).get(command.paper)
            if pid is None:
                return Reply(kind="error", text="I don't know that paper any more.")
            return feedback.vote(session, channel.id, pid, caller.user, command.value, now)

        done = self._transact(press)
        if isinstance(done, Reply):
            return done
        where = channel_name(caller)
        if done == "withdrawn":
            return Reply(kind="ack", text=f"Your {_thumb(command.value)} is withdrawn.")
        if command.value == "like":
            text = f"👍 noted: paperbot will show {where} more like this."
        else:
            text = f"👎 noted: fewer like this in {where}."
        if done == "changed":
            text = "Changed your vote. " + text
        return Reply(kind="ack", text=text)

    def discuss(self, command: commands.Discuss, caller: Caller, *, now: datetime) -> Reply:
        if caller.is_dm:
            return Reply(kind="error", text="Discussions happen in a channel, not here.")
        with self.session_factory.begin() as session:
            pid = ids_by_key(session, [command.paper]).get(command.paper)
            if pid is None:
                return Reply(kind="error", text="I don't know that paper any more.")
            card = load_cards(session, [pid])[pid]
            channel = _known(session, ChannelRef(caller.platform, caller.workspace, caller.channel))
            thread = threads.thread_of(session, channel.id, pid) if channel else None
            if channel is not None and thread is None:
                feedback.signal(session, channel.id, [pid], "discuss", now)
        text = "Discussion is here" if thread else f"Discussing {card.title}"
        return Reply(kind="discuss", text=text, papers=(card,), thread=thread)

    def more_like_this(self, caller: Caller, paper: str, *, now: datetime) -> None:
        """ "More like this" pressed in a channel: a weaker positive for that paper."""
        if caller.is_dm:
            return
        self._signal(
            ChannelRef(caller.platform, caller.workspace, caller.channel), [paper], "more", now
        )

    # --- /papers taste and roundup schedules ----------------------------------------------

    def taste(self, command: commands.Taste, caller: Caller, *, now: datetime) -> Reply:
        ref = ChannelRef(caller.platform, caller.workspace, caller.channel)
        where = channel_name(caller)
        with self.session_factory.begin() as session:
            channel = None if caller.is_dm else _known(session, ref)
            if channel is None:
                return Reply(kind="info", text=f"{NO_DIGEST[:-1]} and use 👍/👎 on its papers.")
            if command.reset:
                gone = feedback.forget(session, [channel.id])
                n, weak = gone.likes, gone.weak
                more = f", {weak} weaker signal{'s' if weak != 1 else ''}" if weak else ""
                text = f"Forgot {where}'s taste ({n} vote{'s' if n != 1 else ''}{more})."
                return Reply(kind="changed", text=text, ephemeral=False)
            examples = feedback.examples(session, channel.id)
            counts = feedback.counts(examples)
            titles = self._net_titles(session, examples, now)
        if not counts.total:
            return Reply(
                kind="info",
                text=f"{where} has no feedback yet: 👍/👎 on digest papers teach paperbot"
                " its taste.",
            )
        to, away = lean.leanings(titles)
        lines = [
            f"{where}'s taste: {counts.likes} 👍, {counts.dislikes} 👎, {counts.weak} weaker"
            f" signal{'s' if counts.weak != 1 else ''} (more like this, shares, discussions,"
            " thread replies)."
        ]
        lines.append("Leans to: " + (", ".join(to) if to else "nothing clear yet"))
        if away:
            lines.append("Leans away from: " + ", ".join(away))
        return Reply(kind="info", text="\n".join(lines))

    def _net_titles(
        self, session: Session, examples: Sequence[feedback.Example], now: datetime
    ) -> dict[str, float]:
        """Each paper's net feedback (undecayed), by title."""
        weak = self.settings.engage.weak_weight
        weights = paper_weights(examples, now=now, half_life_days=math.inf, weak=weak)
        rows = session.execute(select(Paper.id, Paper.title).where(Paper.id.in_(list(weights))))
        return {title: weights[pid] for pid, title in rows if weights[pid]}

    def roundup_schedule(
        self, command: commands.Roundup, caller: Caller, *, now: datetime
    ) -> Reply:
        ref = ChannelRef(caller.platform, caller.workspace, caller.channel)
        with self.session_factory.begin() as session:
            channel = channels.get_or_create(session, ref, self.settings.digest, now=now)
            if command.action == "off":
                had = weekly.stop(channel)
                text = (
                    "Stopped the weekly roundup." if had else "This channel has no weekly roundup."
                )
                return Reply(kind="changed", text=text, ephemeral=False)
            assert command.weekday is not None and command.at is not None
            weekly.set_weekly(channel, command.weekday, command.at, command.zone)
            when = weekly.describe(channel)
        return Reply(
            kind="changed",
            text=f"The week's roundup will be posted here {when}. `/papers roundup off` stops it.",
            ephemeral=False,
        )

    # --- platform events ------------------------------------------------------------------

    def record_posted(
        self, ref: ChannelRef, message_id: str, papers: Sequence[str], *, kind: str, now: datetime
    ) -> None:
        if kind not in posts.KINDS or not message_id:
            return
        with self.session_factory.begin() as session:
            channel = _known(session, ref)
            if channel is None:
                return
            fresh = posts.record(session, channel.id, message_id, papers, kind, now)
            if fresh and kind == "share":
                ids = ids_by_key(session, papers)
                feedback.signal(session, channel.id, list(ids.values()), "share", now)

    def react(
        self,
        ref: ChannelRef,
        message_id: str,
        member: str,
        vote: feedback.VoteValue,
        *,
        added: bool,
        now: datetime,
    ) -> bool:
        def reaction(session: Session) -> bool:
            channel = _known(session, ref)
            if channel is None or not member:
                return False
            key = posts.only_paper(session, channel.id, message_id)
            pid = ids_by_key(session, [key]).get(key) if key else None
            if pid is None:
                return False
            feedback.set_vote(session, channel.id, pid, member, vote, added=added, now=now)
            return True

        return self._transact(reaction)

    def thread_opened(self, ref: ChannelRef, paper: str, thread_id: str, *, now: datetime) -> None:
        def opened(session: Session) -> None:
            channel = _known(session, ref)
            pid = ids_by_key(session, [paper]).get(paper)
            if channel is not None and pid is not None and thread_id:
                threads.opened(session, channel.id, pid, thread_id, now)

        self._transact(opened)

    def thread_reply(self, ref: ChannelRef, thread_id: str, member: str, *, now: datetime) -> bool:
        with self.session_factory.begin() as session:
            channel = _known(session, ref)
            if channel is None or not thread_id:
                return False
            pid = threads.paper_in(session, channel.id, thread_id)
            if pid is None:
                return False
            feedback.signal(session, channel.id, [pid], "reply", now)
        return True

    def _transact(self, work: Callable[[Session], T]) -> T:
        """`work` in one transaction; once more when a concurrent press (a double click, two
        replicas) inserted the same vote or thread first."""
        try:
            with self.session_factory.begin() as session:
                return work(session)
        except IntegrityError:
            with self.session_factory.begin() as session:
                return work(session)

    def _signal(self, ref: ChannelRef, keys: Sequence[str], kind: str, now: datetime) -> None:
        with self.session_factory.begin() as session:
            channel = _known(session, ref)
            ids = ids_by_key(session, keys)
            if channel is not None and ids:
                feedback.signal(session, channel.id, list(ids.values()), kind, now)


def _thumb(value: str) -> str:
    return "👍" if value == "like" else "👎"


__all__ = ["Engagement", "channel_name"]
