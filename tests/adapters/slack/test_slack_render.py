"""Block Kit rendering: limits, splitting, buttons, and third-party text that pings nobody."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fakes.slack import block_kit_problems, mention_leaks

from paperbot.adapters.slack import render
from paperbot.core.commands import Search
from paperbot.core.messages import ChannelRef, Digest, Page, PaperCard, Reply

HOSTILE = "<!channel> <!here> <@U123> <!subteam^S1> <#C999> & <https://evil.example|click>"


def card(i: int = 1, **kw: object) -> PaperCard:
    values: dict[str, object] = {
        "key": f"2401.{i:05d}",
        "title": f"Paper {i}: Diffusion for everything",
        "url": f"https://arxiv.org/abs/2401.{i:05d}",
        "authors": ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"),
        "summary": "We show that diffusion works. " * 8,
        "pdf_url": f"https://arxiv.org/pdf/2401.{i:05d}",
        "code_url": "https://github.com/org/repo",
        "thumbnail": "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/x.png",
        "upvotes": 42,
        "comments": 3,
        "github_stars": 120,
        "why": "42 upvotes in 24 h · matches: diffusion",
    }
    values.update(kw)
    return PaperCard(**values)  # type: ignore[arg-type]


def digest(papers: tuple[PaperCard, ...], **kw: object) -> Digest:
    return Digest(
        channel=ChannelRef("slack", "T1", "C1"),
        title="Papers for today",
        papers=papers,
        generated_at=datetime(2026, 11, 27, 9, tzinfo=UTC),
        **kw,  # type: ignore[arg-type]
    )


def test_digest_shows_every_part_of_a_paper() -> None:
    (message,) = render.render_digest(digest((card(),), topics=("diffusion",)))
    assert not block_kit_problems(message.args())
    assert message.blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Papers for today"},
    }
    section = next(b for b in message.blocks if b.get("accessory"))
    text = section["text"]["text"]
    assert text.startswith("*<https://arxiv.org/abs/2401.00001|Paper 1: Diffusion for everything>*")
    assert "Ada Lovelace, Alan Turing, Grace Hopper +1 more" in text
    assert "▲ 42 upvotes · 3 comments · ★ 120 stars" in text
    assert "matches: diffusion" in text
    assert "<https://arxiv.org/pdf/2401.00001|PDF>" in text
    assert "<https://github.com/org/repo|Code>" in text
    assert section["accessory"]["type"] == "image"
    buttons = [b for b in message.blocks if b["type"] == "actions"]
    shown = [(e["action_id"], e["text"]["text"], e["value"]) for e in buttons[0]["elements"]]
    assert shown == [
        ("paperbot_like", "👍", '{"cmd":"like","paper":"2401.00001"}'),
        ("paperbot_dislike", "👎", '{"cmd":"dislike","paper":"2401.00001"}'),
        ("paperbot_discuss", "💬 Discuss", '{"cmd":"discuss","paper":"2401.00001"}'),
        (
            "paperbot_more_like_this",
            "More like this",
            '{"cmd":"more-like-this","paper":"2401.00001"}',
        ),
    ]
    assert message.text.startswith("Papers for today: 1 paper — Paper 1")
    assert message.args()["unfurl_links"] is False
    assert "link_names" not in message.args()


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<!here>", "&lt;!here&gt;"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("<!subteam^S1>", "&lt;!subteam^S1&gt;"),
        ("<!everyone>", "&lt;!everyone&gt;"),
        ("Fish & Chips", "Fish &amp; Chips"),
        ("a&lt;b", "a&amp;lt;b"),
        ("x > y < z", "x &gt; y &lt; z"),
    ],
)
def test_mention_injection_golden(raw: str, shown: str) -> None:
    hostile = card(title=raw, summary=raw, authors=(raw,), why=raw)
    (message,) = render.render_digest(digest((hostile,), topics=(raw,)))
    text = json.dumps(message.blocks, ensure_ascii=False)
    assert shown in text
    assert not mention_leaks(message.args())
    assert not mention_leaks({"text": message.text})


def test_hostile_text_everywhere_pings_nobody() -> None:
    hostile = card(title=HOSTILE, summary=HOSTILE, authors=(HOSTILE,) * 5, why=HOSTILE)
    for message in render.render_digest(digest((hostile,) * 3, topics=(HOSTILE,))):
        assert not block_kit_problems(message.args())
        assert not mention_leaks(message.args())
    reply = Reply(kind="search", text=f"Results for {HOSTILE}", papers=(hostile,), notes=(HOSTILE,))
    message = render.render_reply(reply, rerun=Search(HOSTILE, 1))
    assert not block_kit_problems(message.args())
    assert not mention_leaks(message.args())


def test_link_in_title_cannot_break_out_of_its_link() -> None:
    evil = card(title="x|<https://evil.example|win>", url="https://arxiv.org/abs/1>|<!channel")
    section = render.paper_section(evil)
    text = section["text"]["text"]
    assert "<https://evil.example" not in text
    assert "<!channel" not in text


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "ftp://x/y", "https://", "https://x/" + "a" * 500, ""]
)
def test_unusable_urls_are_dropped(url: str) -> None:
    assert render.safe_url(url) is None
    section = render.paper_section(card(url=url, thumbnail=url, pdf_url=url, code_url=url))
    assert "accessory" not in section
    assert section["text"]["text"].startswith("*Paper 1")


def test_long_digest_is_split_within_limits_and_keeps_order() -> None:
    long = "Ω&<" * 400
    papers = tuple(card(i, title=long, summary=long, why=long) for i in range(1, 21))
    messages = render.render_digest(digest(papers, missed_slots=2, partial_sources=("arxiv",)))
    assert len(messages) > 1
    keys: list[str] = []
    for i, message in enumerate(messages):
        assert not block_kit_problems(message.args()), i
        assert len(message.blocks) <= render.MAX_BLOCKS
        assert render.message_chars(message.blocks) <= render.MAX_MESSAGE_CHARS
        assert f"({i + 1}/{len(messages)})" in message.text
        for block in message.blocks:
            if block["type"] == "actions":
                keys.append(json.loads(block["elements"][0]["value"])["paper"])
    assert keys == [p.key for p in papers]


def test_header_is_clipped_to_150_characters() -> None:
    (message,) = render.render_digest(
        Digest(
            channel=ChannelRef("slack", "T1", "C1"),
            title="&" * 400,
            papers=(),
            generated_at=datetime(2026, 11, 27, tzinfo=UTC),
        )
    )
    assert len(message.blocks[0]["text"]["text"]) <= 150
    assert not block_kit_problems(message.args())
    assert "No new papers" in json.dumps(message.blocks)


def test_many_papers_digest_stays_under_50_blocks() -> None:
    papers = tuple(card(i, summary="short", why="") for i in range(1, 51))
    messages = render.render_digest(digest(papers))
    assert all(len(m.blocks) <= 50 for m in messages)
    assert sum(m.text.count("Paper ") for m in messages) >= 50


def test_search_reply_has_share_and_next_buttons() -> None:
    reply = Reply(
        kind="search",
        text="Top results for diffusion",
        papers=(card(1), card(2)),
        next_page=Page("diffusion", 2),
    )
    message = render.render_reply(reply, rerun=Search("diffusion", 1))
    assert not block_kit_problems(message.args())
    actions = message.blocks[-1]
    labels = {e["action_id"]: e for e in actions["elements"]}
    assert json.loads(labels[render.ACTION_SHARE]["value"]) == {
        "cmd": "search",
        "q": "diffusion",
        "p": 1,
    }
    assert json.loads(labels[render.ACTION_NEXT]["value"]) == {
        "cmd": "search",
        "q": "diffusion",
        "p": 2,
    }


def test_shared_reply_has_no_share_button_and_credits_the_user() -> None:
    reply = Reply(kind="search", text="Results", papers=(card(1),), ephemeral=False)
    message = render.render_reply(reply, shared_by="U42")
    assert render.ACTION_SHARE not in json.dumps(message.blocks)
    assert mention_leaks(message.args()) == ["<@U42>"]
    assert not mention_leaks(message.args(), allowed_users=("U42",))


def test_error_and_help_keep_lines_and_escape_placeholders() -> None:
    message = render.render_reply(
        Reply(kind="help", text="paperbot commands:\n• /papers search <query>")
    )
    assert message.blocks[0]["text"]["text"] == "paperbot commands:\n• /papers search &lt;query&gt;"
    assert render.render_error("Bad <!here>").text == "Bad &lt;!here&gt;"


# Control characters, terminal escapes and bidi overrides from third-party text.
UNPRINTABLE = "Evil\x1b[2J\x1b]0;pwned\x07 \u202etitle\x00 \x9b31m\u2066x\u2069 <!channel>"


def shown_text(node: object) -> list[str]:
    if isinstance(node, dict):
        return [t for v in node.values() for t in shown_text(v)]
    if isinstance(node, list):
        return [t for v in node for t in shown_text(v)]
    return [node] if isinstance(node, str) else []


def test_every_slack_payload_carries_printable_text_only() -> None:
    hostile = card(title=UNPRINTABLE, summary=UNPRINTABLE, authors=(UNPRINTABLE,), why=UNPRINTABLE)
    messages = render.render_digest(digest((hostile,), topics=(UNPRINTABLE,)))
    reply = Reply(kind="search", text=UNPRINTABLE, papers=(hostile,), notes=(UNPRINTABLE,))
    messages.append(render.render_reply(reply, rerun=Search("x", 1)))
    messages.append(render.render_error(UNPRINTABLE))
    for message in messages:
        payload = message.args()
        assert not block_kit_problems(payload) and not mention_leaks(payload)
        for text in shown_text(payload):
            assert text.replace("\n", "").isprintable(), text
    section = next(b for b in messages[0].blocks if b.get("accessory"))
    assert "Evil title x &lt;!channel&gt;" in section["text"]["text"]  # escaping kept
