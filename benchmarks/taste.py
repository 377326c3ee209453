"""Taste benchmark (not a test, never in CI): do channels get more of what they like?

    python benchmarks/taste.py [--days 10] [--size 6]

The bundled sample papers (with their shipped embeddings) are split into two topic clusters
(2-means over the embeddings). Simulated channels whose members like every paper of one
cluster they are shown and dislike every paper of the other go through the real service:
each simulated day a digest is posted (the delivery machinery, a recording platform with one
paper per message) and the members vote: half of the votes with buttons, half as reactions.

Half the taste channels vote sparsely and noisily (one member, every other paper, a fifth of
the votes the wrong way round).

Printed: after one digest of feedback, how many of the next `size` papers are from the liked
cluster (target >= 5 of 6); and the precision (share of liked-cluster papers) of each day's
digest over `days` simulated days, beside topic-only ranking (the channel subscribed to the
liked cluster's most distinctive title terms, no feedback) and plain trending.
"""

from __future__ import annotations

import argparse
import io
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import select

from paperbot.bootstrap import Core, build_core
from paperbot.config import Settings
from paperbot.core.commands import Caller, Vote
from paperbot.core.engage.feedback import VoteValue
from paperbot.core.engage.lean import terms
from paperbot.core.messages import ChannelRef, Digest
from paperbot.core.models import Paper
from paperbot.core.ports import Notice

# The sample's Hugging Face day is 2026-06-12: every sample paper is inside the window.
START = datetime(2026, 6, 12, 10, 0, tzinfo=UTC)


@dataclass
class Recorder:
    """A ChatPlatform that records what it posts: one paper per message."""

    name: str = "bench"
    posts: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    count: int = 0

    def digest_parts(self, digest: Digest) -> list[tuple[str, ...]]:
        return [(card.key,) for card in digest.papers]

    def post_part(
        self, channel: ChannelRef, digest: Digest, part: int, *, idempotency_key: str
    ) -> str:
        self.count += 1
        message = f"m{self.count}"
        key = digest.papers[part].key
        self.posts.setdefault(channel.channel, []).append((message, key))
        return message

    def find_posted(
        self, channel: ChannelRef, idempotency_key: str, *, since: datetime | None = None
    ) -> dict[int, str] | None:
        return {}

    def probe(self, workspace: str) -> bool | None:
        return True

    def notify(self, notice: Notice) -> bool:
        return True


def clusters(core: Core) -> tuple[dict[str, int], dict[str, str]]:
    """paper key -> cluster (0/1) by 2-means over the papers' vectors; key -> title."""
    with core.session_factory() as session:
        rows = session.execute(select(Paper.id, Paper.key, Paper.title)).all()
    vectors = core.index.paper_vectors([r.id for r in rows])
    rows = [r for r in rows if r.id in vectors]
    matrix = np.stack([vectors[r.id] for r in rows])
    # Deterministic start: the two papers farthest apart from the mean's nearest paper.
    first = int(np.argmax(matrix @ matrix.mean(axis=0)))
    second = int(np.argmin(matrix @ matrix[first]))
    centres = matrix[[first, second]]
    for _ in range(50):
        labels = np.argmax(matrix @ centres.T, axis=1)
        centres = np.stack([matrix[labels == k].mean(axis=0) for k in (0, 1)])
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    return {r.key: int(labels[i]) for i, r in enumerate(rows)}, {r.key: r.title for r in rows}


def distinctive(group: dict[str, int], titles: dict[str, str], liked: int, n: int) -> list[str]:
    """The title terms most typical of the liked cluster against the other one."""
    mine, other = Counter[str](), Counter[str]()
    for key, label in group.items():
        (mine if label == liked else other).update(terms(titles[key]))
    score = {t: c - 2 * other.get(t, 0) for t, c in mine.items()}
    return sorted(score, key=lambda t: (-score[t], t))[:n]


@dataclass(frozen=True)
class World:
    """What every simulated channel shares: the service, the recorder, the clusters."""

    core: Core
    bench: Recorder
    group: dict[str, int]
    days: int
    size: int


