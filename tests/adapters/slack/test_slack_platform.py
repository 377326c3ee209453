"""The Slack ChatPlatform against a loopback fake Web API: posts, metadata, errors, retries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fakes.slack import FakeSlack, block_kit_problems, mention_leaks, spec_problems

from paperbot.adapters.slack.platform import SlackPlatform
from paperbot.adapters.slack.settings import SlackSettings
from paperbot.core.messages import ChannelRef, Digest, PaperCard
from paperbot.core.ports import DeliveryError

TOKEN = "xoxb-test-token"
REF = ChannelRef("slack", "T1", "C1")


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_channel("C1")
        yield fake


def platform_for(slack: FakeSlack, **kw: object) -> SlackPlatform:
    settings = SlackSettings(api_base_url=slack.api_url, history_interval_seconds=0)
    tokens = {"T1": TOKEN}
    return SlackPlatform(settings, tokens.get, timeout=5, **kw)  # type: ignore[arg-type]


def post_all(platform: SlackPlatform, ref: ChannelRef, digest: Digest, key: str) -> list[str]:
    """Every part of a digest, in order, as delivery posts them."""
    return [
        platform.post_part(ref, digest, part, idempotency_key=key)
        for part in range(len(platform.digest_parts(digest)))
    ]


def a_digest(n: int = 3, title: str = "Daily <!channel> papers") -> Digest:
    papers = tuple(
        PaperCard(
            key=f"2401.{i:05d}",
            title=f"Paper {i} <@U999> & co" + " padding" * 150,
            url=f"https://arxiv.org/abs/2401.{i:05d}",
            authors=("<!here>",),
            summary="<!subteam^S1> " + "long summary " * 50,
        )
        for i in range(n)
    )
    return Digest(channel=REF, title=title, papers=papers, generated_at=datetime.now(UTC))


def test_posts_digest_with_metadata_and_valid_blocks(slack: FakeSlack) -> None:
    ids = post_all(platform_for(slack), REF, a_digest(3), "d42")
    calls = slack.calls_to("chat.postMessage")
    assert ids == [c_ts for c_ts in (m["ts"] for m in slack.messages["C1"])]
    assert len(calls) == 1
    args = calls[0].args
    assert calls[0].token == TOKEN
    assert args["channel"] == "C1"
    assert args["metadata"] == {
        "event_type": "paperbot_digest",
        "event_payload": {"delivery": "d42", "part": 0, "parts": 1},
    }
    assert not spec_problems("chat.postMessage", args)
    assert not block_kit_problems(args)
    assert not mention_leaks(args)
    assert "link_names" not in args


def test_long_digest_goes_out_in_parts_keyed_by_part(slack: FakeSlack) -> None:
    ids = post_all(platform_for(slack), REF, a_digest(20), "d7")
    calls = slack.calls_to("chat.postMessage")
    assert len(ids) == len(calls) > 1
    parts = [c.args["metadata"]["event_payload"]["part"] for c in calls]
    assert parts == list(range(len(calls)))
    for call in calls:
        assert not block_kit_problems(call.args)
        assert not spec_problems("chat.postMessage", call.args)


def test_find_posted_reads_metadata_from_history(slack: FakeSlack) -> None:
    platform = platform_for(slack)
    assert platform.find_posted(REF, "d1") == {}
    ids = post_all(platform, REF, a_digest(20), "d1")
    post_all(platform, REF, a_digest(1), "other")
    assert platform.find_posted(REF, "d1") == dict(enumerate(ids))
    (call,) = slack.calls_to("conversations.history")[-1:]
    assert call.args["include_all_metadata"] in (True, "1", "true")
    assert not spec_problems("conversations.history", call.args)


def test_find_posted_is_unknown_when_slack_is_busy(slack: FakeSlack) -> None:
    slack.inject("conversations.history", status=503, times=3)
    assert platform_for(slack).find_posted(REF, "d1") is None


@pytest.mark.parametrize(
    "code",
    [
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "invalid_auth",
        "account_inactive",
    ],
)
def test_permanent_errors_are_not_retryable(slack: FakeSlack, code: str) -> None:
    slack.inject("chat.postMessage", error=code)
    with pytest.raises(DeliveryError) as info:
        post_all(platform_for(slack), REF, a_digest(1), "d1")
    assert info.value.retryable is False
    assert code in info.value.reason
    assert TOKEN not in info.value.reason


def test_real_channel_states_map_to_permanent_errors(slack: FakeSlack) -> None:
    slack.add_channel("C2", is_member=False)
    slack.add_channel("C3", is_archived=True)
    platform = platform_for(slack)
    for channel, code in (
        ("C2", "not_in_channel"),
        ("C3", "is_archived"),
        ("C9", "channel_not_found"),
    ):
        with pytest.raises(DeliveryError) as info:
            post_all(platform, ChannelRef("slack", "T1", channel), a_digest(1), "k")
        assert not info.value.retryable and code in info.value.reason


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retryable(slack: FakeSlack, status: int) -> None:
    slack.inject("chat.postMessage", status=status)
    with pytest.raises(DeliveryError) as info:
        post_all(platform_for(slack), REF, a_digest(1), "d1")
    assert info.value.retryable is True


def test_timeouts_are_retryable(slack: FakeSlack) -> None:
    slack.inject("chat.postMessage", delay=2.5, times=2)
    platform = platform_for(slack)
    platform._timeout = 1  # a short client timeout so the test stays fast
    with pytest.raises(DeliveryError) as info:
        post_all(platform, REF, a_digest(1), "d1")
    assert info.value.retryable is True


def test_rate_limit_is_retried_after_retry_after(slack: FakeSlack) -> None:
    slack.inject("chat.postMessage", status=429, retry_after=0)
    ids = post_all(platform_for(slack), REF, a_digest(1), "d1")
    assert len(ids) == 1
    assert len(slack.calls_to("chat.postMessage")) == 2


def test_long_rate_limit_goes_back_to_delivery(slack: FakeSlack) -> None:
    slack.inject("chat.postMessage", status=429, retry_after=120)
    with pytest.raises(DeliveryError) as info:
        post_all(platform_for(slack, max_inline_wait=5), REF, a_digest(1), "d")
    assert info.value.retryable is True
    assert info.value.retry_after == 120
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_workspace_without_token_is_permanent(slack: FakeSlack) -> None:
    with pytest.raises(DeliveryError) as info:
        post_all(platform_for(slack), ChannelRef("slack", "T-gone", "C1"), a_digest(1), "d")
    assert info.value.retryable is False
    assert slack.calls == []


def test_base_url_setting_is_used_for_every_call(slack: FakeSlack) -> None:
    platform = platform_for(slack)
    post_all(platform, REF, a_digest(1), "d")
    platform.find_posted(REF, "d")
    assert {c.path for c in slack.calls} == {"/api/chat.postMessage", "/api/conversations.history"}


def test_a_lost_reply_is_never_reposted_by_the_client(slack: FakeSlack) -> None:
    """slack_sdk's connection-error retry would post a second copy: posts are not retried."""
    slack.inject("chat.postMessage", drop_reply=True)
    platform = platform_for(slack)
    started = datetime.now(UTC)
    with pytest.raises(DeliveryError) as info:
        post_all(platform, REF, a_digest(1), "d1")
    assert info.value.retryable and info.value.outcome_unknown
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert slack.digests_in("C1") == 1  # Slack did post it
    # What delivery asks next: it is there, under part 0.
    assert platform.find_posted(REF, "d1", since=started) == {0: slack.messages["C1"][0]["ts"]}


