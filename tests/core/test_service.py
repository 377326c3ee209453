"""Chat commands through the core service: permissions, channel changes, replies."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from paperbot.bootstrap import Core, build_core
from paperbot.core.commands import Caller
from paperbot.core.messages import ChannelRef
from paperbot.core.papers import ingest
from paperbot.core.papers.sources.files import read_jsonl
from tests.cli_helpers import REPO

ADMIN = Caller("slack", "T1", "C1", "U1", is_admin=True)
MEMBER = Caller("slack", "T1", "C1", "U2")
OTHER_TEAM = Caller("slack", "T2", "C1", "U9", is_admin=True)


@pytest.fixture
def core(make_settings: Any, now: datetime) -> Iterator[Core]:
    c = build_core(make_settings(), now=now)
    ingest.ingest(
        c.session_factory,
        read_jsonl(REPO / "paperbot" / "data" / "sample_papers.jsonl"),
        source="file",
        now=now,
    )
    c.index.catch_up(c.session_factory)
    yield c
    c.close()


@pytest.mark.parametrize("long_running", [True, False])
def test_a_running_bot_loads_the_model_before_its_first_search(
    make_settings: Any, now: datetime, long_running: bool
) -> None:
    """The first search of a new `paperbot run` once paid the model's load (0.5 s on a quiet
    machine, seconds on a busy one: past Slack's ack budget, so the answer came late). A
    long-running process loads it at start; a one-off command only when it searches."""
    core = build_core(
        make_settings(seed_sample_data="true"), now=now, seed=True, long_running=long_running
    )
    try:
        assert core.index.model is not None
        assert core.index.model.loaded is long_running
        assert core.service.search("diffusion", page=1, page_size=5, now=now).cards
    finally:
        core.close()


def test_anyone_may_search(core: Core, now: datetime) -> None:
    reply = core.service.handle_text("search federated learning", MEMBER, now=now)
    assert reply.kind == "search" and reply.ephemeral
    assert reply.papers and "Federated" in reply.papers[0].title
    assert reply.next_page is not None and reply.next_page.page == 2
    page2 = core.service.handle_text("search federated learning page:2", MEMBER, now=now)
    assert page2.papers and page2.papers[0].key not in {p.key for p in reply.papers}
    # The page may come first; the next page's hint carries the query without it.
    first = core.service.handle_text("search page:2 federated learning", MEMBER, now=now)
    assert [p.key for p in first.papers] == [p.key for p in page2.papers]
    assert first.text.startswith("Papers for “federated learning” (6–10 of ")
    assert first.next_page is not None
    assert (first.next_page.query, first.next_page.page) == ("federated learning", 3)


def test_members_cannot_change_a_channel(core: Core, now: datetime) -> None:
    reply = core.service.handle_text("subscribe diffusion", MEMBER, now=now)
    assert reply.kind == "error" and "admins" in reply.text
    assert core.service.topics(ChannelRef("slack", "T1", "C1")) == []


def test_subscribe_list_unsubscribe(core: Core, now: datetime) -> None:
    ok = core.service.handle_text("subscribe diffusion models", ADMIN, now=now)
    assert ok.kind == "changed" and not ok.ephemeral and "Next digest" in ok.text
    dup = core.service.handle_text("subscribe Diffusion Models", ADMIN, now=now)
    assert "already follows" in dup.text
    core.service.handle_text("schedule 08:15 Europe/Berlin weekdays", ADMIN, now=now)
    listed = core.service.handle_text("list", MEMBER, now=now)
    assert "diffusion models" in listed.text
    assert "08:15 Europe/Berlin on weekdays" in listed.text
    assert "Mon 30 Nov 08:15" in listed.text  # 2026-11-27 is a Friday
    gone = core.service.handle_text("unsubscribe nothing-like-this", ADMIN, now=now)
    assert gone.kind == "error" and "diffusion models" in gone.text
    assert core.service.handle_text("unsubscribe all", ADMIN, now=now).kind == "changed"
    assert core.service.topics(ChannelRef("slack", "T1", "C1")) == []


def test_a_schedule_change_keeps_what_it_does_not_name(core: Core, now: datetime) -> None:
    core.service.handle_text("schedule 08:15 Europe/Berlin weekdays", ADMIN, now=now)
    reply = core.service.handle_text("schedule weekly", ADMIN, now=now)
    assert reply.kind == "changed", reply.text
    listed = core.service.handle_text("list", MEMBER, now=now).text
    assert "08:15 Europe/Berlin" in listed and "Mon 30 Nov 08:15" in listed, listed
    core.service.handle_text("schedule thu 7am", ADMIN, now=now)
    listed = core.service.handle_text("list", MEMBER, now=now).text
    assert "07:00 Europe/Berlin" in listed and "Thu 03 Dec 07:00" in listed, listed


@pytest.mark.parametrize("topic", ["***", "author:", "-"])
def test_a_topic_with_nothing_to_match_is_refused_and_changes_nothing(
    core: Core, now: datetime, topic: str
) -> None:
    core.service.handle_text("subscribe robots", ADMIN, now=now)
    reply = core.service.handle_text(f"subscribe {topic}", ADMIN, now=now)
    assert reply.kind == "error" and "not a topic I can match" in reply.text, reply.text
    assert core.service.topics(ChannelRef("slack", "T1", "C1")) == ["robots"]


def test_a_quoted_description_is_a_topic_by_meaning_not_an_exact_phrase(
    core: Core, now: datetime
) -> None:
    """People quote a topic to delimit it; as a phrase, a description of several words would
    match only papers holding those words in that order: none."""
    ref = ChannelRef("slack", "T1", "C1")
    core.service.handle_text('subscribe "robots that learn by watching videos"', ADMIN, now=now)
    core.service.handle_text('subscribe "point cloud"', ADMIN, now=now)
    assert core.service.topics(ref) == ["robots that learn by watching videos", '"point cloud"']
    gone = core.service.handle_text(
        'unsubscribe "robots that learn by watching videos"', ADMIN, now=now
    )
    assert gone.kind == "changed", gone.text
    assert core.service.topics(ref) == ['"point cloud"']


def test_workspaces_are_isolated(core: Core, now: datetime) -> None:
    core.service.handle_text("subscribe transformers", ADMIN, now=now)
    assert core.service.topics(ChannelRef("slack", "T2", "C1")) == []
    listed = core.service.handle_text("list", OTHER_TEAM, now=now)
    assert "transformers" not in listed.text


def test_dm_refuses_changes_but_searches(core: Core, now: datetime) -> None:
    dm = Caller("discord", "@dm", "D1", "U1", is_admin=True, is_dm=True)
    assert core.service.handle_text("subscribe x", dm, now=now).kind == "error"
    assert core.service.handle_text("search learning", dm, now=now).kind == "search"


def test_bot_without_access_says_what_lets_it_post(core: Core, now: datetime) -> None:
    caller = Caller(
        "slack", "T1", "C9", "U1", is_admin=True, bot_can_post=False, fix_posting="invite me"
    )
    reply = core.service.handle_text("subscribe x", caller, now=now)
    assert reply.text == "I can't post in this channel yet: invite me."
    lacking = replace(caller, bot_missing="Embed Links")
    assert (
        "missing the *Embed Links* permission"
        in core.service.handle_text("subscribe x", lacking, now=now).text
    )


def test_paused_channel_explains_why(core: Core, now: datetime) -> None:
    core.service.handle_text("subscribe agents", ADMIN, now=now)
    core.service.channel_gone(ChannelRef("slack", "T1", "C1"), "not_in_channel", now=now)
    reply = core.service.handle_text("size 3", ADMIN, now=now)
    assert any("not_in_channel" in n for n in reply.notes)
    listed = core.service.handle_text("list", MEMBER, now=now)
    assert "Paused: not_in_channel" in listed.text
    resumed = core.service.handle_text("resume", ADMIN, now=now)
    assert resumed.kind == "changed" and not resumed.notes


def test_bad_input_changes_nothing(core: Core, now: datetime) -> None:
    core.service.handle_text("schedule 07:00 Asia/Tokyo", ADMIN, now=now)
    for text in ["schedule 7", "schedule 31:00", "schedule 07:00 Nowhere/Land", "size 99", "zzz"]:
        reply = core.service.handle_text(text, ADMIN, now=now)
        assert text == "schedule 7" or reply.kind == "error", text
    listed = core.service.handle_text("list", ADMIN, now=now)
    assert "Asia/Tokyo" in listed.text


def test_help_and_trending(core: Core, now: datetime) -> None:
    assert "/papers search" in core.service.handle_text("help", MEMBER, now=now).text
    assert core.service.handle_text("trending", MEMBER, now=now).kind == "trending"


def test_removed_workspace_resumes_when_the_bot_comes_back(core: Core, now: datetime) -> None:
    core.service.handle_text("subscribe agents", ADMIN, now=now)
    other = Caller("slack", "T1", "C2", "U1", is_admin=True)
    core.service.handle_text("subscribe robots", other, now=now)
    core.service.channel_gone(ChannelRef("slack", "T1", "C2"), "channel_not_found", now=now)
    later = now + timedelta(hours=1)
    core.service.workspace_gone("slack", "T1", "paperbot was uninstalled", now=later)
    assert (
        "Paused: paperbot was uninstalled" in core.service.handle_text("list", MEMBER, now=now).text
    )
    core.service.workspace_back("slack", "T1")
    listed = core.service.handle_text("list", MEMBER, now=now).text
    assert "Paused" not in listed and "agents" in listed
    # A channel that was gone before the workspace was removed stays paused.
    assert "channel_not_found" in core.service.handle_text("list", other, now=now).text


# --- the one door: the use cases the CLI and the console call ----------------------------------


def test_channel_admin_through_the_service(core: Core, now: datetime) -> None:
    from paperbot.core.channels.store import ChannelError
    from paperbot.core.service import ChannelOptions

    ref = ChannelRef("console", "local", "lab")
    assert not core.service.has_channel(ref)
    info = core.service.add_channel(
        ref, ChannelOptions(time="07:30", zone="Asia/Tokyo", size=3, topics=("diffusion",)), now=now
    )
    assert (info.time, info.zone, info.size, info.topics) == (
        "07:30",
        "Asia/Tokyo",
        3,
        ("diffusion",),
    )
    # Updating keeps what the options leave out.
    again = core.service.add_channel(ref, ChannelOptions(days="weekdays"), now=now)
    assert (again.time, again.days, again.topics) == ("07:30", "weekdays", ("diffusion",))
    assert [i.ref for i in core.service.list_channels()] == [ref]
    preview = core.service.preview_digest(ref, now=now)
    assert preview is not None and preview.digest.channel == ref and preview.slot
    # A topic the channel cannot take changes nothing, the schedule included.
    too_many = tuple(f"topic {n}" for n in range(30))
    with pytest.raises(ChannelError):
        core.service.add_channel(ref, ChannelOptions(time="11:00", topics=too_many), now=now)
    assert core.service.list_channels()[0].time == "07:30"
    assert core.service.remove_channel(ref) and not core.service.remove_channel(ref)
    assert core.service.preview_digest(ref, now=now) is None


def test_a_bug_is_never_answered_as_the_persons_mistake(
    core: Core, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("SELECT secret FROM papers")

    monkeypatch.setattr(core.index, "search", broken)
    reply = core.service.handle_text("search diffusion", MEMBER, now=now)
    assert reply.kind == "error" and "went wrong on paperbot's side" in reply.text
    assert "secret" not in reply.text
    # A query that is too long is the person's to fix: answered as it is.
    long = core.service.handle_text("search " + "a" * 600, MEMBER, now=now)
    assert long.kind == "error" and "characters long" in long.text
