"""Embeds as readers see them: content, Discord's limits, escaping, and mention safety."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fakes.discord import pinged, spec_errors

from paperbot.adapters.discord import buttons
from paperbot.adapters.discord.render import (
    NO_MENTIONS,
    Part,
    digest_parts,
    paper_embed,
    reply_parts,
    safe_url,
    split_text,
)
from paperbot.adapters.discord.views import build_view
from paperbot.core.commands import Search
from paperbot.core.messages import ChannelRef, Digest, Page, PaperCard, Reply

REF = ChannelRef("discord", "123", "456")
HOSTILE = "@everyone <@123> <@&77> @here **bold** `code` ||spoiler|| [x](https://evil.example)"


def card(i: int = 1, **kw: Any) -> PaperCard:
    values: dict[str, Any] = {
        "key": f"2401.{i:05d}",
        "arxiv_id": f"2401.{i:05d}",
        "title": f"Diffusion paper number {i}",
        "url": f"https://arxiv.org/abs/2401.{i:05d}",
        "pdf_url": f"https://arxiv.org/pdf/2401.{i:05d}",
        "code_url": "https://github.com/lab/repo",
        "thumbnail": "https://cdn.example/thumb.png",
        "authors": ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"),
        "summary": "We propose a method. It works well.",
        "upvotes": 38,
        "comments": 4,
        "github_stars": 120,
        "published": date(2026, 11, 25),
        "categories": ("cs.LG", "cs.CV"),
        "why": "38 upvotes in 24 h · matches: diffusion",
    }
    values.update(kw)
    return PaperCard(**values)


def digest(n: int, **kw: Any) -> Digest:
    papers = tuple(card(i, **kw) for i in range(1, n + 1))
    return Digest(REF, "Daily papers for #general", papers, datetime(2026, 11, 27, tzinfo=UTC))


def body(part: Part) -> dict[str, Any]:
    """The JSON body discord.py sends for this part (as in channel message create)."""
    view = build_view(part.buttons)
    payload: dict[str, Any] = {
        "content": part.content,
        "embeds": [e.to_dict() for e in part.embeds],
        "allowed_mentions": NO_MENTIONS.to_dict(),
    }
    if view is not None:
        payload["components"] = view.to_components()
    return payload


def check_limits(parts: list[Part]) -> None:
    for part in parts:
        assert len(part.content or "") <= 2000
        assert len(part.embeds) <= 10
        assert sum(len(e) for e in part.embeds) <= 6000
        for embed in part.embeds:
            assert len(embed.title or "") <= 256
            assert len(embed.description or "") <= 4096
        assert all(len(b.custom_id) <= 100 for b in part.buttons)
        assert spec_errors("/channels/{channel_id}/messages", "POST", body(part)) == []


def test_paper_embed_shows_what_a_reader_needs() -> None:
    embed = paper_embed(card(7), 3).to_dict()
    assert embed["title"] == "3. Diffusion paper number 7"
    assert embed["url"] == "https://arxiv.org/abs/2401.00007"
    text = embed["description"]
    assert "Ada Lovelace, Alan Turing, Grace Hopper +1 more" in text
    assert "▲ 38 upvotes" in text and "★ 120 stars" in text and "2026-11-25" in text
    assert "> 38 upvotes in 24 h · matches: diffusion" in text
    assert "We propose a method. It works well." in text
    assert "[Abstract](https://arxiv.org/abs/2401.00007)" in text
    assert "[PDF](https://arxiv.org/pdf/2401.00007)" in text
    assert "[Code](https://github.com/lab/repo)" in text
    assert embed["thumbnail"] == {"url": "https://cdn.example/thumb.png"}


def test_digest_header_notes_and_buttons() -> None:
    d = Digest(
        REF,
        "Daily papers",
        (card(1),),
        datetime(2026, 11, 27, tzinfo=UTC),
        missed_slots=2,
        partial_sources=("arXiv",),
        topics=("diffusion",),
    )
    [part] = digest_parts(d)
    assert part.content is not None
    assert part.content.startswith("**Daily papers**")
    assert "missed 2 digests" in part.content and "arXiv" in part.content
    assert "Topics: `diffusion`" in part.content
    assert [b.label for b in part.buttons] == ["More like #1"]
    assert part.embeds[-1].footer.text == "paperbot · 2026-11-27"


def test_long_digest_is_split_within_discord_limits() -> None:
    long = digest(25, title="T" * 400, summary="word " * 2000, why="w" * 1000)
    parts = digest_parts(long, tag="abc123")
    check_limits(parts)
    assert sum(len(p.embeds) for p in parts) == 25
    assert len(parts) >= 3
    # Numbering continues across messages, the header is only on the first.
    numbers = [int((e.title or "").split(".")[0]) for p in parts for e in p.embeds]
    assert numbers == list(range(1, 26))
    assert parts[0].content and not any(p.content for p in parts[1:])
    short = digest_parts(digest(20))
    assert [len(p.embeds) for p in short] == [10, 10]
    # Each part's first button carries the delivery marker (read back by find_posted).
    marks = [buttons.mark_of(p.buttons[0].custom_id) for p in parts]
    assert marks == [buttons.Mark("abc123", i, len(parts)) for i in range(len(parts))]
    assert all(buttons.mark_of(b.custom_id) is None for p in parts for b in p.buttons[1:])


def test_hostile_titles_ping_nobody_and_render_literally() -> None:
    d = Digest(
        REF,
        HOSTILE,
        (card(1, title=HOSTILE, authors=(HOSTILE,), summary=HOSTILE),),
        datetime(2026, 11, 27, tzinfo=UTC),
        topics=(HOSTILE,),
    )
    for part in digest_parts(d):
        payload = body(part)
        assert payload["allowed_mentions"]["parse"] == []
        assert pinged(payload) == set()
        # Even without allowed_mentions nothing would ping: mention syntax is defused.
        assert pinged({"content": part.content}) == set()
        text = (part.content or "") + str(payload["embeds"])
        assert "\\*\\*bold\\*\\*" in text and "\\|\\|spoiler\\|\\|" in text


def test_user_text_echoed_in_replies_pings_nobody() -> None:
    reply = Reply(kind="error", text=f"This channel does not follow “{HOSTILE}”.")
    [part] = reply_parts(reply)
    assert pinged({"content": part.content}) == set()
    assert pinged(body(part)) == set()


def test_bad_urls_are_dropped_not_sent() -> None:
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("https://exa mple.com") is None
    assert safe_url("ftp://x") is None
    assert safe_url("https://a.b/x_(y)") == "https://a.b/x_%28y%29"
    embed = paper_embed(card(1, url="not a url", thumbnail="data:image/png;base64,xx"), 1)
    assert embed.url is None and not embed.thumbnail


def test_search_reply_has_next_button_and_footer_with_the_query() -> None:
    reply = Reply(
        kind="search",
        text="Papers for “gpt 4”",
        papers=(card(1), card(2)),
        next_page=Page("gpt 4", 2),
    )
    [part] = reply_parts(reply)
    assert part.buttons[-1].label == "Next"
    assert part.buttons[-1].custom_id == "pb:next:2:gpt 4"
    assert buttons.decode(part.buttons[-1].custom_id) == Search("gpt 4", 2)
    assert part.embeds[-1].footer.text == "search: gpt 4 · page 1"
    long_query = "q" * 200
    [part] = reply_parts(
        Reply(kind="search", text="x", papers=(card(1),), next_page=Page(long_query, 3))
    )
    assert part.buttons[-1].custom_id == "pb:next:3"  # the footer holds the query instead
    footer = part.embeds[-1].footer.text
    assert buttons.decode("pb:next:3", footer=footer) == Search(long_query, 3)
    check_limits([part])


def test_long_text_is_split_at_lines() -> None:
    text = "\n".join(f"line {i} " + "x" * 90 for i in range(60))
    chunks = split_text(text)
    assert all(len(c) <= 2000 for c in chunks) and "\n".join(chunks) == text
    assert all(len(c) <= 2000 for c in split_text("y" * 4500))
    parts = reply_parts(Reply(kind="help", text=text))
    check_limits(parts)
    assert len(parts) == len(chunks)


def test_the_spec_check_catches_what_discord_would_refuse() -> None:
    route = "/channels/{channel_id}/messages"
    assert spec_errors(route, "POST", {"content": "x" * 2001})  # 2000, not the spec's 4000
    assert spec_errors(route, "POST", {"embeds": [{"title": "t"}] * 11})
    assert spec_errors(route, "POST", {"nonce": "n" * 26})
    assert spec_errors(route, "POST", {"allowed_mentions": {"parse": ["everybody"]}})
    callback = "/interactions/{interaction_id}/{interaction_token}/callback"
    assert spec_errors(callback, "POST", {"type": 4, "data": {"content": "x" * 2001}})
    assert spec_errors(callback, "POST", {"type": 4, "data": {"content": "ok"}}) == []


UNPRINTABLE = "Evil\x1b[2J\x1b]0;pwned\x07 \u202etitle\x00 \x9b31m\u2066x\u2069 @everyone"


def test_every_discord_payload_carries_printable_text_only() -> None:
    hostile = card(1, title=UNPRINTABLE, authors=(UNPRINTABLE,), summary=UNPRINTABLE,
                   why=UNPRINTABLE, categories=(UNPRINTABLE,))  # fmt: skip
    d = Digest(REF, UNPRINTABLE, (hostile,), datetime(2026, 11, 27, tzinfo=UTC), topics=("t\x1b",))
    reply = Reply(kind="search", text=UNPRINTABLE, papers=(hostile,), notes=(UNPRINTABLE,))
    for part in [*digest_parts(d), *reply_parts(reply)]:
        payload = body(part)
        assert payload["allowed_mentions"]["parse"] == [] and pinged(payload) == set()
        texts = [part.content or ""]
        for e in part.embeds:
            texts += [e.title or "", e.description or "", e.footer.text or ""]
        for text in texts:
            assert text.replace("\n", "").replace("\u200b", "").isprintable(), text
    embed = digest_parts(d)[-1].embeds[0].to_dict()
    assert embed["title"] == "1. Evil title x @\u200beveryone"