def test_reads_are_still_retried_after_a_lost_reply(slack: FakeSlack) -> None:
    slack.inject("conversations.history", drop_reply=True)
    assert platform_for(slack).find_posted(REF, "d1") == {}
    assert len(slack.calls_to("conversations.history")) == 2


def test_a_refused_connection_is_known_not_posted() -> None:
    settings = SlackSettings(api_base_url="http://127.0.0.1:9/api/")
    platform = SlackPlatform(settings, {"T1": TOKEN}.get, timeout=2)
    with pytest.raises(DeliveryError) as info:
        post_all(platform, REF, a_digest(1), "d1")
    assert info.value.retryable and not info.value.outcome_unknown


def test_reconciliation_reads_one_page_since_the_attempt_and_paces_itself(
    slack: FakeSlack,
) -> None:
    settings = SlackSettings(api_base_url=slack.api_url, history_interval_seconds=60)
    platform = SlackPlatform(settings, {"T1": TOKEN}.get, timeout=5)
    old = post_all(platform, REF, a_digest(1), "d0")
    since = datetime.now(UTC)
    ids = post_all(platform, REF, a_digest(1), "d1")
    assert platform.find_posted(REF, "d1", since=since) == {0: ids[0]}
    (call,) = slack.calls_to("conversations.history")
    assert int(call.args["limit"]) == 15 and float(call.args["oldest"]) < float(ids[0])
    assert old  # posted before the attempt: the window still covers a minute's clock skew
    # Slack allows about one read a minute per workspace: the second is not even sent.
    assert platform.find_posted(REF, "d1", since=since) is None
    assert len(slack.calls_to("conversations.history")) == 1


