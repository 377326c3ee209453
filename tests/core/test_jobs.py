"""The ticks around delivery: the ingest lease, maintenance, metrics and the scheduler wiring."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from paperbot import scheduling
from paperbot.config import Settings
from paperbot.core import jobs, leases, maintenance, metrics
from paperbot.core.models import (
    Channel,
    Delivery,
    Paper,
    PostedPaper,
    SignalSnapshot,
    SourceState,
    Subscription,
    WorkspaceState,
)
from paperbot.core.papers.sources.config import SourceSettings

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_lease_is_exclusive_until_released_or_expired(session_factory) -> None:
    assert leases.acquire(session_factory, "ingest", "a", ttl=60)
    assert not leases.acquire(session_factory, "ingest", "b", ttl=60)
    assert leases.acquire(session_factory, "ingest", "a", ttl=60)  # re-entrant
    # a dies: its lease ran out by the database's clock (written already expired here).
    assert leases.acquire(session_factory, "ingest", "a", ttl=-1)
    assert leases.acquire(session_factory, "ingest", "b", ttl=60)
    assert not leases.renew(session_factory, "ingest", "a", ttl=60)
    leases.release(session_factory, "ingest", "b")
    assert leases.acquire(session_factory, "ingest", "c", ttl=60)


def test_racing_replicas_take_the_lease_once(session_factory) -> None:
    winners: list[str] = []
    barrier = threading.Barrier(6)

    def race(name: str) -> None:
        barrier.wait()
        if leases.acquire(session_factory, "ingest", name, ttl=60):
            winners.append(name)

    threads = [threading.Thread(target=race, args=(f"r{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1


def test_ingest_job_skips_while_another_replica_ingests(session_factory, settings) -> None:
    assert leases.acquire(session_factory, "ingest", "other", ttl=600)
    run = jobs.ingest_job(
        session_factory, SourceSettings.of(settings), None, "hf", now=NOW, holder="me"
    )
    assert run is None
    with session_factory() as s:
        assert s.get(SourceState, "hf") is None  # nothing was fetched


def test_work_after_the_ingest_runs_only_under_the_lease(session_factory, make_settings) -> None:
    # A source that refuses at once (nothing listens there), so no network is involved.
    settings = make_settings(
        hf={"base_url": "http://127.0.0.1:9", "max_pages": 1},
        source_http={"max_attempts": 1, "timeout_seconds": 2},
    )
    ran: list[str] = []

    def ingest(mark: str) -> None:
        jobs.ingest_job(
            session_factory,
            SourceSettings.of(settings),
            None,
            "hf",
            now=NOW,
            holder="me",
            after=lambda: ran.append(mark),
        )

    ingest("me")
    assert ran == ["me"]  # even after a failed fetch: earlier papers may still wait
    leases.release(session_factory, "ingest", "me")
    assert leases.acquire(session_factory, "ingest", "other", ttl=600)
    ingest("x")
    assert ran == ["me"]


def _paper(s: Session, key: str) -> Paper:
    p = Paper(key=key, title=key, first_seen_at=NOW, updated_at=NOW)
    s.add(p)
    s.flush()
    return p


def _channel(s: Session, name: str, workspace: str = "T1", **kw: object) -> Channel:
    ch = Channel(
        platform="slack",
        workspace=workspace,
        channel=name,
        created_at=NOW - timedelta(days=90),
        **kw,
    )
    s.add(ch)
    s.flush()
    return ch


def test_maintenance_prunes_snapshots_and_purges_removed(
    session_factory: sessionmaker[Session], make_settings
) -> None:
    settings: Settings = make_settings(retention={"snapshot_days": 30, "removed_channel_days": 7})
    with session_factory.begin() as s:
        paper = _paper(s, "2611.00001")
        for days in (40, 31, 29, 1):
            s.add(
                SignalSnapshot(
                    paper_id=paper.id, source="hf", observed_at=NOW - timedelta(days=days)
                )
            )
        kept = _channel(s, "kept")
        old = _channel(s, "old", removed_at=NOW - timedelta(days=8))
        recent = _channel(s, "recent", removed_at=NOW - timedelta(days=2))
        _channel(s, "in-gone-team", workspace="T2")
        s.add(WorkspaceState(platform="slack", workspace="T2", removed_at=NOW - timedelta(days=10)))
        s.add(Subscription(channel_id=old.id, topic="diffusion", created_at=NOW))
        d = Delivery(
            channel_id=old.id,
            slot="2026-11-01",
            scheduled_at=NOW,
            next_attempt_at=NOW,
            created_at=NOW,
            status="sent",
        )
        s.add(d)
        s.flush()
        s.add(PostedPaper(channel_id=old.id, paper_id=paper.id, delivery_id=d.id, posted_at=NOW))
        kept_id, recent_id = kept.id, recent.id
    report = jobs.maintenance_job(session_factory, settings.retention, now=NOW)
    assert (report.snapshots, report.channels, report.workspaces) == (2, 2, 1)
    with session_factory() as s:
        assert sorted(s.scalars(select(Channel.id))) == sorted([kept_id, recent_id])
        for table in (Subscription, Delivery, PostedPaper, WorkspaceState):
            assert s.scalar(select(func.count()).select_from(table)) == 0
        assert s.scalar(select(func.count()).select_from(SignalSnapshot)) == 2


def test_old_deliveries_pruned_but_each_channels_newest_kept(session_factory, settings) -> None:
    with session_factory.begin() as s:
        ch = _channel(s, "c")
        for days in (200, 150, 120):
            at = NOW - timedelta(days=days)
            s.add(
                Delivery(
                    channel_id=ch.id,
                    slot=at.date().isoformat(),
                    scheduled_at=at,
                    next_attempt_at=at,
                    created_at=at,
                    status="sent",
                )
            )
    report = maintenance.run_maintenance(session_factory, settings.retention, now=NOW)
    assert report.deliveries == 2
    with session_factory() as s:
        assert list(s.scalars(select(Delivery.slot))) == [
            (NOW - timedelta(days=120)).date().isoformat()
        ]


def test_metrics_exposition(session_factory) -> None:
    metrics.digest_sent("console")
    metrics.digest_failed("slack", retryable=False)
    metrics.observe_command("slack", "search", 0.02)
    metrics.source_error("arxiv")
    with session_factory.begin() as s:
        s.add(SourceState(source="hf", last_success_at=NOW, papers_seen=3))
    metrics.watch_database(session_factory)
    try:
        body, content_type = metrics.render_metrics()
    finally:
        metrics.watch_database(None)
    text = body.decode()
    assert content_type.startswith("text/plain")
    assert 'paperbot_digests_sent_total{platform="console"}' in text
    assert 'paperbot_digests_failed_total{kind="permanent",platform="slack"}' in text
    assert (
        'paperbot_command_latency_seconds_bucket{command="search",le="0.025",platform="slack"}'
        in text
    )
    assert 'paperbot_source_errors_total{source="arxiv"}' in text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    (sample,) = families["paperbot_last_successful_ingest_timestamp_seconds"].samples
    assert sample.labels == {"source": "hf"} and sample.value == NOW.timestamp()


def test_scheduler_runs_ticks_with_now_from_the_edge() -> None:
    seen: dict[str, list[datetime]] = {"deliver": [], "hf": []}
    done = threading.Event()

    def deliver(now: datetime) -> None:
        seen["deliver"].append(now)
        if len(seen["deliver"]) >= 2:
            done.set()

    scheduler = scheduling.build_scheduler(
        ingest={"hf": (60, seen["hf"].append)},
        deliver=deliver,
        maintain=lambda now: None,
        tick_seconds=0.2,
        start_delay_seconds=0.0,
    )
    jobs_by_id = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs_by_id) == {"ingest-hf", "deliver", "maintain"}
    assert all(j.max_instances == 1 and j.coalesce for j in jobs_by_id.values())
    scheduler.start()
    try:
        assert done.wait(10)
    finally:
        scheduler.shutdown(wait=False)
    assert seen["hf"] and all(t.tzinfo is UTC for t in seen["deliver"])


def test_a_native_panic_does_not_escape_a_tick_but_an_exit_does(
    native_panic: BaseException,
) -> None:
    """tantivy's PanicException is a BaseException: the tick survives it, the next one runs."""

    def panics(now: datetime) -> None:
        raise native_panic

    scheduling._at_edge("deliver", panics)()  # logged, not raised

    def exits(now: datetime) -> None:
        raise SystemExit(3)

    with pytest.raises(SystemExit):
        scheduling._at_edge("deliver", exits)()


def test_a_vanished_index_is_rebuilt_by_the_next_ingest_tick(
    session_factory, settings, tmp_path
) -> None:
    import shutil

    from paper_rows import add_paper

    from paperbot.core.search import SearchIndex

    add_paper(session_factory, "Diffusion models for weather", "diffusion")
    index = SearchIndex(tmp_path / "held-index", keep_writer=True)
    assert index.catch_up(session_factory) == 1
    shutil.rmtree(index.path)
    add_paper(session_factory, "Diffusion transformers", "diffusion")
    assert leases.acquire(session_factory, "ingest", "other", ttl=600)  # nothing to fetch here
    jobs.ingest_job(session_factory, SourceSettings.of(settings), index, "hf", now=NOW, holder="me")
    assert index.num_docs == 2
    index.close()
