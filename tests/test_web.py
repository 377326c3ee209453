"""/healthz stays liveness while /readyz says why a replica cannot serve."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from paperbot import web


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://paperbot")


async def test_readyz_is_503_with_reasons_while_healthz_stays_ok() -> None:
    reasons: list[str] = ["the database is unreachable (OperationalError)"]
    async with client(web.build_app(ready=lambda: list(reasons))) as http:
        unready = await http.get("/readyz")
        assert unready.status_code == 503
        assert unready.json() == {"status": "unready", "reasons": reasons}
        assert (await http.get("/healthz")).status_code == 200
        reasons.clear()
        assert (await http.get("/readyz")).json() == {"status": "ready"}


async def test_readyz_that_hangs_is_unready(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web, "READY_TIMEOUT_SECONDS", 0.2)
    async with client(web.build_app(ready=lambda: time.sleep(1) or [])) as http:
        answer = await http.get("/readyz")
    assert answer.status_code == 503 and "took more than 0.2 s" in answer.json()["reasons"][0]