def test_a_rate_limited_reconciliation_says_it_cannot_tell(slack: FakeSlack) -> None:
    slack.history_per_minute = 1
    slack.inject("conversations.history", status=429, retry_after=60)
    platform = platform_for(slack)
    assert platform.find_posted(REF, "d1") is None
    assert platform.find_posted(REF, "d1") is None  # still waiting out Retry-After
    assert len(slack.calls_to("conversations.history")) == 1


def test_busy_history_beyond_one_page_is_not_taken_for_absence(slack: FakeSlack) -> None:
    platform = platform_for(slack)
    since = datetime.now(UTC)
    post_all(platform, REF, a_digest(20), "d1")  # parts 0 and 1 ...
    for i in range(16):  # ... then a busy channel pushes them off the first page
        post_all(platform, REF, a_digest(1), f"chat{i}")
    assert platform.find_posted(REF, "d1", since=since) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [("1.5", 1.5), ("inf", None), ("nan", None), ("-3", None), ("x", None), ("99999", 3600.0)],
)
def test_retry_after_headers_are_read_safely(header: str, expected: float | None) -> None:
    from paperbot.adapters.slack.errors import retry_after

    assert retry_after({"Retry-After": [header]}) == expected


def test_a_fractional_retry_after_is_waited_in_place(slack: FakeSlack) -> None:
    slack.inject("chat.postMessage", status=429, retry_after="0.2")
    assert len(post_all(platform_for(slack), REF, a_digest(1), "d1")) == 1
    assert len(slack.calls_to("chat.postMessage")) == 2


@pytest.mark.parametrize("code", ["invalid_auth", "token_revoked", "account_inactive"])
def test_refused_tokens_pause_the_workspace_not_the_channel(slack: FakeSlack, code: str) -> None:
    slack.inject("chat.postMessage", error=code)
    with pytest.raises(DeliveryError) as info:
        post_all(platform_for(slack), REF, a_digest(1), "d1")
    assert not info.value.retryable and info.value.scope == "workspace"
    slack.inject("chat.postMessage", error=code)
    with pytest.raises(DeliveryError) as single:
        post_all(platform_for(slack, single=True), REF, a_digest(1), "d1")
    assert single.value.scope == "platform"


def test_probe_asks_auth_test(slack: FakeSlack) -> None:
    platform = platform_for(slack)
    assert platform.probe("T1") is True
    slack.revoked.add(TOKEN)
    assert platform.probe("T1") is False
    assert platform.probe("T-unknown") is False
    slack.revoked.clear()
    slack.teams[TOKEN].scopes = "commands"  # installed without chat:write
    assert platform.probe("T1") is False


def test_notify_dms_the_member_else_the_installer(slack: FakeSlack) -> None:
    from paperbot.core.ports import Notice

    slack.add_user("T1", "USETUP")
    slack.add_user("T1", "UINSTALL")
    platform = platform_for(slack, installer=lambda team: "UINSTALL")
    notice = Notice(REF, "USETUP", "paperbot is not a member <!channel>")
    assert platform.notify(notice) is True
    (dm,) = slack.messages["DUSETUP"]
    assert dm["text"].startswith("In <#C1>:") and "<!channel>" not in dm["text"]
    assert platform.notify(Notice(REF, "UGONE", "x")) is True  # unknown member: the installer
    assert slack.messages["DUINSTALL"]
    slack.teams[TOKEN].scopes = "commands,chat:write"  # an old install without im:write
    assert platform.notify(notice) is False
