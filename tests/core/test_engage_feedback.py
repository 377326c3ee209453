"""Feedback through the service: votes (withdraw, change), reactions only on one-paper
messages, shares, threads crediting their newest paper, bad input, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

from engage_world import NOW, Recording, admin, member, platform, ref
from sqlalchemy import func, select

from paperbot.bootstrap import Core
from paperbot.core.commands import Caller, Discuss, Vote
from paperbot.core.models import FeedbackSignal, FeedbackVote, Paper


def votes(core: Core) -> list[tuple[str, int]]:
    with core.session_factory() as session:
        rows = session.execute(select(FeedbackVote.member, FeedbackVote.value)).all()
        return sorted((who, value) for who, value in rows)


def signals(core: Core) -> list[str]:
    with core.session_factory() as session:
        return sorted(session.scalars(select(FeedbackSignal.kind)))


def posted_digest(core: Core, channel: str = "C1", workspace: str = "T1") -> list[str]:
    """Post a digest of 5 to the channel; the keys of its papers, in order."""
    service = core.service
    service.handle_text("size 5", admin(channel, workspace), now=NOW)
    assert service.deliver_now(ref(channel, workspace), now=NOW).status == "sent"
    return [key for _, key in platform(core).messages(channel)]


def test_same_press_withdraws_the_other_changes_one_vote_each(engaged: Core) -> None:
    service = engaged.service
    first, second, *_ = posted_digest(engaged)
    like, dislike = Vote(first, "like"), Vote(first, "dislike")
    reply = service.execute(like, member("U1"), now=NOW)
    assert (reply.kind, reply.ephemeral) == ("ack", True)
    assert reply.text == "👍 noted: paperbot will show #lab more like this."
    assert service.execute(like, member("U1"), now=NOW).text == "Your 👍 is withdrawn."
    assert votes(engaged) == []
    service.execute(like, member("U1"), now=NOW)
    changed = service.execute(dislike, member("U1"), now=NOW).text
    assert changed.endswith("👎 noted: fewer like this in #lab.")
    service.execute(like, member("U2"), now=NOW)
    service.execute(Vote(second, "dislike"), member("U2"), now=NOW)
    assert votes(engaged) == [("U1", -1), ("U2", -1), ("U2", 1)]
    nameless = Caller("fake", "T1", "C1", "U3")
    assert "show this channel more" in service.execute(like, nameless, now=NOW).text
    assert platform(engaged).digests_of("C1") == 1  # a press posts nothing to the channel


def test_reactions_count_only_on_messages_showing_one_paper(engaged: Core) -> None:
    service = engaged.service
    keys = posted_digest(engaged)
    message, key = platform(engaged).messages("C1")[0]
    assert key == keys[0]
    assert service.react(ref(), message, "U1", "like", added=True, now=NOW)
    assert service.react(ref(), message, "U1", "like", added=True, now=NOW)  # no double
    assert votes(engaged) == [("U1", 1)]
    # Removing a 👎 the member never gave leaves the 👍; removing the 👍 withdraws it.
    service.react(ref(), message, "U1", "dislike", added=False, now=NOW)
    assert votes(engaged) == [("U1", 1)]
    service.react(ref(), message, "U1", "like", added=False, now=NOW)
    assert votes(engaged) == []
    # A digest posted as one message of five papers: a reaction on it names no paper.
    whole = Recording(name="fake", per_part=0)
    service.platforms["fake"] = whole
    service.handle_text("size 3", admin("C2"), now=NOW)
    service.deliver_now(ref("C2"), now=NOW)
    (post,) = whole.posts
    assert len(post.papers) == 3
    assert not service.react(ref("C2"), f"msg-{post.key}-0", "U1", "like", added=True, now=NOW)
    # Unknown messages, other channels' messages and unknown channels do not count either.
    assert not service.react(ref(), "nope", "U1", "like", added=True, now=NOW)
    assert not service.react(ref("C2"), message, "U1", "like", added=True, now=NOW)
    assert not service.react(ref("C9"), message, "U1", "like", added=True, now=NOW)
    assert votes(engaged) == []


def test_shared_posts_count_as_weak_positives_and_take_reactions(engaged: Core) -> None:
    service = engaged.service
    keys = posted_digest(engaged)
    service.record_posted(ref(), "share-1", [keys[0]], kind="share", now=NOW)
    service.record_posted(ref(), "share-1", [keys[0]], kind="share", now=NOW)  # recorded once
    service.record_posted(ref(), "share-2", keys[1:3], kind="share", now=NOW)
    assert signals(engaged) == ["share"] * 3
    assert service.react(ref(), "share-1", "U1", "dislike", added=True, now=NOW)
    assert not service.react(ref(), "share-2", "U1", "dislike", added=True, now=NOW)
    assert votes(engaged) == [("U1", -1)]
    # A channel paperbot never served: nothing is stored, nothing raises.
    service.record_posted(ref("C9"), "share-3", [keys[0]], kind="share", now=NOW)
    service.record_posted(ref(), "x", [keys[0]], kind="bogus", now=NOW)
    assert signals(engaged) == ["share"] * 3


def test_threads_credit_the_paper_posted_in_them_most_recently(engaged: Core) -> None:
    service = engaged.service
    first, second, *_ = posted_digest(engaged)
    discuss = service.execute(Discuss(first), member("U1"), now=NOW)
    assert (discuss.kind, discuss.thread) == ("discuss", None)
    assert discuss.papers[0].key == first
    service.thread_opened(ref(), first, "1700.0001", now=NOW)
    again = service.execute(Discuss(first), member("U2"), now=NOW)
    assert again.thread == "1700.0001"  # a second press points to the thread
    assert service.thread_reply(ref(), "1700.0001", "U3", now=NOW)
    # Slack: the second paper is posted in the same thread; replies now go to it.
    service.thread_opened(ref(), second, "1700.0001", now=NOW + timedelta(minutes=1))
    assert service.thread_reply(ref(), "1700.0001", "U3", now=NOW + timedelta(minutes=2))
    assert not service.thread_reply(ref(), "1699.9999", "U3", now=NOW)
    assert not service.thread_reply(ref("C9"), "1700.0001", "U3", now=NOW)
    with engaged.session_factory() as session:
        replies = session.execute(
            select(FeedbackSignal.paper_id, func.count())
            .where(FeedbackSignal.kind == "reply")
            .group_by(FeedbackSignal.paper_id)
        ).all()
    assert len(replies) == 2 and all(n == 1 for _, n in replies)
    assert signals(engaged) == ["discuss", "reply", "reply"]  # one discuss: the thread's opener


def test_presses_nobody_can_act_on_get_friendly_errors_and_store_nothing(engaged: Core) -> None:
    service = engaged.service
    keys = posted_digest(engaged)
    unknown = service.execute(Vote("0000.00000", "like"), member("U1"), now=NOW)
    assert unknown.kind == "error" and "don't know that paper" in unknown.text
    dm = Caller("fake", "T1", "D1", "U1", is_dm=True)
    assert service.execute(Vote(keys[0], "like"), dm, now=NOW).kind == "error"
    assert service.execute(Discuss(keys[0]), dm, now=NOW).kind == "error"
    nowhere = service.execute(Vote(keys[0], "like"), member("U1", "C9"), now=NOW)
    assert nowhere.kind == "error" and "no digest yet" in nowhere.text
    assert votes(engaged) == [] and signals(engaged) == []


def test_more_like_this_in_a_channel_is_a_weak_positive(engaged: Core) -> None:
    service = engaged.service
    keys = posted_digest(engaged)
    reply = service.handle_text(f"more-like-this {keys[0]}", member("U1"), now=NOW)
    assert reply.kind == "similar"
    service.handle_text("more-like-this 0000.00000", member("U1"), now=NOW)  # unknown: nothing
    assert signals(engaged) == ["more"]


def test_more_like_this_typed_as_an_arxiv_url_or_version_counts_for_that_paper(
    engaged: Core,
) -> None:
    service = engaged.service
    keys = posted_digest(engaged)
    with engaged.session_factory() as session:
        papers = session.scalars(select(Paper).where(Paper.key.in_(keys[:2]))).all()
        arxiv = {p.key: p.arxiv_id for p in papers}
    first, second = (arxiv[key] for key in keys[:2])
    assert first and second
    for typed in (f"https://arxiv.org/abs/{first}v2", f"arXiv:{second}v1"):
        assert service.handle_text(f"more-like-this {typed}", member("U1"), now=NOW).kind == (
            "similar"
        )
    with engaged.session_factory() as session:
        credited = session.scalars(
            select(Paper.key).join(FeedbackSignal, FeedbackSignal.paper_id == Paper.id)
        ).all()
    assert sorted(credited) == sorted(keys[:2])


def test_presses_at_the_same_moment_keep_one_vote_per_member(engaged: Core) -> None:
    service = engaged.service
    key = posted_digest(engaged)[0]
    start = threading.Barrier(6)
    replies: list[str] = []

    def press(user: str) -> None:
        start.wait()
        replies.append(service.execute(Vote(key, "like"), member(user), now=NOW).kind)

    # Three members, each pressing twice at once (a double click): never an error.
    workers = [threading.Thread(target=press, args=(u,)) for u in ("U1", "U2", "U3") * 2]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert replies == ["ack"] * 6
    assert all(value == 1 for _, value in votes(engaged))
    assert len({who for who, _ in votes(engaged)}) == len(votes(engaged))
