"""The HTTP app every process serves: /healthz, /metrics, and the routes adapters mount."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from paperbot.core import metrics


def build_app(
    routes: Sequence[BaseRoute] = (), *, health: Callable[[], dict[str, object]] | None = None
) -> Starlette:
    async def healthz(_: Request) -> Response:
        body: dict[str, object] = {"status": "ok"}
        if health is not None:
            body.update(health())
        return JSONResponse(body)

    async def metrics_endpoint(_: Request) -> Response:
        payload, content_type = metrics.render_metrics()
        return Response(payload, media_type=content_type)

    core_routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    return Starlette(routes=[*core_routes, *routes])
