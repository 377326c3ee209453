"""The engagement tests' world: the real service over the bundled sample papers (with their
shipped embeddings), a recording platform posting one paper per message, callers, and the two
clusters of papers a channel likes and dislikes."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from delivery_world import FakePlatform
from sqlalchemy import select

from paperbot.bootstrap import Core, build_core
from paperbot.core.commands import Caller
from paperbot.core.messages import ChannelRef, Digest
from paperbot.core.models import Paper

# The sample's Hugging Face day is 2026-06-12: every sample paper is inside the window.
NOW = datetime(2026, 6, 12, 10, 0, tzinfo=UTC)


@dataclass
class Recording(FakePlatform):
    """FakePlatform that also keeps every digest it posted (its cards' why lines, its kind)."""

    name: str = "fake"
    digests: list[Digest] = field(default_factory=list)

    def post_part(
        self, channel: ChannelRef, digest: Digest, part: int, *, idempotency_key: str
    ) -> str:
        message = super().post_part(channel, digest, part, idempotency_key=idempotency_key)
        if part == 0:
            self.digests.append(digest)
        return message

    def messages(self, channel: str) -> list[tuple[str, str]]:
        """(message id, its one paper) of the channel's one-paper messages, oldest first."""
        return [
            (f"msg-{p.key}-{p.part}", p.papers[0])
            for p in self.posts
            if p.channel == channel and len(p.papers) == 1
        ]


def admin(channel: str = "C1", workspace: str = "T1") -> Caller:
    return Caller("fake", workspace, channel, "U-ADMIN", is_admin=True, channel_name="lab")


def member(user: str, channel: str = "C1", workspace: str = "T1") -> Caller:
    return Caller("fake", workspace, channel, user, channel_name="lab")


def ref(channel: str = "C1", workspace: str = "T1") -> ChannelRef:
    return ChannelRef("fake", workspace, channel)


def open_core(make_settings: Any, **overrides: Any) -> Core:
    settings = make_settings(seed_sample_data="true", **overrides)
    return build_core(settings, now=NOW, seed=True, out=io.StringIO())


def engaged_core(make_settings: Any) -> Iterator[Core]:
    """The `engaged` fixture (tests/core/conftest.py): a core with the recording platform."""
    c = open_core(make_settings)
    c.service.platforms["fake"] = Recording(per_part=1)
    yield c
    c.close()


def platform(core: Core) -> Recording:
    found = core.service.platforms["fake"]
    assert isinstance(found, Recording)
    return found


@dataclass(frozen=True)
class Groups:
    """The sample papers' two topic clusters (2-means over their embeddings): A the smaller,
    B the larger; each ordered by closeness to its centre."""

    a: tuple[str, ...]
    b: tuple[str, ...]
    titles: dict[str, str]


def groups(core: Core) -> Groups:
    with core.session_factory() as session:
        rows = session.execute(select(Paper.id, Paper.key, Paper.title).order_by(Paper.key)).all()
    vectors = core.index.paper_vectors([r.id for r in rows])
    rows = [r for r in rows if r.id in vectors]
    matrix = np.stack([vectors[r.id] for r in rows])
    first = int(np.argmax(matrix @ matrix.mean(axis=0)))
    centres = matrix[[first, int(np.argmin(matrix @ matrix[first]))]]
    for _ in range(50):
        labels = np.argmax(matrix @ centres.T, axis=1)
        centres = np.stack([matrix[labels == k].mean(axis=0) for k in (0, 1)])
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    closeness = (matrix * centres[labels]).sum(axis=1)
    small = int(np.argmin(np.bincount(labels, minlength=2)))
    cluster = [
        tuple(rows[i].key for i in sorted(np.flatnonzero(labels == k), key=lambda i: -closeness[i]))
        for k in (small, 1 - small)
    ]
    return Groups(cluster[0], cluster[1], {r.key: r.title for r in rows})


def preview(core: Core, where: ChannelRef, now: datetime = NOW) -> Digest:
    """The digest the channel would get at `now`, without posting it."""
    found = core.service.preview_digest(where, now=now)
    assert found is not None, where
    return found.digest
