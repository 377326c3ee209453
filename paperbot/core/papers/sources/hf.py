"""Hugging Face Daily Papers: fetch one day's list (paginated) and parse it into PaperIn."""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

import httpx

from paperbot.core.papers.sources import http
from paperbot.core.papers.sources.base import PaperIn, SourceError, clean_text, to_date
from paperbot.core.papers.sources.config import SourceSettings

log = logging.getLogger(__name__)
SOURCE = "hf"


def _str(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _org(value: Any) -> str | None:
    if isinstance(value, dict):
        return _str(value.get("fullname")) or _str(value.get("name"))
    return None


def parse_item(item: dict[str, Any], *, day: date | None = None) -> PaperIn | None:
    """One /api/daily_papers item (outer item with its inner `paper`), or None if unusable."""
    paper = item.get("paper")
    if not isinstance(paper, dict):
        return None
    title = clean_text(_str(paper.get("title")) or _str(item.get("title")))
    paper_id = _str(paper.get("id"))
    if not title or not paper_id:
        return None
    authors = [
        clean_text(a["name"])
        for a in paper.get("authors") or []
        if isinstance(a, dict) and isinstance(a.get("name"), str) and a["name"].strip()
    ]
    keywords = [k for k in paper.get("ai_keywords") or [] if isinstance(k, str) and k.strip()]
    parsed = PaperIn(
        title=title,
        abstract=clean_text(_str(paper.get("summary")) or _str(item.get("summary"))),
        arxiv_id=paper_id,
        authors=authors,
        published=to_date(paper.get("publishedAt") or item.get("publishedAt")),
        announced=to_date(paper.get("submittedOnDailyAt")) or day,
        github_repo=_str(paper.get("githubRepo")),
        github_stars=_int(paper.get("githubStars")),
        project_page=_str(paper.get("projectPage")),
        thumbnail=_str(item.get("thumbnail")),
        ai_summary=clean_text(_str(paper.get("ai_summary"))) or None,
        ai_keywords=keywords,
        organization=_org(paper.get("organization")) or _org(item.get("organization")),
        upvotes=_int(paper.get("upvotes")) or 0,
        comments=_int(item.get("numComments")) or 0,
        source=SOURCE,
    )
    if parsed.arxiv_id is None:
        # HF ids are arXiv ids; anything else would not be a stable identity across sources.
        return None
    return parsed


def parse_daily_papers(payload: Any, *, day: date | None = None) -> list[PaperIn]:
    """A whole /api/daily_papers response; raises SourceError if it is not a list of items."""
    if not isinstance(payload, list):
        raise SourceError("unexpected Daily Papers response (not a list)")
    papers = []
    skipped = 0
    for item in payload:
        parsed = parse_item(item, day=day) if isinstance(item, dict) else None
        if parsed is None:
            skipped += 1
        else:
            papers.append(parsed)
    if skipped:
        log.info("hf: skipped %d unusable item(s)", skipped)
    return papers


def fetch_day(
    client: httpx.Client, sources: SourceSettings, day: date, *, until: float | None = None
) -> list[PaperIn]:
    """Every page of one day's list (pages while full, up to hf.max_pages), deduplicated.

    A page never counts for more than the `limit` asked: a server sending more is cut short
    (and asked no further, since it ignores what it is asked).
    """
    cfg = sources.hf
    url = http.join_url(cfg.base_url, "/api/daily_papers")
    found: dict[str, PaperIn] = {}
    for page in range(cfg.max_pages):
        params: dict[str, str | int] = {"date": day.isoformat(), "limit": cfg.page_size, "p": page}
        content = http.get(client, url, cfg=sources.http, params=params, until=until)
        try:
            payload = json.loads(content)
        except (ValueError, RecursionError):
            raise SourceError("Daily Papers response is not JSON") from None
        oversized = isinstance(payload, list) and len(payload) > cfg.page_size
        if oversized:
            log.warning("hf: a page of %d items for limit=%d; kept the first %d",
                        len(payload), cfg.page_size, cfg.page_size)  # fmt: skip
            payload = payload[: cfg.page_size]
        before = len(found)
        for paper in parse_daily_papers(payload, day=day):
            found.setdefault(paper.key, paper)
        # Stop on a short page, or on a page with nothing new (a server that ignores `p`).
        if oversized or len(payload) < cfg.page_size or len(found) == before:
            break
    return list(found.values())


__all__ = ["SOURCE", "fetch_day", "parse_daily_papers", "parse_item"]
