"""Composition root: Settings -> database, index, service, platforms, scheduler, HTTP server.

The only module that imports both the core and the adapters; adapters are imported only when
their settings enable them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, TextIO

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from paperbot.adapters.console.platform import ConsolePlatform
from paperbot.config import Settings
from paperbot.core import db, metrics, schema
from paperbot.core.errors import ConfigError
from paperbot.core.ports import ChatPlatform
from paperbot.core.search import SearchIndex
from paperbot.core.search.hybrid import HybridSearch
from paperbot.core.service import Paperbot

# The web server, the scheduler and the platform SDKs are imported where they are used, so
# one-off commands (search, trending, channel list) load none of them.
if TYPE_CHECKING:
    from starlette.routing import BaseRoute

log = logging.getLogger("paperbot")
SEED_EMBED_SECONDS = 2.0


class Adapter(Protocol):
    @property
    def platform(self) -> ChatPlatform: ...

    def routes(self) -> list[BaseRoute]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Core:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    index: HybridSearch
    service: Paperbot
    adapters: list[Adapter] = field(default_factory=list)

    def close(self) -> None:
        self.index.close()
        self.engine.dispose()


def worker_id(settings: Settings) -> str:
    return settings.instance_id or f"{socket.gethostname()}-{os.getpid()}"


def upgrade_database(settings: Settings) -> list[str]:
    """`paperbot db upgrade`: apply the migrations (replicas starting meanwhile take turns)."""
    engine = db.create_db_engine(
        settings.database_url, connect_timeout=settings.database_connect_timeout_seconds
    )
    try:
        return schema.upgrade(engine).lines()
    finally:
        engine.dispose()


def build_core(
    settings: Settings,
    *,
    now: datetime,
    seed: bool = False,
    out: TextIO | None = None,
    long_running: bool = False,
) -> Core:
    """Open (and migrate) the database and the search index; build the service.

    A long-running process keeps the index's writer lock and catches up from the change
    counter; one-off commands take it only while they write.
    """
    engine = db.create_db_engine(
        settings.database_url, connect_timeout=settings.database_connect_timeout_seconds
    )
    try:
        migrated = schema.ensure_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    for line in migrated.lines() if migrated else ():
        log.info("database: %s", line)
    session_factory = db.make_session_factory(engine)
    metrics.watch_database(session_factory)
    lexical = SearchIndex(settings.resolved_index_dir(), keep_writer=long_running)
    index = HybridSearch(lexical, settings.search)
    added = _seed(settings, session_factory, now) if seed and settings.seeds_samples() else 0
    index.catch_up(session_factory)
    if added:
        # The sample papers' shipped vectors (no model run); should any be missing, the
        # model gets a moment here and the ingest ticks embed the rest in the background.
        index.backfill(session_factory, budget_seconds=SEED_EMBED_SECONDS)
    if long_running:
        index.warm()
    service = Paperbot(settings, session_factory, index, worker_id=worker_id(settings))
    service.platforms["console"] = ConsolePlatform(out=out, transcript=settings.console.transcript)
    return Core(settings, engine, session_factory, index, service)


def _seed(settings: Settings, session_factory: sessionmaker[Session], now: datetime) -> int:
    from paperbot.core.papers import seed  # ingest code (httpx, feedparser): only when seeding

    added = seed.seed_if_empty(session_factory, now=now)
    if not added:
        return 0
    log.info("seeded an empty store with %d bundled sample papers", added)
    if settings.platform_configured:
        log.warning(
            "PAPERBOT_SEED_SAMPLE_DATA=true put %d sample papers beside Slack/Discord: they"
            " appear in real digests and searches (`paperbot db remove-samples` removes them)",
            added,
        )
    return added


def add_platform_adapters(core: Core) -> None:
    """Build the Slack and Discord adapters whose credentials are configured."""
    settings = core.settings
    if settings.slack.configured:
        from paperbot.adapters.slack.adapter import SlackAdapter

        core.adapters.append(SlackAdapter(core.service, settings, core.engine))
    if settings.discord.configured:
        from paperbot.adapters.discord.adapter import DiscordAdapter

        core.adapters.append(DiscordAdapter(core.service, settings))
    for adapter in core.adapters:
        core.service.platforms[adapter.platform.name] = adapter.platform


def warn_about_samples(core: Core) -> None:
    """A store that serves Slack or Discord should not hold the bundled sample papers."""
    if not core.adapters:
        return
    count = core.service.count_samples()
    if count:
        names = " and ".join(sorted(adapter.platform.name for adapter in core.adapters))
        log.warning(
            "this store serves %s and holds %d bundled sample papers, which show up in digests"
            " and searches: `paperbot db remove-samples` removes them",
            names,
            count,
        )


async def stop_adapters(core: Core) -> None:
    """Disconnect the platforms (safe for adapters that were never started)."""
    for adapter in core.adapters:
        try:
            await adapter.stop()
        except Exception:
            log.warning("stopping the %s adapter failed", adapter.platform.name, exc_info=True)
    core.adapters.clear()


def build_scheduler(core: Core) -> Any:
    from paperbot import scheduling

    settings, service = core.settings, core.service
    sources = settings.scheduled_sources()

    def ingest_tick(source: Literal["hf", "arxiv"]) -> Callable[[datetime], object]:
        return lambda now: service.ingest_tick(source, now)

    return scheduling.build_scheduler(
        ingest={
            source: (getattr(settings, source).interval_minutes, ingest_tick(source))
            for source in sources
        },
        # Papers another replica (or a CLI ingest) committed reach this replica's index in
        # the delivery tick, before digests are built from it.
        deliver=service.delivery_tick,
        maintain=service.maintenance_tick,
        tick_seconds=settings.digest.tick_seconds,
    )


async def run(settings: Settings, *, console: bool | None, stdin: TextIO, stdout: TextIO) -> int:
    """`paperbot run`: serve until EOF on the console, or SIGINT/SIGTERM."""
    import uvicorn

    from paperbot.adapters.console import repl
    from paperbot.web import build_app

    # Before anything starts: a SIGTERM while adapters start (once /healthz answers, a service
    # manager may send one) must stop us cleanly. uvicorn swaps in its own handler while it
    # serves and, once done, restores this one and raises the signal again: we end up here.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    core = await asyncio.to_thread(
        build_core, settings, now=datetime.now(UTC), seed=True, out=stdout, long_running=True
    )
    server: uvicorn.Server | None = None
    scheduler: Any = None
    waiters: set[asyncio.Task[Any]] = set()
    try:
        add_platform_adapters(core)
        warn_about_samples(core)
        use_console = console if console is not None else not core.adapters
        sock = _http_socket(settings, required=bool(core.adapters) or not use_console)
        if sock is not None:
            routes = [route for adapter in core.adapters for route in adapter.routes()]
            app = build_app(
                routes,
                health=lambda: {"platforms": sorted(core.service.platforms)},
                ready=core.service.readiness,
            )
            server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
            waiters.add(asyncio.create_task(server.serve(sockets=[sock]), name="http"))
        for adapter in core.adapters:
            await adapter.start()  # a refused token raises ConfigError: the CLI says what to set
        scheduler = build_scheduler(core)
        scheduler.start()
        if use_console:
            waiters.add(asyncio.create_task(repl.run(core.service, stdin, stdout), name="console"))
        log.info("paperbot running: %s", _running(core, use_console, server is not None))
        waiters.add(asyncio.create_task(stop.wait(), name="signal"))
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        await stop_adapters(core)
        if server is not None:
            server.should_exit = True
        for task in waiters:
            if task.get_name() != "http":
                task.cancel()
        if waiters:
            await asyncio.wait(waiters, timeout=5)
        core.close()
    return 0


def _running(core: Core, console: bool, http: bool) -> str:
    """What this process serves, as the start line says it (no console unless it runs one)."""
    chats = sorted(adapter.platform.name for adapter in core.adapters)
    parts = [", ".join(chats) if chats else "no chat platform"]
    parts.append("console chat on stdin" if console else "no console chat")
    settings = core.settings
    where = f"http://{settings.http.host}:{settings.http.port}/healthz"
    parts.append(where if http else "no HTTP")
    return "; ".join(parts)


def _http_socket(settings: Settings, *, required: bool) -> socket.socket | None:
    """The bound HTTP socket; without it the console still works, platforms and health don't."""
    try:
        return bind(settings.http.host, settings.http.port)
    except OSError as exc:
        where = f"{settings.http.host}:{settings.http.port}"
        if required:
            raise ConfigError(
                f"cannot serve HTTP on {where} ({exc.strerror}): set PAPERBOT_HTTP__PORT"
            ) from None
        log.warning("HTTP off: %s is taken (%s)", where, exc.strerror)
        return None


def bind(host: str, port: int) -> socket.socket:
    """Bind the HTTP socket up front, so a taken port is an error we report, not a crash."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock
