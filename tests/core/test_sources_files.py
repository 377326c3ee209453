"""JSONL paper files: what a good file yields, and a clear error for every bad one."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.ingest import ingest_file
from paperbot.core.models import Paper, SignalSnapshot
from paperbot.core.sources.base import title_key
from paperbot.core.sources.files import FileFormatError, read_jsonl

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