@dataclass(frozen=True)
class Members:
    """One simulated channel: which cluster it likes, its topics, how its members vote.

    noisy: one member votes on every other paper only, and every fifth of those votes is the
    wrong way round (a like of the disliked cluster, or the reverse).
    """

    channel: str
    liked: int
    vote: bool = False
    topics: tuple[str, ...] = ()
    noisy: bool = False


def simulate(world: World, members: Members) -> list[tuple[int, int]]:
    """(liked-cluster papers, papers) of each day's digest for one simulated channel."""
    service, channel, group = world.core.service, members.channel, world.group
    workspace = f"W-{channel}"
    admin = Caller("bench", workspace, channel, "U0", is_admin=True, channel_name=channel)
    service.handle_text(f"size {world.size}", admin, now=START)
    for topic in members.topics:
        service.handle_text(f"subscribe {topic}", admin, now=START)
    ref = ChannelRef("bench", workspace, channel)
    out: list[tuple[int, int]] = []
    for day in range(world.days):
        now = START + timedelta(hours=2 * day, minutes=day)
        seen = len(world.bench.posts.get(channel, []))
        service.deliver_now(ref, now=now)
        shown = world.bench.posts.get(channel, [])[seen:]
        out.append((sum(1 for _, key in shown if group.get(key) == members.liked), len(shown)))
        if not members.vote:
            continue
        for n, (message, key) in enumerate(shown):
            if key not in group or (members.noisy and n % 2):
                continue
            wrong = members.noisy and (day * world.size + n) % 5 == 0
            value: VoteValue = "like" if (group[key] == members.liked) != wrong else "dislike"
            for member in ("U1",) if members.noisy else ("U1", "U2"):
                if n % 2:  # half as reactions, half as button presses
                    service.react(ref, message, member, value, added=True, now=now)
                else:
                    who = Caller("bench", workspace, channel, member, channel_name=channel)
                    service.execute(Vote(key, value), who, now=now)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--size", type=int, default=6)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="paperbot-taste-"))
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{folder / 'taste.db'}",
        index_dir=folder / "index",
        seed_sample_data="true",
    )
    core = build_core(settings, now=START, seed=True, out=io.StringIO())
    bench = Recorder()
    core.service.platforms["bench"] = bench
    group, titles = clusters(core)
    sizes = Counter(group.values())
    print(f"papers: {len(group)} with vectors; clusters: {sizes[0]} and {sizes[1]}")
    world = World(core, bench, group, args.days, args.size)
    runs: dict[str, list[list[tuple[int, int]]]] = {"taste": [], "topics": [], "trending": []}
    after_one: list[int] = []
    for liked in (0, 1):
        words = tuple(distinctive(group, titles, liked, 2))
        print(f"cluster {liked}: topics for the topic-only channel: {', '.join(words)}")
        for rep in range(2):
            name = f"c{liked}{rep}"
            taste = simulate(world, Members(f"taste-{name}", liked, vote=True, noisy=rep == 1))
            runs["taste"].append(taste)
            after_one.append(taste[1][0])
            runs["topics"].append(simulate(world, Members(f"topics-{name}", liked, topics=words)))
            runs["trending"].append(simulate(world, Members(f"trend-{name}", liked)))
    clean, noisy = after_one[0::2], after_one[1::2]
    print(
        f"after one digest of feedback: liked-cluster papers in the next {args.size}:"
        f" every member votes {clean} (target >= 5; min {min(clean)}); sparse, noisy votes"
        f" {noisy}"
    )
    print("precision per day (mean of 4 channels; 2 of the taste ones vote sparsely, noisily):")
    print("day   " + "  ".join(f"{d + 1:>5}" for d in range(args.days)) + "   mean")
    for name, rows in runs.items():
        # Precision of a day: liked-cluster papers over papers shown (0 when none was shown).
        per_day = np.mean([[h / n if n else 0.0 for h, n in row] for row in rows], axis=0)
        cells = "  ".join(f"{v:5.2f}" for v in per_day)
        print(f"{name:<8}{cells}  {float(per_day.mean()):5.2f}")
    core.close()


if __name__ == "__main__":
    main()
