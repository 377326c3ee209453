"""JSONL paper files: what a good file yields, and a clear error for every bad one."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.models import Paper, SignalSnapshot
from paperbot.core.papers.ingest import ingest_file
from paperbot.core.papers.sources.base import title_key
from paperbot.core.papers.sources.files import (
    MAX_LINE_BYTES,
    FileFormatError,
    read_jsonl,
    scan_jsonl,
)

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
GOOD = [
    {
        "title": "Attention Is All You Need",
        "abstract": "We propose the <i>Transformer</i>, based on attention, $O(n^{2})$ cost.",
        "arxiv_id": "1706.03762v7",
        "authors": ["Ashish Vaswani", "Noam Shazeer"],
        "categories": ["cs.CL", "cs.LG"],
        "published": "2017-06-12",
        "url": "https://arxiv.org/abs/1706.03762",
        "upvotes": 42,
    },
    {"title": "A paper without an id", "abstract": "Code at https://github.com/a/b."},
]


def write(tmp_path: Path, rows: list[Any], name: str = "papers.jsonl") -> Path:
    path = tmp_path / name
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_good_file_yields_clean_papers(tmp_path: Path) -> None:
    first, second = read_jsonl(write(tmp_path, [GOOD[0], "", GOOD[1]]))
    assert first.key == "1706.03762" and first.upvotes == 42
    assert first.abstract == "We propose the Transformer, based on attention, O(n^2) cost."
    assert first.authors == ["Ashish Vaswani", "Noam Shazeer"]
    assert first.published == date(2017, 6, 12) and first.source == "file"
    assert second.key == title_key("A paper without an id") and second.upvotes is None
    assert second.github_repo == "https://github.com/a/b"


BAD = {
    "invalid JSON": ('{"title": "x", "abstract": ', "invalid JSON"),
    "not an object": ('["title", "abstract"]', "JSON object"),
    "missing title": ({"abstract": "a"}, "missing 'title'"),
    "blank abstract": ({"title": "t", "abstract": "  "}, "'abstract' must be a non-empty"),
    "authors not a list": ({"title": "t", "abstract": "a", "authors": "A, B"}, "list of strings"),
    "bad date": ({"title": "t", "abstract": "a", "published": "yesterday"}, "ISO date"),
    "negative upvotes": ({"title": "t", "abstract": "a", "upvotes": -1}, "whole number"),
    "bad arxiv id": ({"title": "t", "abstract": "a", "arxiv_id": "nope"}, "not an arXiv id"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_line_names_the_file_and_line(tmp_path: Path, case: str) -> None:
    row, reason = BAD[case]
    path = write(tmp_path, [GOOD[0], GOOD[1], row], name="mine.jsonl")
    with pytest.raises(FileFormatError) as caught:
        list(read_jsonl(path))
    assert str(caught.value).startswith("mine.jsonl, line 3: ")
    assert reason in str(caught.value) and caught.value.line == 3


def test_missing_file_is_a_format_error(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="cannot read"):
        list(read_jsonl(tmp_path / "absent.jsonl"))


def count(factory: sessionmaker[Session], model: Any) -> int:
    with factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_bad_file_changes_nothing(tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    path = write(tmp_path, [GOOD[0], GOOD[1], {"title": "no abstract"}])
    with pytest.raises(FileFormatError, match="line 3"):
        ingest_file(session_factory, path, now=NOW)
    assert count(session_factory, Paper) == 0


def test_file_ingest_is_idempotent_and_snapshots_rows_with_upvotes(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    path = write(tmp_path, GOOD)
    result = ingest_file(session_factory, path, now=NOW).result
    assert (result.added, result.snapshots) == (2, 1)
    with session_factory() as s:
        papers = {p.key: p for p in s.scalars(select(Paper))}
    assert papers["1706.03762"].announced == date(2017, 6, 12)  # `published`
    assert papers[title_key(GOOD[1]["title"])].announced == NOW.date()  # the ingest day
    again = ingest_file(session_factory, path, now=NOW).result
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    assert count(session_factory, Paper) == 2 and count(session_factory, SignalSnapshot) == 2


def test_non_utf8_file_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"title": "caf\xe9", "abstract": "a"}\n')
    with pytest.raises(FileFormatError, match="UTF-8"):
        list(read_jsonl(path))


# --- hostile files ---------------------------------------------------------------------------


def stored_papers(factory: sessionmaker[Session]) -> dict[str, Paper]:
    with factory() as s:
        return {p.key: p for p in s.scalars(select(Paper))}


def test_hostile_text_is_stored_printable_and_clipped(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    rows = [
        {
            "title": "Evil \x1b[2J\x1b]0;pwned\x07title \u202egnp.exe\u2066",
            "abstract": "lone \ud800 surrogate, C1 \x9b31m and \x85 next line",
            "arxiv_id": "2601.00001",
            "authors": ["Mallory\x1b[5m", "\u202eEve", *[f"A{i}" for i in range(700)]],
            "url": "https://example.org/a\x01b",
        },
        {"title": "T" * 1_000_000, "abstract": "A" * 100_000, "arxiv_id": "2601.00002"},
    ]
    result = ingest_file(session_factory, write(tmp_path, rows), now=NOW).result
    assert result.added == 2
    papers = stored_papers(session_factory)
    evil = papers["2601.00001"]
    assert evil.title == "Evil title gnp.exe"
    assert evil.abstract == "lone \ufffd surrogate, C1 and next line"
    assert evil.authors[:2] == ["Mallory", "Eve"] and len(evil.authors) == 500
    assert evil.url is None  # a URL with a control character in it is not a URL
    huge = papers["2601.00002"]
    assert len(huge.title) == 1_000 and huge.title.endswith("…")
    assert len(huge.abstract) == 20_000


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"title": "a\\u0000b", "abstract": "x"}', "'title' contains a NUL character"),
        ('{"title": "t", "abstract": "x", "authors": ["\\u0000"]}', "'authors' contains a NUL"),
        (b'{"title": "t\x00", "abstract": "x"}', "contains a NUL byte"),
        (b'{"title": "caf\xe9", "abstract": "x"}', "not UTF-8 text (byte 15)"),
        ('{"title": "\\u001b[0m\\u202e", "abstract": "x"}', "'title' has no printable text"),
        ('{"title": "t", "abstract": "\\u0001\\u2028\\t"}', "'abstract' has no printable text"),
        ('{"title": "t", "abstract": "x", "upvotes": 10000000000000}', "whole number from 0"),
        ('{"title": "t", "abstract": "x", "arxiv_id": "a/' + "b" * 50 + '"}', "not an arXiv id"),
        ("[" * 100_000 + "]" * 100_000, "invalid JSON"),
    ],
)
def test_a_hostile_line_is_named(
    tmp_path: Path, session_factory: sessionmaker[Session], line: str | bytes, reason: str
) -> None:
    path = tmp_path / "hostile.jsonl"
    good = json.dumps(GOOD[1]).encode() + b"\n"
    path.write_bytes(good + (line if isinstance(line, bytes) else line.encode()) + b"\n" + good)
    with pytest.raises(FileFormatError) as caught:
        ingest_file(session_factory, path, now=NOW)
    assert str(caught.value).startswith("hostile.jsonl, line 2: ") and reason in str(caught.value)
    assert stored_papers(session_factory) == {}


def test_every_bad_line_is_named_up_to_twenty(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    rows: list[Any] = [GOOD[0]]
    rows += [{"title": f"no abstract {i}"} for i in range(25)]
    rows += ["{broken", GOOD[1]]
    path = write(tmp_path, rows, name="many.jsonl")
    with pytest.raises(FileFormatError) as caught:
        ingest_file(session_factory, path, now=NOW)
    lines = str(caught.value).splitlines()
    assert lines[0] == "many.jsonl: 26 bad lines:"
    assert (
        lines[1] == "  line 2: missing 'abstract'" and lines[20] == "  line 21: missing 'abstract'"
    )
    assert lines[21] == "  and 6 more" and len(lines) == 22
    assert caught.value.bad_lines == 26 and stored_papers(session_factory) == {}


def test_skip_invalid_ingests_the_good_lines_and_reports_the_rest(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    rows: list[Any] = [GOOD[0], '{"title": "x\\u0000", "abstract": "a"}', "", "nope", GOOD[1]]
    run = ingest_file(session_factory, write(tmp_path, rows), now=NOW, skip_invalid=True)
    assert run.result.added == 2 and run.skipped == 2
    assert [p.line for p in run.scan.problems] == [2, 4]
    assert len(stored_papers(session_factory)) == 2


def test_an_overlong_line_is_refused_without_reading_it_into_memory(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    with path.open("wb") as out:
        out.write(json.dumps(GOOD[1]).encode() + b"\n")
        out.write(b'{"title": "' + b"x" * (MAX_LINE_BYTES + 10) + b'", "abstract": "a"}\n')
        out.write(json.dumps(GOOD[0]).encode() + b"\n")
    scan = scan_jsonl(path)
    assert scan.papers == 2 and [str(p) for p in scan.problems] == ["line 2: longer than 4 MB"]


def test_a_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD[0]).encode() + b"\n")
    assert [p.key for p in read_jsonl(path)] == ["1706.03762"]
