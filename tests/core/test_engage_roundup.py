"""The week's roundup through the service: ordered by the channel's own engagement with its
counts, posted now or weekly by the delivery machinery (once per slot, missed ones noted),
writing no posted rows; bad input changes nothing."""

from __future__ import annotations

from datetime import timedelta

from engage_world import NOW, admin, member, open_core, platform, ref
from sqlalchemy import func, select

from paperbot.bootstrap import Core
from paperbot.core.commands import Discuss, Vote
from paperbot.core.messages import Digest
from paperbot.core.models import Channel, Delivery, Paper, PostedPaper
from paperbot.core.ports import DeliveryError

# NOW is Friday 12 June 2026, 10:00 UTC.
FRIDAY_16 = NOW + timedelta(hours=6)


def posted_rows(core: Core) -> int:
    with core.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(PostedPaper)) or 0)


def roundups(core: Core) -> list[Digest]:
    return [d for d in platform(core).digests if d.kind == "roundup"]


def digest_of_six(core: Core) -> list[str]:
    core.service.handle_text("size 6", admin(), now=NOW)
    assert core.service.deliver_now(ref(), now=NOW).status == "sent"
    return [key for _, key in platform(core).messages("C1")]


def test_roundup_orders_by_likes_replies_shares_with_counts(engaged: Core) -> None:
    service = engaged.service
    p = digest_of_six(engaged)
    later = NOW + timedelta(hours=1)
    for user in ("U1", "U2", "U3"):
        service.execute(Vote(p[2], "like"), member(user), now=later)
    service.execute(Vote(p[0], "like"), member("U1"), now=later)
    service.thread_opened(ref(), p[0], "1700.1", now=later)
    for user in ("U2", "U3"):
        service.thread_reply(ref(), "1700.1", user, now=later)
    service.record_posted(ref(), "share-1", [p[4]], kind="share", now=later)
    for user in ("U1", "U2"):
        service.execute(Vote(p[5], "dislike"), member(user), now=later)
    service.execute(Vote(p[5], "like"), member("U3"), now=later)
    before = posted_rows(engaged)
    refused = service.handle_text("roundup", member("U1"), now=later)
    assert refused.kind == "error"
    reply = service.handle_text("roundup", admin(), now=later)
    assert reply.text == "Posted the week's roundup of 5 papers.", reply.text
    (roundup,) = roundups(engaged)
    assert roundup.title.startswith("The week's roundup · 5 Jun – 12 Jun 2026")
    order = [card.key for card in roundup.papers]
    assert order[:3] == [p[2], p[0], p[4]] and set(order[3:]) == {p[1], p[3]}
    assert p[5] not in order  # disliked more than liked: not shown again
    why = [card.why for card in roundup.papers]
    assert why[:3] == ["👍 3", "👍 1 · 💬 2 replies", "shared 1"]
    assert why[3:] == ["no reactions yet"] * 2
    assert posted_rows(engaged) == before  # roundups never hide papers from digests
    again = service.handle_text("roundup", admin(), now=later)
    assert "just posted" in again.text and len(roundups(engaged)) == 1


def test_only_the_last_seven_days_and_nothing_to_round_up(engaged: Core) -> None:
    service = engaged.service
    service.handle_text("size 3", admin(), now=NOW)
    nothing = service.handle_text("roundup", admin(), now=NOW)
    assert nothing.text.startswith("Nothing to round up") and roundups(engaged) == []
    keys = digest_of_six(engaged)
    old = NOW - timedelta(days=8)
    service.record_posted(ref(), "share-old", ["2606.13681"], kind="share", now=old)
    service.record_posted(ref(), "share-new", ["2606.13681"], kind="share", now=NOW)
    service.handle_text("roundup", admin(), now=NOW + timedelta(hours=1))
    (roundup,) = roundups(engaged)
    shown = [card.key for card in roundup.papers]
    assert set(keys) | {"2606.13681"} >= set(shown) and "2606.13681" in shown
    assert shown[0] == "2606.13681"  # shared twice, once this week: counts "shared 2"


