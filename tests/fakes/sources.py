"""A loopback fake of Hugging Face Daily Papers and arXiv (feed + export API) with fault injection.

It serves the recorded payloads in tests/fixtures:
- GET /api/daily_papers?date=YYYY-MM-DD&limit=N&p=K  -> that day's items, page K (0-based)
- GET /atom/<cat1+cat2>                              -> the Atom announcement feed
- GET /api/query?id_list=...|search_query=...        -> export API Atom (id_list filters entries)
Failures are switched on per path prefix: `fail("/api/daily_papers", status=500, times=2)`,
`fail(..., status=429, retry_after="1")`, `fail(..., hang=2.0)`; hostile replies too:
`fail(..., trickle=0.05)` sends a 200 and then one byte every 0.05 s, never finishing;
`fail(..., huge=50_000_000)` sends that many bytes (`declare=False`: without Content-Length).
`page_items = N` makes Daily Papers answer N items whatever `limit` asked. `refused_url()` is
a port where nothing listens.
"""

from __future__ import annotations

import copy
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from paperbot.config import Settings

from .http import send

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HF_DAY = "2026-06-12"
_ENTRY = re.compile(r"\s*<entry>.*?</entry>", re.DOTALL)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def hf_items() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(
        fixture_bytes("hf_daily_papers_limit30_recorded_2026-06.json")
    )
    return data


@dataclass
class Fault:
    prefix: str
    status: int = 500
    retry_after: str | None = None
    hang: float = 0.0
    trickle: float = 0.0
    huge: int = 0
    declare: bool = True
    times: int | None = None  # None: until cleared
    sent: int = 0  # body bytes a hostile reply got out before the client stopped reading


@dataclass
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float


@dataclass
class FakeSources:
    """State of the fake; tests change it between requests."""

    hf_days: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    atom_feeds: dict[str, bytes] = field(default_factory=dict)
    default_feed: bytes = field(default_factory=lambda: fixture_bytes("arxiv_rss_atom_example.xml"))
    api_feed: bytes = field(
        default_factory=lambda: fixture_bytes("arxiv_api_query_atom_example.xml")
    )
    faults: list[Fault] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    page_items: int | None = None
    _server: ThreadingHTTPServer | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.hf_days.setdefault(HF_DAY, hf_items())

    # --- control ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def fail(self, prefix: str, **kwargs: Any) -> None:
        with self._lock:
            self.faults.append(Fault(prefix, **kwargs))

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def set_upvotes(self, paper_id: str, upvotes: int, day: str = HF_DAY) -> None:
        for item in self.hf_days[day]:
            if item["paper"]["id"] == paper_id:
                item["paper"]["upvotes"] = upvotes

    def hits(self, prefix: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(prefix)]

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeSources:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeSources:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- serving ---------------------------------------------------------------------------

    def _fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if path.startswith(fault.prefix):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self.faults.remove(fault)
                    return fault
        return None

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        path = unquote(parts.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            self.requests.append(Request(path, query, dict(handler.headers), time.monotonic()))
        fault = self._fault(path)
        if fault is not None and (fault.trickle or fault.huge):
            return self._hostile(handler, fault)
        if fault is not None:
            if fault.hang:
                self._stop.wait(fault.hang)
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return send(
                handler, fault.status, b'{"error": "injected"}', "application/json", headers
            )
        if path == "/api/daily_papers":
            return self._daily_papers(handler, query)
        if path.startswith("/atom/"):
            feed = self.atom_feeds.get(path.removeprefix("/atom/"), self.default_feed)
            return send(handler, 200, feed, "application/atom+xml")
        if path == "/api/query":
            return send(handler, 200, self._api(query), "application/atom+xml")
        return send(handler, 404, b"not found", "text/plain")

    def _hostile(self, handler: BaseHTTPRequestHandler, fault: Fault) -> None:
        """A reply that trickles forever, or a huge one (in 64 KB writes)."""
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            if fault.declare:
                handler.send_header("Content-Length", str(fault.huge or 10_000_000))
            handler.end_headers()
            if fault.trickle:
                while not self._stop.wait(fault.trickle):
                    handler.wfile.write(b" ")
                    handler.wfile.flush()
                return
            block = b" " * 65536
            while fault.sent < fault.huge and not self._stop.is_set():
                piece = block[: fault.huge - fault.sent]
                handler.wfile.write(piece)
                fault.sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading: what the test wants

    def _daily_papers(self, handler: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        limit = int(query.get("limit", "50"))
        page = int(query.get("p", "0"))
        if self.page_items is not None:
            body = json.dumps(many_items(self.page_items, page)).encode()
            return send(handler, 200, body, "application/json")
        items = copy.deepcopy(self.hf_days.get(query.get("date", HF_DAY), []))
        body = json.dumps(items[page * limit : (page + 1) * limit]).encode()
        send(handler, 200, body, "application/json")

    def _api(self, query: dict[str, str]) -> bytes:
        wanted = [i.strip() for i in query.get("id_list", "").split(",") if i.strip()]
        if not wanted:
            return self.api_feed
        text = self.api_feed.decode()

        def keep(match: re.Match[str]) -> str:
            entry = match.group(0)
            return entry if any(f"/abs/{i}" in entry for i in wanted) else ""

        return _ENTRY.sub(keep, text).encode()


def many_items(n: int, page: int = 0) -> list[dict[str, Any]]:
    """N small, distinct Daily Papers items (ids 2607.00000 up, offset by page)."""
    return [
        {"paper": {"id": f"26{7 + page:02d}.{i:05d}", "title": f"Paper {i}", "upvotes": 1}}
        for i in range(n)
    ]


def refused_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def plain_settings(**values: Any) -> Settings:
    """Settings for tests that need no database (pure parsing and HTTP)."""
    values.setdefault("database_url", "sqlite://")
    values.setdefault("seed_sample_data", False)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def source_settings(make_settings: Any, base_url: str, *, slash: bool = False, **over: Any) -> Any:
    """Settings pointing every source at `base_url`, with fast retries; `over` merges per area."""
    base = base_url.rstrip("/") + ("/" if slash else "")
    areas: dict[str, dict[str, Any]] = {
        "hf": {"base_url": base},
        "arxiv": {"rss_base_url": base, "api_base_url": base, "min_interval_seconds": 0.0},
        "source_http": {
            "timeout_seconds": 2.0,
            "max_attempts": 2,
            "backoff_base_seconds": 0.01,
            "max_backoff_seconds": 0.05,
        },
    }
    for area, values in over.items():
        if area in areas:
            areas[area].update(values)
    return make_settings(**areas, **{k: v for k, v in over.items() if k not in areas})
