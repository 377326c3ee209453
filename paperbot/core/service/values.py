"""The value types the service's callers pass in and get back (besides core.messages)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from paperbot.core.messages import ChannelRef, Digest
from paperbot.core.models import Channel
from paperbot.core.progress import Progress


@dataclass(frozen=True)
class ChannelOptions:
    """What `paperbot channel add` sets on a channel; None (or no topics) keeps what it has."""

    time: str | None = None  # "HH:MM", already checked
    zone: str | None = None  # an IANA name, already checked
    days: str | None = None  # "daily" | "weekdays" | "mon,wed", already checked
    size: int | None = None
    topics: tuple[str, ...] = ()
    post_empty: bool | None = None


@dataclass(frozen=True)
class ChannelInfo:
    """A channel as the CLI lists it: where, when, how many, what about, paused or not."""

    ref: ChannelRef
    time: str
    zone: str
    days: str
    size: int
    topics: tuple[str, ...]
    paused: bool
    pause_reason: str | None
    pause_kind: str | None

    @classmethod
    def of(cls, row: Channel) -> ChannelInfo:
        return cls(
            ref=ChannelRef(row.platform, row.workspace, row.channel),
            time=row.digest_time,
            zone=row.timezone,
            days=row.days,
            size=row.size,
            topics=tuple(s.topic for s in row.subscriptions),
            paused=row.paused,
            pause_reason=row.pause_reason,
            pause_kind=row.pause_kind,
        )


@dataclass(frozen=True)
class DigestPreview:
    """A channel's next digest, built and not posted, and the slot it would be posted for."""

    digest: Digest
    slot: str


@dataclass(frozen=True)
class PaperFile:
    """A JSONL file to ingest, and where to report the progress of each stage."""

    path: Path
    skip_invalid: bool = False
    on_check: Progress | None = None
    on_ingest: Progress | None = None


@dataclass(frozen=True)
class SamplesRemoved:
    """`paperbot db remove-samples`: removed, kept (a real source brought them too), and
    whether the index was compacted (False: a running paperbot holds its writer)."""

    removed: int
    kept: int
    reindexed: bool


@dataclass(frozen=True)
class IndexBuilt:
    """`paperbot index rebuild`: papers indexed, and papers with embeddings in this model's
    vector index."""

    papers: int
    vectors: int
