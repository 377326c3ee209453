"""JSONL paper files: one JSON object per line, `title` and `abstract` required.

Optional keys: `arxiv_id`, `authors` (list of strings), `categories` (list of strings),
`published` (ISO date), `url`, `upvotes` (integer >= 0). Unknown keys are ignored, blank lines
skipped. Text is made printable and clipped like every source's (see sources.fields); a NUL
character, text that is not UTF-8, a line over 4 MB or a field of the wrong type makes the line
bad. `scan_jsonl` reads the whole file first and names every bad line (up to 20), so
`ingest_file` (in paperbot.core.papers.ingest) can refuse a bad file before it changes anything, or
skip its bad lines when asked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from paperbot.core.errors import UserError
from paperbot.core.papers.sources.base import (
    PaperIn,
    clean_text,
    find_github_repo,
    normalize_arxiv_id,
)
from paperbot.core.printable import printable
from paperbot.core.progress import Progress

SOURCE = "file"
MAX_LINE_BYTES = 4 * 1024 * 1024
MAX_REPORTED = 20
MAX_UPVOTES = 1_000_000_000
# How often (in lines) the scan reports its progress.
_REPORT_EVERY = 2_000


@dataclass(frozen=True)
class LineProblem:
    """Why one line (or, with line None, the whole file) cannot be ingested."""

    line: int | None
    problem: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.problem}" if self.line is not None else self.problem


class FileFormatError(UserError):
    """A paper file that cannot be ingested; str() names the file and each bad line (<= 20)."""

    def __init__(self, name: str, problems: list[LineProblem], bad_lines: int | None = None):
        self.name = name
        self.problems = problems[:MAX_REPORTED]
        self.bad_lines = max(bad_lines or 0, len(problems))
        first = problems[0]
        self.line, self.problem = first.line, first.problem
        if self.bad_lines == 1:
            where = f"{name}, line {first.line}" if first.line is not None else name
            super().__init__(f"{where}: {first.problem}")
            return
        lines = [f"{name}: {self.bad_lines} bad lines:"]
        lines += [f"  {p}" for p in self.problems]
        if self.bad_lines > len(self.problems):
            lines.append(f"  and {self.bad_lines - len(self.problems)} more")
        super().__init__("\n".join(lines))


@dataclass
class FileScan:
    """A whole file read once: how many papers it holds and which lines are bad."""

    name: str
    papers: int = 0
    bad_lines: int = 0
    problems: list[LineProblem] = field(default_factory=list)

    def add_problem(self, problem: LineProblem) -> None:
        self.bad_lines += 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(problem)

    def error(self) -> FileFormatError | None:
        return FileFormatError(self.name, self.problems, self.bad_lines) if self.bad_lines else None


# --- one record ------------------------------------------------------------------------------


class _BadLine(ValueError):
    """Why one line is not a paper (a ValueError for check_record's callers). Only this is
    reported as a bad line: any other ValueError is a bug, not the file's fault."""


def _shown(value: str) -> str:
    """A user's value quoted in an error: printable, short, with visible escapes."""
    return repr(printable(value)[:40])


def _text(obj: dict[str, Any], key: str, *, required: bool) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        need = "a non-empty string" if required else "a string"
        raise _BadLine(f"'{key}' must be {need}" if key in obj else f"missing '{key}'")
    if "\x00" in value:
        raise _BadLine(f"'{key}' contains a NUL character")
    if required and not printable(value).strip():  # strip, not split: no list of words
        raise _BadLine(f"'{key}' has no printable text")
    return value.strip() or None


def _strings(obj: dict[str, Any], key: str) -> list[str]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _BadLine(f"'{key}' must be a list of strings")
    kept = []
    for item in value:
        if not isinstance(item, str):
            raise _BadLine(f"'{key}' must be a list of strings")
        if "\x00" in item:
            raise _BadLine(f"'{key}' contains a NUL character")
        if item := item.strip():
            kept.append(item)
    return kept


def _published(obj: dict[str, Any]) -> date | None:
    value = obj.get("published")
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise _BadLine("'published' must be an ISO date like 2024-05-31")


def _upvotes(obj: dict[str, Any]) -> int | None:
    value = obj.get("upvotes")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_UPVOTES:
        raise _BadLine(f"'upvotes' must be a whole number from 0 to {MAX_UPVOTES:,}")
    return value


def check_record(obj: Any) -> dict[str, Any]:
    """The validated fields of one decoded line; ValueError with a short reason if not a paper."""
    if not isinstance(obj, dict):
        raise _BadLine("each line must be a JSON object")
    arxiv_id = _text(obj, "arxiv_id", required=False)
    if arxiv_id and normalize_arxiv_id(arxiv_id) is None:
        raise _BadLine(f"'arxiv_id' {_shown(arxiv_id)} is not an arXiv id")
    return {
        "title": _text(obj, "title", required=True),
        "abstract": _text(obj, "abstract", required=True),
        "arxiv_id": arxiv_id,
        "authors": _strings(obj, "authors"),
        "categories": _strings(obj, "categories"),
        "published": _published(obj),
        "url": _text(obj, "url", required=False),
        "upvotes": _upvotes(obj),
    }


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


# --- lines -----------------------------------------------------------------------------------


def _decode(raw: bytes | None, number: int) -> Any:
    """One raw line as a JSON value (None for a blank line); ValueError says what is wrong."""
    if raw is None:
        raise _BadLine(f"longer than {MAX_LINE_BYTES // (1024 * 1024)} MB")
    if b"\x00" in raw:
        raise _BadLine("contains a NUL byte")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _BadLine(f"not UTF-8 text (byte {exc.start + 1})") from None
    if number == 1:
        text = text.removeprefix("\ufeff")
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _BadLine(f"invalid JSON ({exc.msg})") from None
    except RecursionError:
        raise _BadLine("invalid JSON (nested too deeply)") from None


def _raw_lines(handle: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """(number, bytes) per line; None for a line over MAX_LINE_BYTES (never held in memory)."""
    number = 0
    while line := handle.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while (rest := handle.readline(1024 * 1024)) and not rest.endswith(b"\n"):
                pass
            yield number, None
        else:
            yield number, line


def _open(path: str | Path) -> tuple[str, BinaryIO]:
    file = Path(path)
    try:
        return file.name, file.open("rb")
    except OSError as exc:
        problem = LineProblem(None, f"cannot read ({exc.strerror or exc})")
        raise FileFormatError(file.name, [problem]) from None


def parse_lines(lines: Iterable[str], *, name: str, source: str = SOURCE) -> Iterator[PaperIn]:
    """Papers from JSONL text lines (bundled data); FileFormatError at the first bad line."""
    for number, line in enumerate(lines, start=1):
        try:
            obj = _decode(line.encode("utf-8", "surrogatepass"), number)
            if obj is not None:
                yield parse_record(obj, source=source)
        except _BadLine as exc:
            raise FileFormatError(name, [LineProblem(number, str(exc))]) from None


def scan_jsonl(path: str | Path, *, progress: Progress | None = None) -> FileScan:
    """Check every line of a file without storing anything (progress in bytes read)."""
    name, handle = _open(path)
    scan = FileScan(name)
    with handle:
        size = _size(handle)
        for number, raw in _raw_lines(handle):
            try:
                obj = _decode(raw, number)
                if obj is not None:
                    check_record(obj)
                    scan.papers += 1
            except _BadLine as exc:
                scan.add_problem(LineProblem(number, str(exc)))
            if progress is not None and number % _REPORT_EVERY == 0:
                progress(handle.tell(), size)
        if progress is not None:
            progress(handle.tell(), size)
    return scan


def _size(handle: BinaryIO) -> int | None:
    try:
        return int(Path(handle.name).stat().st_size) if isinstance(handle.name, str) else None
    except OSError:
        return None


def read_jsonl(
    path: str | Path, *, source: str = SOURCE, skip_invalid: bool = False
) -> Iterator[PaperIn]:
    """Papers from a JSONL file, lazily; FileFormatError at a bad line unless `skip_invalid`."""
    name, handle = _open(path)
    with handle:
        for number, raw in _raw_lines(handle):
            try:
                obj = _decode(raw, number)
                if obj is not None:
                    yield parse_record(obj, source=source)
            except _BadLine as exc:
                if not skip_invalid:
                    raise FileFormatError(name, [LineProblem(number, str(exc))]) from None


def validate_jsonl(path: str | Path) -> int:
    """The number of papers in a file; FileFormatError naming its bad lines if it has any."""
    scan = scan_jsonl(path)
    if (error := scan.error()) is not None:
        raise error
    return scan.papers


__all__ = [
    "MAX_LINE_BYTES",
    "MAX_REPORTED",
    "SOURCE",
    "FileFormatError",
    "FileScan",
    "LineProblem",
    "check_record",
    "parse_lines",
    "parse_record",
    "read_jsonl",
    "scan_jsonl",
    "validate_jsonl",
]
