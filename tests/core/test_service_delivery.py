"""Delivery through the service: what people read in /papers list and digests, who resumes a
pause, readiness, and the search index repairing itself under a running bot."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from paperbot.adapters.console.platform import ConsolePlatform, read_transcript
from paperbot.bootstrap import Core, build_core
from paperbot.core import db
from paperbot.core.commands import Caller
from paperbot.core.delivery import workspaces
from paperbot.core.messages import ChannelRef
from paperbot.core.models import Channel, Paper
from paperbot.core.papers import ingest
from paperbot.core.papers.sources.files import read_jsonl
from paperbot.core.search import SearchIndex
from paperbot.core.service import Paperbot
from tests.cli_helpers import REPO

ADMIN = Caller("console", "local", "general", "U-ADA", is_admin=True)
REF = ChannelRef("console", "local", "general")


@pytest.fixture
def core(make_settings: Any, now: datetime, tmp_path: Path) -> Iterator[Core]:
    settings = make_settings(console={"transcript": tmp_path / "transcript.jsonl"})
    c = build_core(settings, now=now, out=io.StringIO())
    ingest.ingest(
        c.session_factory,
        read_jsonl(REPO / "paperbot" / "data" / "sample_papers.jsonl"),
        source="file",
        now=now,
    )
    c.index.catch_up(c.session_factory)
    yield c
    c.close()


def posts(core: Core) -> list[dict[str, Any]]:
    return read_transcript(core.settings.console.transcript)  # type: ignore[arg-type]


def test_list_says_what_was_not_delivered_and_the_next_digest_too(
    core: Core, now: datetime
) -> None:
    service = core.service
    service.handle_text("schedule 09:00 UTC", ADMIN, now=now - timedelta(hours=1))
    console = service.platforms["console"]
    assert isinstance(console, ConsolePlatform)
    working = console.out
    broken = io.StringIO()
    broken.close()
    console._out = broken  # every post fails
    for minutes in range(0, 400, 45):
        service.deliver_due(now + timedelta(minutes=minutes))
    listed = service.handle_text("list", ADMIN, now=now + timedelta(hours=8)).text
    assert "Not delivered since then: 1 digest (console output failed" in listed
    console._out = working
    service.deliver_due(now + timedelta(days=1))
    (entry,) = posts(core)
    assert entry["channel"] == str(REF)
    text = working.getvalue()  # type: ignore[attr-defined]
    assert "1 digest could not be delivered: console output failed" in text
    assert "Last digest: Sat 28 Nov 09:00" in service.handle_text("list", ADMIN, now=now).text


def test_who_set_it_up_is_recorded_and_a_fixed_pause_says_so(core: Core, now: datetime) -> None:
    service = core.service
    service.handle_text("subscribe agents", ADMIN, now=now - timedelta(hours=1))
    with core.session_factory.begin() as s:
        s.execute(
            update(Channel).values(
                paused=True, pause_kind="permission", pause_reason="Missing Permissions"
            )
        )
    # A check that paperbot can post there again (any command) ends that pause by itself.
    member = Caller("console", "local", "general", "U2", bot_can_post=True)
    reply = service.handle_text("list", member, now=now)
    assert "Paused" not in reply.text
    with core.session_factory() as s:
        row = s.query(Channel).one()
        assert (row.configured_by, row.resumed_note) == ("U-ADA", "Missing Permissions")
    service.deliver_due(now + timedelta(days=1))
    text = service.platforms["console"].out.getvalue()  # type: ignore[attr-defined]
    assert "Digests are back: paperbot had paused them (Missing Permissions)." in text


def test_a_person_pause_is_not_ended_by_a_check(core: Core, now: datetime) -> None:
    service = core.service
    service.handle_text("pause", ADMIN, now=now)
    caller = Caller("console", "local", "general", "U2", bot_can_post=True)
    assert "Paused: paused by U-ADA" in service.handle_text("list", caller, now=now).text
    service.handle_text("resume", ADMIN, now=now)
    assert "Paused" not in service.handle_text("list", caller, now=now).text


def test_a_time_zone_tzdata_dropped_pauses_until_rescheduled(core: Core, now: datetime) -> None:
    service = core.service
    service.handle_text("subscribe agents", ADMIN, now=now)
    with core.session_factory.begin() as s:
        s.execute(update(Channel).values(timezone="Europe/Atlantis"))
    report = service.deliver_due(now)
    assert report.troubles == [
        "console:local/general: unknown time zone 'Europe/Atlantis': run /papers schedule"
    ]
    listed = service.handle_text("list", ADMIN, now=now)
    assert "Paused: unknown time zone 'Europe/Atlantis'" in listed.text
    fixed = service.handle_text("schedule 09:00 Europe/Berlin", ADMIN, now=now)
    assert "Paused" not in service.handle_text("list", ADMIN, now=now).text, fixed.text


def test_an_empty_manual_digest_says_nothing_new_since(core: Core, now: datetime) -> None:
    service = core.service
    service.handle_text("size 20", ADMIN, now=now)
    first = service.handle_text("digest", ADMIN, now=now)
    assert first.text.startswith("Posted a digest of")
    # Ask again until the store has nothing left this channel has not seen.
    later = now
    for _ in range(30):
        later += timedelta(minutes=1)
        reply = service.handle_text("digest", ADMIN, now=later)
        if not reply.text.startswith("Posted"):
            break
    assert reply.text.startswith("Nothing new since the last digest (Fri 27 Nov")
    sent = len(posts(core))
    assert service.handle_text("digest", ADMIN, now=later).text == reply.text  # same minute
    assert len(posts(core)) == sent


def test_a_digest_asked_for_on_a_stale_store_gets_its_newest_unposted_papers(
    core: Core, now: datetime
) -> None:
    """Sources down for weeks (or only the bundled papers): every day's window is empty. A
    person who subscribes to a topic and asks for a digest gets the store's newest matching
    papers, also after the channel already had one (once it got only its first digest), and
    never a paper posted here before."""
    service, later = core.service, now + timedelta(days=60)
    first = service.handle_text("digest", ADMIN, now=later)
    assert first.text == "Posted a digest of 5 papers.", first.text
    shown = set(posts(core)[-1]["papers"])
    service.handle_text('subscribe "making images from text descriptions"', ADMIN, now=later)
    asked = service.handle_text("digest", ADMIN, now=later + timedelta(minutes=1))
    assert asked.text.startswith("Posted a digest of"), asked.text
    keys = posts(core)[-1]["papers"]
    assert keys and not set(keys) & shown
    with core.session_factory() as session:
        titles = session.scalars(select(Paper.title).where(Paper.key.in_(keys))).all()
    assert any("text-to-image" in t.lower() for t in titles), titles


def test_readiness_names_the_database_the_index_and_a_refused_token(
    core: Core, now: datetime, make_settings: Any, tmp_path: Path
) -> None:
    service = core.service
    assert service.readiness() == []
    with core.session_factory.begin() as s:
        workspaces.pause(s, "console", "*", "the token was refused", now=now)
        workspaces.pause(s, "console", "T-oauth", "one workspace's token", now=now)
    assert service.readiness() == ["console: the token was refused"]
    with core.session_factory.begin() as s:
        workspaces.resume(s, "console", "*")
    shutil.rmtree(core.index.path)
    assert service.readiness() == ["the search index folder is missing"]
    # The next delivery tick rebuilds it from the database.
    service.delivery_tick(now)
    assert service.readiness() == []
    assert service.handle_text("search agents", ADMIN, now=now).papers


def test_readiness_says_when_the_database_is_unreachable(make_settings: Any) -> None:
    settings = make_settings()
    broken = db.make_session_factory(
        db.create_db_engine("postgresql+psycopg://postgres@127.0.0.1:9/nothing")
    )
    service = Paperbot(settings, broken, SearchIndex(settings.resolved_index_dir()))
    assert service.readiness() == ["the database is unreachable (OperationalError)"]
