"""`paperbot run` as a user starts it, with a token and both base URLs at the fake Discord."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

from cli_helpers import REPO, cli_env
from discord_harness import CHANNEL_A, CHANNEL_A2, GUILD_A
from fakes.discord import MANAGE_CHANNELS, MEMBER, Failure, FakeDiscord, pinged

MANAGER = MEMBER | MANAGE_CHANNELS


async def answer(fake: FakeDiscord, payload: dict[str, Any]) -> str:
    callback = await fake.interact(payload, timeout=15)
    assert callback.latency < 3.0
    if callback.body["type"] == 5:
        return str((await fake.followup(payload, timeout=15))["content"])
    return str(callback.body["data"]["content"])


async def test_paperbot_run_serves_discord(
    fake: FakeDiscord, sqlite_url: str, tmp_path: Path
) -> None:
    env = cli_env(
        sqlite_url,
        tmp_path,
        PAPERBOT_DISCORD__TOKEN=fake.token,
        PAPERBOT_DISCORD__API_BASE_URL=fake.api_base_url,
        PAPERBOT_DISCORD__GATEWAY_URL=fake.gateway_url,
        PAPERBOT_SEED_SAMPLE_DATA="true",  # papers to search and post (default: none on Discord)
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "paperbot",
        "run",
        env=env,
        cwd=REPO,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await fake.identified(timeout=60)

        def ask(sub: str, options: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
            kw.setdefault("channel_id", CHANNEL_A)
            return fake.command(sub, options, guild_id=GUILD_A, **kw)

        assert "Papers for “diffusion”" in await answer(fake, ask("search", {"query": "diffusion"}))
        hostile = await answer(fake, ask("search", {"query": '@everyone <@1001> ((("-'}))
        assert "@everyone" not in hostile
        refused = await answer(fake, ask("subscribe", {"topic": "diffusion"}))
        assert "Manage Channels" in refused
        ok = await answer(fake, ask("subscribe", {"topic": "diffusion"}, permissions=MANAGER))
        assert "Subscribed" in ok
        scheduled = await answer(
            fake, ask("schedule", {"time": "08:15", "zone": "Asia/Tokyo"}, permissions=MANAGER)
        )
        assert "08:15 Asia/Tokyo" in scheduled
        assert "08:15" in await answer(fake, ask("list"))
        assert "Posted" in await answer(fake, ask("digest", permissions=MANAGER))
        digest = fake.posts(CHANNEL_A)
        assert digest and all(r.body["allowed_mentions"]["parse"] == [] for r in digest)
        assert all(r.body["embeds"] and len(r.body["nonce"]) <= 25 for r in digest)

        # A channel Discord says is gone: one attempt, then paused.
        await answer(
            fake, ask("subscribe", {"topic": "agents"}, channel_id=CHANNEL_A2, permissions=MANAGER)
        )
        fake.fail(CHANNEL_A2, Failure(404, 10003, "Unknown Channel", times=None))
        gone = await answer(fake, ask("digest", channel_id=CHANNEL_A2, permissions=MANAGER))
        assert "Posted" not in gone
        await asyncio.sleep(1.0)
        assert len(fake.posts(CHANNEL_A2)) == 1
        assert "Unknown Channel" in await answer(fake, ask("list", channel_id=CHANNEL_A2))
        assert fake.violations == []
        assert all(pinged(r.body) == set() for r in fake.posts())
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    # uvicorn re-raises the SIGTERM it handled once it has shut down gracefully.
    assert process.returncode in (0, -signal.SIGTERM), stderr.decode()[-2000:]
    assert "Traceback" not in stderr.decode() and fake.token not in stderr.decode()
