"""The console platform: readable digests without terminal escapes, and a shared transcript."""

from __future__ import annotations

import io
import multiprocessing
from datetime import UTC, date, datetime
from pathlib import Path

from paperbot.adapters.console.platform import ConsolePlatform, read_transcript
from paperbot.adapters.console.render import render_digest, render_reply
from paperbot.core.messages import ChannelRef, Digest, Page, PaperCard, Reply

REF = ChannelRef("console", "local", "general")
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def card(key: str, title: str = "A paper", **kw: object) -> PaperCard:
    return PaperCard(key=key, title=title, url=f"https://arxiv.org/abs/{key}", **kw)  # type: ignore[arg-type]


def digest(*cards: PaperCard, **kw: object) -> Digest:
    return Digest(channel=REF, title="Papers for #general", papers=cards, generated_at=NOW, **kw)  # type: ignore[arg-type]


def test_digest_shows_papers_links_and_notes() -> None:
    text = render_digest(
        digest(
            card(
                "2611.00001",
                "Diffusion Everywhere",
                authors=("Ada", "Bo", "Cy", "Di"),
                upvotes=42,
                published=date(2026, 11, 26),
                why="42 upvotes in 24 h · matches: diffusion",
            ),
            missed_slots=2,
            partial_sources=("arxiv",),
        )
    )
    assert "1. Diffusion Everywhere" in text
    assert "Ada, Bo, Cy +1 more" in text and "▲ 42" in text
    assert "https://arxiv.org/abs/2611.00001" in text
    assert "missed 2 digests" in text
    assert "Some sources could not be reached (arxiv)" in text


def test_third_party_text_cannot_drive_the_terminal() -> None:
    evil = "Title\x1b[2J\x1b]0;pwned\x07 with \x1b[31mred\x1b[0m\u202eevil\rend"
    text = render_digest(digest(card("k", evil, authors=("Mallory\x1b[5m",), summary="a\x00b")))
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "\r" not in text and "\x00" not in text
    assert "Title with redevil end" in text  # bidi controls are invisible: removed, not spaced
    assert "Mallory" in text


def test_reply_renders_text_papers_and_next_page() -> None:
    reply = Reply(
        kind="search",
        text="Results for diffusion",
        papers=(card("2611.00002", "Scores"),),
        next_page=Page("diffusion", 2),
        notes=("Tip: use quotes",),
    )
    text = render_reply(reply)
    assert text.startswith("Results for diffusion")
    assert "1. Scores" in text and "Tip: use quotes" in text
    assert text.endswith("More: /papers search diffusion page:2")


def test_post_writes_stream_and_transcript_and_find_posted_reads_it(tmp_path: Path) -> None:
    out = io.StringIO()
    transcript = tmp_path / "t.jsonl"
    platform = ConsolePlatform(out=out, transcript=transcript)
    posted = digest(card("2611.00003", "Hello"))
    assert platform.digest_parts(posted) == [("2611.00003",)]
    assert platform.post_part(REF, posted, 0, idempotency_key="17") == "console-17-0"
    assert "1. Hello" in out.getvalue()
    assert read_transcript(transcript) == [
        {
            "key": "17",
            "part": 0,
            "channel": "console:local/general",
            "papers": ["2611.00003"],
            "message_id": "console-17-0",
        }
    ]
    assert platform.find_posted(REF, "17") == {0: "console-17-0"}
    assert platform.find_posted(REF, "18") == {}
    assert platform.find_posted(ChannelRef("console", "local", "other"), "17") == {}
    # Without a transcript the console cannot tell.
    assert ConsolePlatform(out=io.StringIO()).find_posted(REF, "17") is None


def _post_many(path: str, worker: int) -> None:
    platform = ConsolePlatform(out=io.StringIO(), transcript=Path(path))
    long_title = "x" * 2000  # long lines must not interleave either
    for i in range(100):
        platform.post_part(
            REF, digest(card(f"{worker}-{i}", long_title)), 0, idempotency_key=f"{worker}-{i}"
        )


def test_transcript_is_shared_by_processes(tmp_path: Path) -> None:
    path = tmp_path / "shared.jsonl"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_post_many, args=(str(path), w)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    entries = read_transcript(path)
    assert len(path.read_text().splitlines()) == 300
    assert sorted(e["key"] for e in entries) == sorted(
        f"{w}-{i}" for w in range(3) for i in range(100)
    )


def test_partial_line_after_crash_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(
        '{"key": "1", "part": 0, "channel": "console:local/general", "message_id": "m"}\n'
        '{"key": "2", "pa'
    )
    assert [e["key"] for e in read_transcript(path)] == ["1"]
