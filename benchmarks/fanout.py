"""Fan-out benchmark (not in CI): build 10,000 channels' digests, deliver 1,000 under Slack limits.

Usage: python benchmarks/fanout.py [--store DIR] [--channels 10000] [--deliver 1000] [--days fri]

--store: the folder of the search benchmark's cached 1M-paper store (a `paperbot.db` SQLite
file and its index). Without it a small synthetic store is made, and the build figures are not
the ones the README reports.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
from sqlalchemy import delete, func, select
from stats import percentile

from paperbot.config import Settings
from paperbot.core import db
from paperbot.core.delivery import Digests, planning
from paperbot.core.digests.cache import DigestCache
from paperbot.core.digests.request import DigestConfig
from paperbot.core.messages import ChannelRef, Digest
from paperbot.core.models import Channel, Delivery, Paper, PostedPaper, Subscription
from paperbot.core.ports import DeliveryError
from paperbot.core.search import SearchIndex
from paperbot.core.service import Paperbot

TOPICS = [
    "diffusion",
    "language model",
    "reinforcement learning",
    "graph",
    "robot",
    "speech",
    "retrieval",
    "vision transformer",
    "federated",
    "protein",
    "3d",
    "agents",
]
PER_CHANNEL_S, PER_WORKSPACE_PER_S = 1.0, 20
WINDOW_S = 1.005


class FakeSlack(BaseHTTPRequestHandler):
    """chat.postMessage with Slack-like limits: 1 msg/s per channel, 20/s per workspace."""

    lock: ClassVar[threading.Lock] = threading.Lock()
    channel_last: ClassVar[dict[str, float]] = {}
    workspace_window: ClassVar[dict[str, deque[float]]] = defaultdict(deque)
    accepted: ClassVar[int] = 0
    limited: ClassVar[int] = 0

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        now = time.monotonic()
        cls = type(self)
        with cls.lock:
            window = cls.workspace_window[body["team"]]
            while window and now - window[0] >= 1.0:
                window.popleft()
            last = cls.channel_last.get(body["channel"], -1e9)
            if now - last < PER_CHANNEL_S or len(window) >= PER_WORKSPACE_PER_S:
                cls.limited += 1
                self.send_response(429)
                self.send_header("Retry-After", "1")
                self.end_headers()
                return
            window.append(now)
            cls.channel_last[body["channel"]] = now
            cls.accepted += 1
        out = json.dumps({"ok": True, "ts": f"{now:.6f}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


class PacedPlatform:
    """A ChatPlatform over loopback HTTP that paces itself like a Slack adapter must."""

    name = "slack"

    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url)
        self.lock = threading.Lock()
        # Per workspace: when each recent send's response came back (a server-side arrival is
        # never later than that), so the window is judged on times the server cannot beat.
        self.sent_at: dict[str, deque[list[float]]] = defaultdict(deque)
        self.channel_next: dict[str, float] = {}

    def _wait_turn(self, team: str, channel: str) -> list[float]:
        while True:
            with self.lock:
                now = time.monotonic()
                window = self.sent_at[team]
                # A little slack over the limits: requests reach the server a moment later,
                # and not always in the order their turns were given.
                while window and now - window[0][0] >= WINDOW_S:
                    window.popleft()
                ready = max(
                    self.channel_next.get(channel, 0.0),
                    window[0][0] + WINDOW_S if len(window) >= PER_WORKSPACE_PER_S else 0.0,
                )
                if ready <= now:
                    # In flight: counts as sent "forever" until its response time is known.
                    token = [float("inf")]
                    window.append(token)
                    self.channel_next[channel] = float("inf")
                    return token
            time.sleep(min(ready - now, 0.005))

    def digest_parts(self, digest: Digest) -> list[tuple[str, ...]]:
        return [tuple(p.key for p in digest.papers)]

    def post_part(
        self, channel: ChannelRef, digest: Digest, part: int, *, idempotency_key: str
    ) -> str:
        token = self._wait_turn(channel.workspace, channel.channel)
        try:
            reply = self.client.post(
                "/chat.postMessage",
                json={
                    "team": channel.workspace,
                    "channel": channel.channel,
                    "text": "\n".join(p.title for p in digest.papers),
                    "metadata": {"event_type": "paperbot_digest", "key": f"{idempotency_key}:0"},
                },
            )
        finally:
            with self.lock:
                token[0] = done = time.monotonic()
                self.channel_next[channel.channel] = done + PER_CHANNEL_S * WINDOW_S
                self.sent_at[channel.workspace] = deque(sorted(self.sent_at[channel.workspace]))
        if reply.status_code == 429:
            raise DeliveryError(
                "ratelimited",
                retryable=True,
                retry_after=float(reply.headers.get("Retry-After", 1)),
            )
        return str(reply.json()["ts"])

    def find_posted(
        self, channel: ChannelRef, idempotency_key: str, *, since: datetime | None = None
    ) -> dict[int, str] | None:
        return None

    def probe(self, workspace: str) -> bool:
        return True

    def notify(self, notice: object) -> bool:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    cached = Path(__file__).resolve().parent / ".cache" / "run-1000000"
    parser.add_argument("--store", type=Path, default=cached if cached.exists() else None)
    parser.add_argument("--channels", type=int, default=10_000)
    parser.add_argument("--deliver", type=int, default=1_000)
    parser.add_argument(
        "--days", default="daily", help="the channels' schedule, e.g. fri (a weekly window)"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="fanout-"))
    store = args.store or tmp
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{store / 'paperbot.db'}",  # type: ignore[call-arg]
        index_dir=store / "paperbot.db.index",
        seed_sample_data=False,
    )
    engine = db.create_db_engine(settings.database_url)
    db.upgrade(engine)
    factory = db.make_session_factory(engine)
    index = SearchIndex(settings.resolved_index_dir())
    if args.store is None:
        from paperbot.core.papers.ingest import ingest_file

        ingest_file(
            factory,
            Path(__file__).parents[1] / "paperbot/data/sample_papers.jsonl",
            now=datetime.now(UTC),
        )
    index.catch_up(factory)
    with factory() as s:
        papers = s.scalar(select(func.count()).select_from(Paper))
        newest = s.scalar(select(func.max(Paper.announced)))
    now = (
        datetime.combine(newest, datetime.min.time(), UTC) + timedelta(hours=9)
        if newest
        else datetime.now(UTC)
    )
    with factory.begin() as s:  # a clean slate of benchmark channels
        s.execute(delete(Channel).where(Channel.workspace.like("bench-%")))
        for i in range(args.channels):
            ch = Channel(
                platform="slack",
                workspace=f"bench-{i // 1000}",
                channel=f"C{i:05d}",
                digest_time="09:00",
                timezone="UTC",
                days=args.days,
                size=5,
                post_empty=True,
                created_at=now - timedelta(hours=1),
            )
            s.add(ch)
            s.flush()
            for t in range(3):
                s.add(
                    Subscription(
                        channel_id=ch.id, topic=TOPICS[(i + t * 5) % len(TOPICS)], created_at=now
                    )
                )

    # 1. Build every channel's digest through the production builder (its shared DigestCache).
    digests = Digests(index, DigestConfig.of(settings), DigestCache())
    timings: list[float] = []
    started = time.perf_counter()
    with factory() as s:
        for ch in s.scalars(select(Channel).where(Channel.workspace.like("bench-%"))):
            t0 = time.perf_counter()
            digests.build(s, ch, now, 0)
            timings.append(time.perf_counter() - t0)
    build_s = time.perf_counter() - started
    print(
        f"store: {papers} papers; built {len(timings)} digests in {build_s:.1f} s "
        f"(p50 {statistics.median(timings) * 1000:.1f} ms,"
        f" p95 {percentile(timings, 0.95) * 1000:.1f} ms)"
    )

    # 2. Deliver N channels of one workspace through the limits.
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSlack)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    platform = PacedPlatform(f"http://127.0.0.1:{server.server_address[1]}")
    bench = select(Channel.id).where(Channel.workspace.like("bench-%"))
    with factory.begin() as s:
        s.execute(delete(PostedPaper).where(PostedPaper.channel_id.in_(bench)))
        s.execute(delete(Delivery).where(Delivery.channel_id.in_(bench)))
        s.execute(
            Channel.__table__.update().where(Channel.workspace != "bench-0").values(paused=True)
        )
    with factory() as s:
        first = s.scalars(select(Channel.id).where(Channel.workspace == "bench-0")).all()
    with factory.begin() as s:  # only the first N channels of the workspace are due
        s.execute(
            Channel.__table__.update()
            .where(Channel.id.in_(first[args.deliver :]))
            .values(paused=True)
        )
    ids = first[: args.deliver]

    planning.plan_due(factory, now=now, grace=timedelta(hours=settings.digest.grace_hours))
    reports = []
    workers = 4
    # One service per worker (as one per replica), all posting through the paced platform.
    services = [
        Paperbot(settings, factory, index, {"slack": platform}, worker_id=f"w{i}")  # type: ignore[dict-item]
        for i in range(workers)
    ]
    t0 = time.perf_counter()
    threads = [
        threading.Thread(target=lambda svc=svc: reports.append(svc.deliver_due(now)))
        for svc in services
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    sent = sum(r.sent for r in reports)
    # The most a 1-s sliding window admits in `elapsed` seconds (a full burst at the start).
    allowed = PER_WORKSPACE_PER_S * (elapsed + 1)
    print(
        f"delivered {sent}/{len(ids)} digests in {elapsed:.1f} s: {sent / elapsed:.1f} msg/s, "
        f"{sent / allowed:.2f} of the allowed {PER_WORKSPACE_PER_S}/s; 429s: {FakeSlack.limited}"
    )
    server.shutdown()


if __name__ == "__main__":
    main()