def test_weekly_roundup_goes_out_once_per_slot_and_digests_carry_on(
    engaged: Core, make_settings: object
) -> None:
    service = engaged.service
    digest_of_six(engaged)
    reply = service.handle_text("roundup weekly fri 16:00 UTC", admin(), now=NOW)
    assert reply.kind == "changed" and "Fridays 16:00 UTC" in reply.text
    listed = service.handle_text("list", member("U1"), now=NOW).text
    assert "Weekly roundup: Fridays 16:00 UTC" in listed
    service.deliver_due(FRIDAY_16 - timedelta(minutes=5))
    assert roundups(engaged) == []
    service.deliver_due(FRIDAY_16)
    service.deliver_due(FRIDAY_16 + timedelta(minutes=1))
    replica = open_core(make_settings)  # a second replica on the same database
    try:
        replica.service.platforms["fake"] = platform(engaged)
        replica.service.deliver_due(FRIDAY_16 + timedelta(minutes=2))
    finally:
        replica.close()
    assert len(roundups(engaged)) == 1
    # The daily digest keeps its own schedule (09:00 UTC) beside the roundup's rows.
    saturday_9 = NOW + timedelta(days=1, hours=-1)
    service.deliver_due(saturday_9)
    assert [d.kind for d in platform(engaged).digests] == ["digest", "roundup", "digest"]
    with engaged.session_factory() as session:
        kinds = session.execute(select(Delivery.slot, Delivery.kind).order_by(Delivery.id)).all()
    assert [tuple(k) for k in kinds][1:] == [
        ("roundup-2026-06-12", "roundup"),
        ("2026-06-13", "digest"),
    ]
    off = service.handle_text("roundup off", admin(), now=saturday_9)
    assert off.text == "Stopped the weekly roundup."
    service.deliver_due(FRIDAY_16 + timedelta(days=7))
    assert len(roundups(engaged)) == 1


def test_a_roundup_missed_while_offline_is_noted_in_the_next(engaged: Core) -> None:
    service = engaged.service
    digest_of_six(engaged)
    service.handle_text("roundup weekly fri 16:00", admin(), now=NOW)
    service.deliver_due(FRIDAY_16)
    # paperbot is down the next Friday; the one after, the roundup says so.
    third = FRIDAY_16 + timedelta(days=14)
    service.record_posted(ref(), "share-1", ["2606.13681"], kind="share", now=third)
    service.deliver_due(third)
    first, last = roundups(engaged)
    assert not first.notes
    assert any("missed 1 roundup;" in note for note in last.notes), last.notes
    assert [card.key for card in last.papers] == ["2606.13681"]


def test_bad_roundup_input_changes_nothing(engaged: Core) -> None:
    service = engaged.service
    service.handle_text("size 3", admin(), now=NOW)
    for text in ("roundup weekly funday 16:00", "roundup weekly fri", "roundup sometimes"):
        reply = service.handle_text(text, admin(), now=NOW)
        assert reply.kind == "error", text
    assert service.handle_text("roundup off", admin(), now=NOW).text == (
        "This channel has no weekly roundup."
    )
    with engaged.session_factory() as session:
        channel = session.scalars(select(Channel)).one()
        assert (channel.roundup_day, channel.roundup_time, channel.roundup_zone) == (None,) * 3
    assert roundups(engaged) == []


def test_a_weekly_roundup_that_fails_is_retried_and_posted_once(engaged: Core) -> None:
    service, fake = engaged.service, platform(engaged)
    digest_of_six(engaged)
    service.handle_text("roundup weekly fri 16:00 UTC", admin(), now=NOW)
    # The first post's reply is lost: the platform may have it, paperbot must not post twice.
    fake.after.append(DeliveryError("timeout", retryable=True, outcome_unknown=True))
    service.deliver_due(FRIDAY_16)
    for minutes in (5, 10, 30):
        service.deliver_due(FRIDAY_16 + timedelta(minutes=minutes))
    roundup_posts = [p for p in fake.posts if p.key != fake.posts[0].key]
    assert len({p.part for p in roundup_posts}) == len(roundup_posts) == 6
    with engaged.session_factory() as session:
        rows = session.scalars(select(Delivery.status).where(Delivery.kind == "roundup")).all()
    assert rows == ["sent"]  # every part once: the lost one was found, not posted again


def test_a_paper_discussed_this_week_is_in_the_roundup(engaged: Core) -> None:
    service = engaged.service
    keys = digest_of_six(engaged)
    with engaged.session_factory() as session:
        # Shown nowhere here: discussed from a search result.
        other = session.scalars(select(Paper.key).where(Paper.key.not_in(keys)).limit(1)).one()
    service.execute(Discuss(other), member("U1"), now=NOW)
    service.thread_opened(ref(), other, "1700.9", now=NOW)
    service.thread_reply(ref(), "1700.9", "U2", now=NOW)
    service.handle_text("roundup", admin(), now=NOW + timedelta(hours=1))
    (roundup,) = roundups(engaged)
    assert roundup.papers[0].key == other and roundup.papers[0].why == "💬 1 reply"
