"""Seeding: the bundled papers keep honest dates, are marked as samples and can be removed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fakes.sources import plain_settings
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.cards import to_card
from paperbot.core.models import Paper, PostedPaper, SignalSnapshot
from paperbot.core.papers.ingest import ingest
from paperbot.core.papers.seed import SAMPLE_HF_DAY, count_samples, remove_samples, seed_if_empty
from paperbot.core.papers.sources.base import PaperIn

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def papers(factory: sessionmaker[Session]) -> list[Paper]:
    with factory() as s:
        return list(s.scalars(select(Paper)))


def test_empty_store_is_seeded_once_with_honestly_dated_sample_papers(
    session_factory: sessionmaker[Session],
) -> None:
    assert seed_if_empty(session_factory, now=NOW) == 269
    stored = papers(session_factory)
    hf = [p for p in stored if "hf" in p.sources]
    jsonl = [p for p in stored if "hf" not in p.sources]
    assert len(hf) == 30 and len(jsonl) == 239
    assert all("sample" in p.sources for p in stored)
    assert {p.announced for p in hf} == {SAMPLE_HF_DAY} == {date(2026, 6, 12)}
    assert {p.announced for p in jsonl} == {date(2026, 6, 11)}  # before the HF day, not today
    assert NOW.date() not in {p.announced for p in stored}
    assert max(p.upvotes for p in hf) == 118  # the recording's signals are kept
    assert all(to_card(p).url.startswith("https://arxiv.org/") for p in stored)  # a link each
    assert all(p.url.startswith("https://arxiv.org/search/") for p in jsonl)  # type: ignore[union-attr]
    assert count_samples(session_factory) == 269
    assert seed_if_empty(session_factory, now=NOW) == 0


def test_a_store_with_papers_is_not_seeded(session_factory: sessionmaker[Session]) -> None:
    ingest(session_factory, [PaperIn(title="Mine", abstract="a")], source="file", now=NOW)
    assert seed_if_empty(session_factory, now=NOW) == 0
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Paper)) == 1
    assert count_samples(session_factory) == 0


def test_remove_samples_keeps_real_papers_and_what_a_real_source_also_brought(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    seed_if_empty(session_factory, now=NOW)
    first_sample = next(p for p in papers(session_factory) if "hf" not in p.sources)
    ingest(
        session_factory,
        [
            PaperIn(title="A real paper of ours", abstract="Kept.", arxiv_id="2611.00001"),
            PaperIn(title=first_sample.title, abstract=first_sample.abstract),  # also in a file
        ],
        source="file",
        now=NOW,
    )
    with session_factory.begin() as s:  # a digest that posted a sample paper
        from paperbot.core.channels import store as channels
        from paperbot.core.messages import ChannelRef

        channel = channels.get_or_create(s, ChannelRef("slack", "T1", "C1"), _digest(), now=NOW)
        s.flush()
        hf_paper = s.scalars(select(Paper).where(Paper.upvotes == 118)).one()
        s.add(PostedPaper(channel_id=channel.id, paper_id=hf_paper.id, posted_at=NOW))

    assert remove_samples(session_factory) == (268, 1)
    left = papers(session_factory)
    assert sorted(p.title for p in left) == sorted(["A real paper of ours", first_sample.title])
    assert all("sample" not in p.sources for p in left)
    assert count_samples(session_factory) == 0
    with session_factory() as s:  # their snapshots and posted rows went with them
        assert s.scalar(select(func.count()).select_from(PostedPaper)) == 0
        kept_ids = {p.id for p in left}
        assert set(s.scalars(select(SignalSnapshot.paper_id))) <= kept_ids
    assert remove_samples(session_factory) == (0, 0)


def _digest() -> Any:
    from paperbot.config import DigestSettings

    return DigestSettings()


@pytest.mark.parametrize(
    ("policy", "platform", "seeds"),
    [
        ("auto", False, True),
        ("auto", True, False),
        ("true", True, True),
        (True, True, True),
        ("false", False, False),
        (False, False, False),
        ("no", False, False),
    ],
)
def test_seed_policy(policy: Any, platform: bool, seeds: bool) -> None:
    slack = {"bot_token": "xoxb-1", "signing_secret": "s"} if platform else {}
    settings = plain_settings(seed_sample_data=policy, slack=slack)
    assert settings.seeds_samples() is seeds
