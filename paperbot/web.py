"""The HTTP app every process serves: /healthz, /readyz, /metrics, and the routes adapters mount.

/healthz is liveness (the process answers: the container's health check); /readyz is
readiness: 503 with the reasons while this replica cannot serve.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperbot.core import metrics

# A database that does not answer within this long is as good as unreachable.
READY_TIMEOUT_SECONDS = 5.0

# Slack's largest payloads (a view submission with many blocks) are tens of KB.
MAX_BODY_BYTES = 1_000_000


class _TooLarge(Exception):
    pass


class BodyLimit:
    """413 for request bodies over `max_bytes`, for every route, before they are read.

    A declared Content-Length is checked first; a chunked body is counted as it streams in
    and refused at the first byte past the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and not declared.strip().isdigit():
            return await PlainTextResponse("bad Content-Length", 400)(scope, receive, send)
        if declared is not None and int(declared) > self.max_bytes:
            return await _too_large(self.max_bytes)(scope, receive, send)
        received, started = 0, False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not started:
                await _too_large(self.max_bytes)(scope, receive, send)


def _too_large(limit: int) -> Response:
    return PlainTextResponse(f"request body over {limit:,} bytes", 413)


def build_app(
    routes: Sequence[BaseRoute] = (),
    *,
    health: Callable[[], dict[str, object]] | None = None,
    ready: Callable[[], list[str]] | None = None,
) -> Starlette:
    async def healthz(_: Request) -> Response:
        body: dict[str, object] = {"status": "ok"}
        if health is not None:
            body.update(health())
        return JSONResponse(body)

    async def readyz(_: Request) -> Response:
        if ready is None:
            return JSONResponse({"status": "ready"})
        try:
            reasons = await asyncio.wait_for(asyncio.to_thread(ready), READY_TIMEOUT_SECONDS)
        except TimeoutError:
            reasons = [f"the readiness checks took more than {READY_TIMEOUT_SECONDS:g} s"]
        if reasons:
            return JSONResponse({"status": "unready", "reasons": reasons}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def metrics_endpoint(_: Request) -> Response:
        payload, content_type = metrics.render_metrics()
        return Response(payload, media_type=content_type)

    core_routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    return Starlette(routes=[*core_routes, *routes], middleware=[Middleware(BodyLimit)])
