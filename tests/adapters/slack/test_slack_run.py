"""`paperbot run` in Slack HTTP mode, as a user starts it: signed commands, scheduled digests."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from cli_helpers import cli_env, closed_port, paperbot, start_bot, stop_bot, wait_healthy
from fakes.slack import FakeSlack, block_kit_problems, mention_leaks
from slack_harness import HOSTILE, SECRET, command_body, sign


def check(message: dict[str, Any]) -> None:
    assert not block_kit_problems(message), block_kit_problems(message)
    assert not mention_leaks(message), mention_leaks(message)


def test_paperbot_run_serves_slack_http_mode(
    slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    port = closed_port()
    url = f"http://127.0.0.1:{port}"
    env = cli_env(
        database_url,
        tmp_path,
        PAPERBOT_HTTP__PORT=str(port),
        PAPERBOT_SLACK__SIGNING_SECRET=SECRET,
        PAPERBOT_SLACK__BOT_TOKEN="xoxb-test-token",
        PAPERBOT_SLACK__API_BASE_URL=slack.api_url,
        PAPERBOT_DIGEST__TICK_SECONDS="1",
        PAPERBOT_SEED_SAMPLE_DATA="true",  # papers to search and post (default: none beside Slack)
    )
    proc = start_bot(env=env, cwd=tmp_path)
    try:
        wait_healthy(port, proc)
        http = httpx.Client(base_url=url, timeout=10)

        def command(text: str, user: str = "UADMIN", headers: Any = None) -> httpx.Response:
            body = urlencode(command_body(text, user_id=user)).encode()
            hdrs = sign(body) if headers is None else headers
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
            started = time.monotonic()
            response = http.post("/slack/events", content=body, headers=hdrs)
            assert time.monotonic() - started < 3
            return response

        found = command("search diffusion").json()
        check(found)
        assert "diffusion" in json.dumps(found["blocks"]).lower()
        hostile = command(f"search {HOSTILE}").json()
        check(hostile)
        assert "&lt;!channel&gt;" in json.dumps(hostile)

        refused = command("subscribe diffusion", user="UPLAIN").json()
        assert refused["response_type"] == "ephemeral" and "admins" in refused["text"]
        ok = command("subscribe diffusion").json()
        assert ok["response_type"] == "in_channel" and "Subscribed" in ok["text"]

        body = urlencode(command_body("unsubscribe all")).encode()
        stale = sign(body, timestamp=int(time.time()) - 6 * 60)
        assert command("unsubscribe all", headers=stale).status_code == 401
        forged = sign(body, secret="not-the-secret")
        assert command("unsubscribe all", headers=forged).status_code == 401
        assert command("unsubscribe all", headers={}).status_code == 401

        scheduled = command("schedule 00:00 UTC daily").json()
        assert "00:00 UTC" in scheduled["text"]
        listed = command("list", user="UPLAIN").json()
        assert "diffusion" in listed["text"] and "00:00 UTC" in listed["text"]

        now = command("digest").json()
        assert "Posted" in now["text"], now
        first = list(slack.messages["C1"])
        # Tomorrow's scheduled slot, delivered by a one-off `paperbot deliver` beside the bot,
        # with papers announced today (the bundled samples are dated months ago).
        fresh = tmp_path / "fresh.jsonl"
        fresh.write_text(
            "".join(
                json.dumps(
                    {"arxiv_id": f"2612.0000{i}", "title": f"Diffusion {i}", "abstract": "x"}
                )
                + "\n"
                for i in range(3)
            )
        )
        ingested = paperbot("ingest", "--source", "file", str(fresh), env=env, cwd=tmp_path)
        assert ingested.returncode == 0, ingested.stderr
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT00:05:00+00:00")
        done = paperbot("deliver", "--now", tomorrow, env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "sent 1" in done.stdout
        again = paperbot("deliver", "--now", tomorrow, env=env, cwd=tmp_path)
        assert "sent 0" in again.stdout
        posted = slack.messages["C1"]
        assert len(posted) == len(first) + 1
        for message in posted:
            check(message)
            assert message["metadata"]["event_type"] == "paperbot_digest"
        links = [set(re.findall(r"arxiv.org/abs/[0-9.]+", json.dumps(m))) for m in posted]
        assert not links[0] & links[-1], "a paper was posted twice"
        posts = [c.args for c in slack.calls_to("chat.postMessage")]
        assert all(
            a.get("unfurl_links") in (False, "false") and "link_names" not in a for a in posts
        )
    finally:
        err = stop_bot(proc)
    assert "xoxb-test-token" not in err and SECRET not in err


def test_paperbot_run_with_a_refused_bot_token_says_what_to_fix(
    slack: FakeSlack, sqlite_url: str, tmp_path: Path
) -> None:
    slack.revoked.add("xoxb-test-token")
    env = cli_env(
        sqlite_url,
        tmp_path,
        PAPERBOT_SLACK__SIGNING_SECRET=SECRET,
        PAPERBOT_SLACK__BOT_TOKEN="xoxb-test-token",
        PAPERBOT_SLACK__API_BASE_URL=slack.api_url,
    )
    done = paperbot("run", "--no-console", env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "PAPERBOT_SLACK__BOT_TOKEN (invalid_auth)" in done.stderr
    assert "Traceback" not in done.stderr and "xoxb-test-token" not in done.stderr
