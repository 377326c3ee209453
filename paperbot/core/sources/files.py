"""JSONL paper files: one JSON object per line, `title` and `abstract` required.

Optional keys: `arxiv_id`, `authors` (list of strings), `categories` (list of strings),
`published` (ISO date), `url`, `upvotes` (integer >= 0). Unknown keys are ignored, blank lines
skipped. A bad line raises FileFormatError naming the file and line; `ingest_file` (in
paperbot.core.ingest) validates the whole file first, so a bad file changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from paperbot.core.sources.base import PaperIn, clean_text, find_github_repo, normalize_arxiv_id

SOURCE = "file"


class FileFormatError(ValueError):
    """A paper file that cannot be ingested; str() is one friendly line."""

    def __init__(self, name: str, line: int | None, problem: str) -> None:
        where = f"{name}, line {line}" if line is not None else name
        super().__init__(f"{where}: {problem}")
        self.name = name
        self.line = line
        self.problem = problem


def _text(obj: dict[str, Any], key: str, *, required: bool) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        need = "a non-empty string" if required else "a string"
        raise ValueError(f"'{key}' must be {need}" if key in obj else f"missing '{key}'")
    return value.strip() or None


def _strings(obj: dict[str, Any], key: str) -> list[str]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"'{key}' must be a list of strings")
    return [v.strip() for v in value if v.strip()]


def _published(obj: dict[str, Any]) -> date | None:
    value = obj.get("published")
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise ValueError("'published' must be an ISO date like 2024-05-31")


def _upvotes(obj: dict[str, Any]) -> int | None:
    value = obj.get("upvotes")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("'upvotes' must be a whole number >= 0")
    return value


def check_record(obj: Any) -> dict[str, Any]:
    """The validated fields of one decoded line; ValueError with a short reason if not a paper."""
    if not isinstance(obj, dict):
        raise ValueError("each line must be a JSON object")
    arxiv_id = _text(obj, "arxiv_id", required=False)
    if arxiv_id and normalize_arxiv_id(arxiv_id) is None:
        raise ValueError(f"'arxiv_id' {arxiv_id[:40]!r} is not an arXiv id")
    fields: dict[str, Any] = {
        "title": _text(obj, "title", required=True),
        "abstract": _text(obj, "abstract", required=True),
        "arxiv_id": arxiv_id,
        "authors": _strings(obj, "authors"),
        "categories": _strings(obj, "categories"),
        "published": _published(obj),
        "url": _text(obj, "url", required=False),
        "upvotes": _upvotes(obj),
    }
    return fields


def parse_record(obj: Any, *, source: str = SOURCE) -> PaperIn:
    """One decoded line as a paper; ValueError with a short reason when it is not one."""
    fields = check_record(obj)
    abstract = clean_text(fields.pop("abstract"))
    return PaperIn(
        title=clean_text(fields.pop("title")),
        abstract=abstract,
        authors=[clean_text(a) for a in fields.pop("authors")],
        github_repo=find_github_repo(abstract),
        source=source,
        **fields,
    )


def _records(lines: Iterable[str], *, name: str) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise FileFormatError(name, number, f"invalid JSON ({exc.msg})") from None


def parse_lines(lines: Iterable[str], *, name: str, source: str = SOURCE) -> Iterator[PaperIn]:
    """Papers from JSONL text lines; raises FileFormatError at the first bad line."""
    for number, obj in _records(lines, name=name):
        try:
            yield parse_record(obj, source=source)
        except ValueError as exc:
            raise FileFormatError(name, number, str(exc)) from None


def _open_lines(path: str | Path) -> tuple[str, Iterator[str]]:
    file = Path(path)
    try:
        handle = file.open(encoding="utf-8")
    except OSError as exc:
        raise FileFormatError(file.name, None, f"cannot read ({exc.strerror or exc})") from None

    def lines() -> Iterator[str]:
        with handle:
            try:
                yield from handle
            except UnicodeDecodeError:
                raise FileFormatError(file.name, None, "not UTF-8 text") from None

    return file.name, lines()


def read_jsonl(path: str | Path, *, source: str = SOURCE) -> Iterator[PaperIn]:
    """Papers from a JSONL file, lazily; FileFormatError (file name and line) on bad input."""
    name, lines = _open_lines(path)
    yield from parse_lines(lines, name=name, source=source)


def validate_jsonl(path: str | Path) -> int:
    """Check every line of a file without storing anything; the number of papers in it."""
    count = 0
    name, lines = _open_lines(path)
    for number, obj in _records(lines, name=name):
        try:
            check_record(obj)
        except ValueError as exc:
            raise FileFormatError(name, number, str(exc)) from None
        count += 1
    return count


__all__ = [
    "SOURCE",
    "FileFormatError",
    "check_record",
    "parse_lines",
    "parse_record",
    "read_jsonl",
    "validate_jsonl",
]
