"""Channel taste through the service: likes of one group of papers lead the next digest (its
why line says so), disliked papers stay away, restarts keep it, workspaces stay apart,
/papers taste tells what it learned and `taste reset` forgets it."""

from __future__ import annotations

from typing import Any

from engage_world import (
    NOW,
    Groups,
    Recording,
    admin,
    groups,
    member,
    open_core,
    platform,
    preview,
    ref,
)

from paperbot.bootstrap import Core
from paperbot.core.commands import Vote
from paperbot.core.messages import Digest


def teach(core: Core, g: Groups, channel: str = "C1", workspace: str = "T1") -> None:
    """Two members like three papers of group A and dislike three of group B."""
    for user in ("U1", "U2"):
        who = member(user, channel, workspace)
        for key in g.a[1:4]:
            core.service.execute(Vote(key, "like"), who, now=NOW)
        for key in g.b[:3]:
            core.service.execute(Vote(key, "dislike"), who, now=NOW)


def shown(digest: Digest) -> list[str]:
    return [card.key for card in digest.papers]


def test_after_likes_of_group_a_the_next_digest_leads_with_a(engaged: Core) -> None:
    service, g = engaged.service, groups(engaged)
    service.handle_text("size 6", admin(), now=NOW)
    before = shown(preview(engaged, ref()))
    assert sum(k in g.a for k in before) < 5  # trending alone does not pick them
    teach(engaged, g)
    assert service.deliver_now(ref(), now=NOW).status == "sent"
    (digest,) = platform(engaged).digests
    keys = shown(digest)
    assert len(keys) == 6 and sum(k in g.a for k in keys) >= 5 and keys[0] in g.a
    assert not set(keys) & set(g.b)
    liked = {g.titles[k] for k in g.a[1:4]}
    first = digest.papers[0].why
    assert "liked: " in first, first
    assert any(first.endswith("liked: " + t) or ("liked: " + t[:60]) in first for t in liked)


def test_a_restart_between_feedback_and_the_next_digest_keeps_the_taste(
    make_settings: Any,
) -> None:
    first = open_core(make_settings)
    try:
        g = groups(first)
        first.service.platforms["fake"] = Recording(per_part=1)
        first.service.handle_text("size 6", admin(), now=NOW)
        teach(first, g)
    finally:
        first.close()
    again = open_core(make_settings)  # a new process on the same database and index
    try:
        again.service.platforms["fake"] = Recording(per_part=1)
        again.service.deliver_now(ref(), now=NOW)
        keys = shown(platform(again).digests[0])
        assert sum(k in g.a for k in keys) >= 5
    finally:
        again.close()


def test_one_workspaces_feedback_never_moves_anothers_ranking(engaged: Core) -> None:
    service, g = engaged.service, groups(engaged)
    for workspace in ("T1", "T2"):
        service.handle_text("size 6", admin("C1", workspace), now=NOW)
    other = preview(engaged, ref("C1", "T2"))
    teach(engaged, g, "C1", "T1")
    assert preview(engaged, ref("C1", "T2")) == other
    assert shown(preview(engaged, ref("C1", "T1"))) != shown(other)
    assert "liked:" not in " ".join(c.why for c in other.papers)


def test_a_disliked_paper_is_not_shown_again(engaged: Core) -> None:
    service = engaged.service
    service.handle_text("size 6", admin(), now=NOW)
    top = shown(preview(engaged, ref()))[0]
    service.execute(Vote(top, "dislike"), member("U1"), now=NOW)
    assert top not in shown(preview(engaged, ref()))
    service.execute(Vote(top, "dislike"), member("U1"), now=NOW)  # withdrawn: it is back
    assert top in shown(preview(engaged, ref()))


def test_taste_says_what_it_learned_and_reset_forgets_it(engaged: Core) -> None:
    service, g = engaged.service, groups(engaged)
    service.handle_text("size 6", admin(), now=NOW)
    untouched = preview(engaged, ref())
    empty = service.handle_text("taste", member("U1"), now=NOW)
    assert empty.kind == "info" and "no feedback yet" in empty.text
    teach(engaged, g)
    told = service.handle_text("taste", member("U1"), now=NOW)
    assert told.kind == "info" and told.text.startswith("#lab's taste: 6 👍, 6 👎, 0 weaker")
    assert "Leans to: " in told.text and "Leans away from: " in told.text
    refused = service.handle_text("taste reset", member("U1"), now=NOW)
    assert refused.kind == "error" and refused.text.startswith("Only admins can change")
    assert service.handle_text("taste", member("U1"), now=NOW).text == told.text
    bad = service.handle_text("taste forget-everything", admin(), now=NOW)
    assert bad.kind == "error" and "Usage: /papers taste" in bad.text
    reset = service.handle_text("taste reset", admin(), now=NOW)
    assert (reset.kind, reset.ephemeral) == ("changed", False)
    assert reset.text == "Forgot #lab's taste (12 votes)."
    assert preview(engaged, ref()) == untouched
    assert "no feedback yet" in service.handle_text("taste", member("U1"), now=NOW).text


def test_weaker_signals_alone_nudge_the_scheduled_digest(engaged: Core) -> None:
    service, g = engaged.service, groups(engaged)
    service.handle_text("size 6", admin(), now=NOW)
    service.handle_text("schedule 11:00 UTC", admin(), now=NOW)
    at = NOW.replace(hour=11)
    first = shown(preview(engaged, ref(), at))
    # Shares and thread replies only, of papers the digest would not show: no vote at all.
    shared = [k for k in g.a if k not in first][:4]
    for n, key in enumerate(shared):
        service.record_posted(ref(), f"share-{n}", [key], kind="share", now=NOW)
        service.thread_opened(ref(), key, f"1700.{n}", now=NOW)
        service.thread_reply(ref(), f"1700.{n}", "U1", now=NOW)
    service.deliver_due(at)  # the scheduled digest, by the delivery pass
    (digest,) = platform(engaged).digests
    assert shown(digest) != first and not set(shown(digest)) & set(shared)
    names = {g.titles[k][:60] for k in shared}
    lifted = [c.why for c in digest.papers if "liked: " in c.why]
    assert len(lifted) >= 2
    assert all(any(n in why.split("liked: ")[1] for n in names) for why in lifted)
