"""arXiv: the announcement feed per category and the export API query, parsed into PaperIn."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import feedparser
import httpx

from paperbot.core.papers.sources import http
from paperbot.core.papers.sources.base import (
    PaperIn,
    SourceError,
    clean_text,
    find_github_repo,
    normalize_arxiv_id,
    to_date,
)
from paperbot.core.papers.sources.config import SourceSettings

SOURCE = "arxiv"
_ANNOUNCE_PREFIX = re.compile(
    r"^\s*arXiv:\S+\s+Announce Type:\s*(?P<type>[\w-]+)\s*(?:Abstract:\s*)?", re.IGNORECASE
)
_AUTHOR_SPLIT = re.compile(r"\s*,\s*|\s+and\s+")
_PROJECT_PAGE = re.compile(r"project\s*page:?\s*(https?://\S+)", re.IGNORECASE)


@dataclass
class FeedResult:
    """One announcement feed: the kept papers, the feed's announce day, what was dropped."""

    papers: list[PaperIn] = field(default_factory=list)
    day: date | None = None
    skipped: int = 0


def _struct_date(value: Any) -> date | None:
    if isinstance(value, time.struct_time):
        return date(value.tm_year, value.tm_mon, value.tm_mday)
    return None


def _entry_date(entry: Any, name: str) -> date | None:
    # The raw string keeps arXiv's own (Eastern) calendar day; *_parsed is shifted to UTC.
    return to_date(entry.get(name)) or _struct_date(entry.get(f"{name}_parsed"))


def _categories(entry: Any) -> list[str]:
    terms = [t.get("term") for t in entry.get("tags") or [] if isinstance(t, dict)]
    primary = (entry.get("arxiv_primary_category") or {}).get("term")
    ordered = [primary, *terms] if primary else terms
    return list(dict.fromkeys(t.strip() for t in ordered if isinstance(t, str) and t.strip()))


def _authors(entry: Any) -> list[str]:
    names: list[str] = []
    for author in entry.get("authors") or []:
        raw = author.get("name") if isinstance(author, dict) else None
        if isinstance(raw, str):
            # The announcement feed puts every author in one dc:creator, comma separated.
            names.extend(clean_text(n) for n in _AUTHOR_SPLIT.split(raw) if n.strip())
    return [n for n in names if n]


def _parse(content: bytes) -> Any:
    parsed = feedparser.parse(content)
    if not parsed.get("version"):
        raise SourceError("arXiv response is not an Atom/RSS feed")
    return parsed


def _paper(entry: Any, *, abstract: str, announced: date | None) -> PaperIn | None:
    arxiv_id = normalize_arxiv_id(entry.get("id")) or normalize_arxiv_id(entry.get("link"))
    title = clean_text(entry.get("title"))
    if not arxiv_id or not title:
        return None
    comment = entry.get("arxiv_comment") or ""
    project = _PROJECT_PAGE.search(comment)
    return PaperIn(
        title=title,
        abstract=abstract,
        arxiv_id=arxiv_id,
        authors=_authors(entry),
        categories=_categories(entry),
        published=_entry_date(entry, "published"),
        announced=announced,
        url=f"https://arxiv.org/abs/{arxiv_id}",
        pdf_url=f"https://arxiv.org/pdf/{arxiv_id}",
        github_repo=find_github_repo(abstract) or find_github_repo(comment),
        project_page=project.group(1).rstrip(".,;)") if project else None,
        source=SOURCE,
    )


def parse_feed(content: bytes, *, announce_types: Iterable[str] | None = None) -> FeedResult:
    """An announcement feed (Atom or RSS); an empty holiday feed gives no papers, no error."""
    parsed = _parse(content)
    feed = parsed.get("feed") or {}
    day = _entry_date(feed, "published") or _entry_date(feed, "updated")
    kept = {t.lower() for t in announce_types} if announce_types is not None else None
    result = FeedResult(day=day)
    for entry in parsed.get("entries") or []:
        raw = entry.get("summary") or entry.get("description") or ""
        prefix = _ANNOUNCE_PREFIX.match(raw)
        kind = (entry.get("arxiv_announce_type") or (prefix and prefix["type"]) or "new").lower()
        if kept is not None and kind not in kept:
            result.skipped += 1
            continue
        abstract = clean_text(raw[prefix.end() :] if prefix else raw)
        announced = _entry_date(entry, "published") or day
        paper = _paper(entry, abstract=abstract, announced=announced)
        if paper is None:
            result.skipped += 1
            continue
        if kind == "new" and paper.published is None:
            paper.published = announced
        result.papers.append(paper)
    if result.day is None:
        result.day = max((p.announced for p in result.papers if p.announced), default=None)
    return result


def parse_api(content: bytes, *, limit: int | None = None) -> list[PaperIn]:
    """An export API response (at most `limit` entries); an error entry is a SourceError."""
    parsed = _parse(content)
    papers = []
    entries = parsed.get("entries") or []
    for entry in entries[:limit] if limit is not None else entries:
        if "api/errors" in str(entry.get("id", "")):
            raise SourceError(f"arXiv API error: {clean_text(entry.get('summary'))[:200]}")
        paper = _paper(entry, abstract=clean_text(entry.get("summary")), announced=None)
        if paper is not None:
            papers.append(paper)
    return papers


def _get(
    client: httpx.Client,
    sources: SourceSettings,
    url: str,
    params: http.Params | None,
    until: float | None = None,
) -> bytes:
    return http.get(
        client,
        url,
        cfg=sources.http,
        params=params,
        limiter=http.ARXIV_LIMITER,
        interval=sources.arxiv.min_interval_seconds,
        until=until,
    )


def fetch_feed(
    client: httpx.Client,
    sources: SourceSettings,
    categories: Sequence[str],
    *,
    until: float | None = None,
) -> FeedResult:
    """One request for all categories (`/atom/cs.LG+cs.CL`), deduplicated by paper key."""
    cats = "+".join(c.strip() for c in categories if c.strip())
    if not cats:
        raise SourceError("no arXiv categories configured")
    url = http.join_url(sources.arxiv.rss_base_url, f"/atom/{cats}")
    result = parse_feed(_get(client, sources, url, None, until),
                        announce_types=sources.arxiv.announce_types)  # fmt: skip
    result.papers = list({p.key: p for p in result.papers}.values())
    return result


def arxiv_api_query(
    sources: SourceSettings,
    *,
    id_list: Sequence[str] | None = None,
    search: str | None = None,
    max_results: int | None = None,
    start: int = 0,
    client: httpx.Client | None = None,
) -> list[PaperIn]:
    """Query the export API by ids and/or a search_query; raises SourceError on failure."""
    if not id_list and not search:
        raise ValueError("give id_list or search")
    wanted = (
        max_results
        or (len(id_list) if id_list and not search else None)
        or sources.arxiv.api_max_results
    )
    params: dict[str, str | int] = {"start": start, "max_results": wanted}
    if id_list:
        params["id_list"] = ",".join(i.strip() for i in id_list if i.strip())
    if search:
        params.update(search_query=search, sortBy="submittedDate", sortOrder="descending")
    url = http.join_url(sources.arxiv.api_base_url, "/api/query")
    if client is not None:
        return parse_api(_get(client, sources, url, params), limit=wanted)
    with http.make_client(sources.http) as own:
        return parse_api(_get(own, sources, url, params), limit=wanted)


__all__ = ["SOURCE", "FeedResult", "arxiv_api_query", "fetch_feed", "parse_api", "parse_feed"]
