"""The HTTP app every process serves: /healthz, /readyz, /metrics, and the routes adapters mount.

/healthz is liveness (the process answers: the container's health check); /readyz is
readiness: 503 with the reasons while this replica cannot serve.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from paperbot.core import metrics

# A database that does not answer within this long is as good as unreachable.
READY_TIMEOUT_SECONDS = 5.0


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
    return Starlette(routes=[*core_routes, *routes])
