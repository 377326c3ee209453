"""A reserved digest as JSON: stored on its Delivery row so every retry posts the same parts."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from paperbot.core.messages import ChannelRef, Digest, PaperCard

_TUPLES = ("authors", "categories")


def _card_json(card: PaperCard) -> dict[str, Any]:
    data = dataclasses.asdict(card)
    data["published"] = card.published.isoformat() if card.published else None
    return data


def _card(data: dict[str, Any]) -> PaperCard:
    values = {f.name: data[f.name] for f in dataclasses.fields(PaperCard) if f.name in data}
    for name in _TUPLES:
        values[name] = tuple(values.get(name) or ())
    published = values.get("published")
    values["published"] = date.fromisoformat(published) if published else None
    return PaperCard(**values)


def to_json(digest: Digest) -> dict[str, Any]:
    return {
        "channel": [digest.channel.platform, digest.channel.workspace, digest.channel.channel],
        "title": digest.title,
        "papers": [_card_json(card) for card in digest.papers],
        "generated_at": digest.generated_at.isoformat(),
        "missed_slots": digest.missed_slots,
        "partial_sources": list(digest.partial_sources),
        "topics": list(digest.topics),
        "undelivered": digest.undelivered,
        "undelivered_reason": digest.undelivered_reason,
        "resumed_after": digest.resumed_after,
        "kind": digest.kind,
    }


def from_json(data: dict[str, Any]) -> Digest:
    platform, workspace, channel = data["channel"]
    return Digest(
        channel=ChannelRef(platform, workspace, channel),
        title=data["title"],
        papers=tuple(_card(card) for card in data["papers"]),
        generated_at=datetime.fromisoformat(data["generated_at"]),
        missed_slots=int(data.get("missed_slots", 0)),
        partial_sources=tuple(data.get("partial_sources", ())),
        topics=tuple(data.get("topics", ())),
        undelivered=int(data.get("undelivered", 0)),
        undelivered_reason=str(data.get("undelivered_reason", "")),
        resumed_after=str(data.get("resumed_after", "")),
        kind="roundup" if data.get("kind") == "roundup" else "digest",
    )
