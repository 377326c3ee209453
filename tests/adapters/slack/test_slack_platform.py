"""The Slack ChatPlatform against a loopback fake Web API: posts, metadata, errors, retries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fakes.slack import FakeSlack, block_kit_problems, mention_leaks, spec_problems

from paperbot.adapters.slack.platform import SlackPlatform
from paperbot.config import SlackSettings
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
    settings = SlackSettings(api_base_url=slack.api_url)
    tokens = {"T1": TOKEN}
    return SlackPlatform(settings, tokens.get, timeout=5, **kw)  # type: ignore[arg-type]


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
    ids = platform_for(slack).post_digest(REF, a_digest(3), idempotency_key="d42")
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
    ids = platform_for(slack).post_digest(REF, a_digest(20), idempotency_key="d7")
    calls = slack.calls_to("chat.postMessage")
    assert len(ids) == len(calls) > 1
    parts = [c.args["metadata"]["event_payload"]["part"] for c in calls]
    assert parts == list(range(len(calls)))
    for call in calls:
        assert not block_kit_problems(call.args)
        assert not spec_problems("chat.postMessage", call.args)


def test_find_posted_reads_metadata_from_history(slack: FakeSlack) -> None:
    platform = platform_for(slack)
    assert platform.find_posted(REF, "d1") == []
    ids = platform.post_digest(REF, a_digest(20), idempotency_key="d1")
    platform.post_digest(REF, a_digest(1), idempotency_key="other")
    assert platform.find_posted(REF, "d1") == ids
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
        platform_for(slack).post_digest(REF, a_digest(1), idempotency_key="d1")
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
            platform.post_digest(
                ChannelRef("slack", "T1", channel), a_digest(1), idempotency_key="k"
            )
        assert not info.value.retryable and code in info.value.reason


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retryable(slack: FakeSlack, status: int) -> None:
    slack.inject("chat.postMessage", status=status)
    with pytest.raises(DeliveryError) as info:
        platform_for(slack).post_digest(REF, a_digest(1), idempotency_key="d1")
    assert info.value.retryable is True


def test_timeouts_are_retryable(slack: FakeSlack) -> None:
    slack.inject("chat.postMessage", delay=2.5, times=2)
    platform = platform_for(slack)
    platform._timeout = 1  # a short client timeout so the test stays fast
    with pytest.raises(DeliveryError) as info:
        platform.post_digest(REF, a_digest(1), idempotency_key="d1")
    assert info.value.retryable is True


def test_rate_limit_is_retried_after_retry_after(slack: FakeSlack) -> None:
    slack.inject("chat.postMessage", status=429, retry_after=0)
    ids = platform_for(slack).post_digest(REF, a_digest(1), idempotency_key="d1")
    assert len(ids) == 1
    assert len(slack.calls_to("chat.postMessage")) == 2


def test_long_rate_limit_goes_back_to_delivery(slack: FakeSlack) -> None:
    slack.inject("chat.postMessage", status=429, retry_after=120)
    with pytest.raises(DeliveryError) as info:
        platform_for(slack, max_inline_wait=5).post_digest(REF, a_digest(1), idempotency_key="d")
    assert info.value.retryable is True
    assert info.value.retry_after == 120
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_workspace_without_token_is_permanent(slack: FakeSlack) -> None:
    with pytest.raises(DeliveryError) as info:
        platform_for(slack).post_digest(
            ChannelRef("slack", "T-gone", "C1"), a_digest(1), idempotency_key="d"
        )
    assert info.value.retryable is False
    assert slack.calls == []


def test_base_url_setting_is_used_for_every_call(slack: FakeSlack) -> None:
    platform = platform_for(slack)
    platform.post_digest(REF, a_digest(1), idempotency_key="d")
    platform.find_posted(REF, "d")
    assert {c.path for c in slack.calls} == {"/api/chat.postMessage", "/api/conversations.history"}
