"""A loopback fake of Slack's Socket Mode side: ws:// URLs, pushed envelopes, collected acks."""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import json
import socket
import threading
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

T = TypeVar("T")


@dataclass
class Connection:
    """One websocket the client opened with a ticket we issued; what it sent us."""

    ticket: str
    ws: web.WebSocketResponse
    opened_at: float = field(default_factory=time.monotonic)
    closed_at: float | None = None
    close_code: int | None = None
    received: list[Any] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.closed_at is None


@dataclass
class Ack:
    """The client's answer to one envelope, and how long it took."""

    envelope_id: str
    payload: dict[str, Any] | None
    seconds: float
    connection: Connection


class FakeSocketMode:
    """`with FakeSocketMode() as socket:` serves ws://127.0.0.1:<port>/link/ from its own thread.

    Wire it to the Web API fake with `FakeSlack.serve_socket_mode(app_token, socket.issue_url)`;
    the test-facing coroutines can be awaited from any event loop.
    """

    def __init__(self, app_id: str = "A1") -> None:
        self.app_id = app_id
        self.connections: list[Connection] = []
        self.rejected: list[str] = []  # tickets we never issued
        self._tickets: set[str] = set()
        self._pending: dict[str, tuple[float, concurrent.futures.Future[Ack]]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    # -- Web API side ------------------------------------------------------------------------
    def issue_url(self) -> str:
        """A fresh connection URL, as `apps.connections.open` hands out."""
        ticket = uuid.uuid4().hex
        with self._lock:
            self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self._port}/link/?ticket={ticket}&app_id={self.app_id}"

    # -- test-facing controls ----------------------------------------------------------------
    def open_connections(self) -> list[Connection]:
        with self._lock:
            return [c for c in self.connections if c.open]

    async def wait_connections(self, count: int, timeout: float = 5.0) -> Connection:
        """Wait until `count` connections were opened in all; return the newest open one."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                opened, live = len(self.connections), [c for c in self.connections if c.open]
            if opened >= count and live:
                return live[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"{opened} socket connection(s), expected {count}")
            await asyncio.sleep(0.02)

    async def push(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool = False,
        envelope_id: str | None = None,
        **extra: Any,
    ) -> str:
        """Send an envelope on the newest open connection; return its envelope_id."""
        envelope_id = envelope_id or f"env-{next(self._ids)}-{uuid.uuid4().hex[:8]}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "accepts_response_payload": accepts_response_payload,
            "payload": payload,
            **extra,
        }
        with self._lock:
            self._pending[envelope_id] = (time.monotonic(), concurrent.futures.Future())
        await self._call(self._send_newest(envelope))
        return envelope_id

    async def ack(self, envelope_id: str, timeout: float = 5.0) -> Ack:
        """The client's ack of an envelope we pushed (AssertionError if none comes)."""
        with self._lock:
            future = self._pending[envelope_id][1]
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except TimeoutError:
            raise AssertionError(f"no ack for {envelope_id} within {timeout} s") from None

    async def send_raw(self, message: dict[str, Any]) -> None:
        """Send any message (e.g. {"type": "disconnect", ...}) on the newest open connection."""
        await self._call(self._send_newest(message))

    async def drop(self, code: int = 1001) -> None:
        """Close the newest open connection with a close frame, as Slack does on a restart."""
        await self._call(self._close_newest(code))

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeSocketMode:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("FakeSocketMode did not start")
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        loop = self._loop
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None

    def __enter__(self) -> FakeSocketMode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- server thread -----------------------------------------------------------------------
    def _serve(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        app = web.Application()
        app.router.add_get("/link/", self._websocket)
        self._runner = web.AppRunner(app, handle_signals=False)
        loop.run_until_complete(self._runner.setup())
        sock = socket.create_server(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        loop.run_until_complete(web.SockSite(self._runner, sock).start())
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _shutdown(self) -> None:
        for connection in self.open_connections():
            await connection.ws.close(code=1001, message=b"server shutting down")
        if self._runner is not None:
            await self._runner.cleanup()

    async def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None, "FakeSocketMode is not started"
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    def _newest(self) -> Connection:
        live = self.open_connections()
        if not live:
            raise AssertionError("no open Socket Mode connection")
        return live[-1]

    async def _send_newest(self, message: dict[str, Any]) -> None:
        await self._newest().ws.send_str(json.dumps(message))

    async def _close_newest(self, code: int) -> None:
        await self._newest().ws.close(code=code, message=b"restarting")

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        with self._lock:
            known = ticket in self._tickets
        if not known:
            self.rejected.append(ticket)
            return web.Response(status=401, text="invalid ticket")
        ws = web.WebSocketResponse(timeout=2.0)
        await ws.prepare(request)
        connection = Connection(ticket=ticket, ws=ws)
        with self._lock:
            self.connections.append(connection)
            live = sum(c.open for c in self.connections)
        hello = {
            "type": "hello",
            "num_connections": live,
            "debug_info": {"host": "applink-fake", "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }
        await ws.send_str(json.dumps(hello))
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._received(connection, message.data)
        finally:
            with self._lock:
                connection.closed_at = time.monotonic()
                connection.close_code = ws.close_code
        return ws

    def _received(self, connection: Connection, data: str) -> None:
        try:
            message: Any = json.loads(data)
        except ValueError:
            message = data
        connection.received.append(message)
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        with self._lock:
            pending = self._pending.get(str(envelope_id))
        if pending is None or pending[1].done():
            return
        started, future = pending
        future.set_result(
            Ack(
                envelope_id=str(envelope_id),
                payload=message.get("payload"),
                seconds=time.monotonic() - started,
                connection=connection,
            )
        )
