"""Ingest: identity, idempotence, the change counter the index follows, cross-source merge."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.models import Counter, Paper, SignalSnapshot
from paperbot.core.papers.ingest import ingest
from paperbot.core.papers.sources.base import PaperIn, clean_text, normalize_arxiv_id, title_key

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def papers(n: int, *, upvotes: int | None = None, source: str = "file") -> list[PaperIn]:
    return [
        PaperIn(
            title=f"Paper number {i}",
            abstract=f"Abstract {i}",
            arxiv_id=f"2601.{i:05d}",
            upvotes=upvotes,
            source=source,
        )
        for i in range(n)
    ]


def rows(factory: sessionmaker[Session]) -> dict[str, Paper]:
    with factory() as s:
        return {p.key: p for p in s.scalars(select(Paper))}


def counter(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        row = s.get(Counter, "papers")
        return row.value if row else 0


def test_identity_forms() -> None:
    for raw in ("oai:arXiv.org:2508.13426v1", "https://arxiv.org/abs/2508.13426v3",
                "http://arxiv.org/pdf/2508.13426v1", "arXiv:2508.13426", "2508.13426"):  # fmt: skip
        assert normalize_arxiv_id(raw) == "2508.13426"
    assert normalize_arxiv_id("oai:arXiv.org:hep-th/9901001v2") == "hep-th/9901001"
    assert normalize_arxiv_id("not an id") is None
    assert title_key("Attention Is  All You Need!") == title_key("attention is all you need")
    assert PaperIn(title="T", arxiv_id="arXiv:2508.13426v2").key == "2508.13426"


def test_display_text_loses_latex_and_html() -> None:
    assert clean_text("Up to $10\\times$ faster, $\\alpha$-divergence") == (
        "Up to 10× faster, α-divergence"
    )
    assert clean_text('A <b>bold</b> &amp; \\emph{new} idea,\n  G{\\"o}del') == (
        "A bold & new idea, Gödel"
    )
    assert clean_text("keeps a<b and c>d and 5 < 6") == "keeps a<b and c>d and 5 < 6"


def test_reingest_is_idempotent_and_does_not_bump_the_counter(
    session_factory: sessionmaker[Session],
) -> None:
    first = ingest(session_factory, papers(50), source="file", now=NOW, batch_size=20)
    assert (first.added, first.updated, first.unchanged) == (50, 0, 0)
    assert counter(session_factory) == 3  # one increment per committed batch with changes
    assert {p.change_seq for p in rows(session_factory).values()} == {1, 2, 3}

    later = NOW + timedelta(hours=1)
    again = ingest(session_factory, papers(50), source="file", now=later, batch_size=20)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 50)
    assert again.last_change_seq is None and counter(session_factory) == 3
    assert all(p.updated_at == NOW for p in rows(session_factory).values())


def test_a_changed_signal_bumps_only_that_paper(session_factory: sessionmaker[Session]) -> None:
    ingest(session_factory, papers(5, upvotes=1, source="hf"), source="hf", now=NOW)
    batch = papers(5, upvotes=1, source="hf")
    batch[2].upvotes = 9
    later = NOW + timedelta(hours=1)
    result = ingest(session_factory, batch, source="hf", now=later)
    assert (result.updated, result.unchanged, result.snapshots) == (1, 4, 5)
    stored = rows(session_factory)
    assert stored["2601.00002"].upvotes == 9 and stored["2601.00002"].change_seq == 2
    assert stored["2601.00002"].updated_at == later
    assert stored["2601.00001"].change_seq == 1
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(SignalSnapshot)) == 10


def test_duplicates_in_one_call_are_one_row(session_factory: sessionmaker[Session]) -> None:
    twice = [
        PaperIn(title="Same", abstract="", arxiv_id="2601.00001v1", source="arxiv"),
        PaperIn(title="Same", abstract="Filled later", arxiv_id="2601.00001v2", source="arxiv"),
        PaperIn(title="No id here", abstract="x"),
        PaperIn(title="no ID here!", abstract="x"),
    ]
    result = ingest(session_factory, twice, source="arxiv", now=NOW)
    assert result.added == 2
    assert rows(session_factory)["2601.00001"].abstract == "Filled later"
    assert title_key("No id here") in rows(session_factory)


def test_merge_fills_gaps_and_never_blanks(session_factory: sessionmaker[Session]) -> None:
    hf = PaperIn(
        title="Hf title",
        abstract="HF abstract",
        arxiv_id="2601.00001",
        announced=date(2026, 11, 25),
        ai_summary="Short summary",
        github_repo="https://github.com/a/b",
        upvotes=10,
        comments=2,
        source="hf",
    )
    ingest(session_factory, [hf], source="hf", now=NOW)
    arxiv = PaperIn(
        title="arXiv title",
        abstract="",
        arxiv_id="2601.00001v2",
        categories=["cs.LG"],
        announced=date(2026, 11, 26),
        source="arxiv",
    )
    result = ingest(session_factory, [arxiv], source="arxiv", now=NOW)
    assert result.updated == 1 and result.snapshots == 0
    paper = rows(session_factory)["2601.00001"]
    assert paper.title == "arXiv title" and paper.abstract == "HF abstract"
    assert paper.ai_summary == "Short summary" and paper.github_repo == "https://github.com/a/b"
    assert paper.upvotes == 10 and paper.categories == ["cs.LG"]
    assert paper.announced == date(2026, 11, 25) and paper.sources == ["arxiv", "hf"]

    # HF refreshes its own fields later but no longer renames an arXiv-described paper.
    hf.title, hf.upvotes = "Other HF title", 30
    ingest(session_factory, [hf], source="hf", now=NOW)
    paper = rows(session_factory)["2601.00001"]
    assert paper.title == "arXiv title" and paper.upvotes == 30


def test_naive_now_is_refused(session_factory: sessionmaker[Session]) -> None:
    with pytest.raises(ValueError):
        ingest(session_factory, papers(1), source="file", now=datetime(2026, 1, 1))


def test_ingest_accepts_a_lazy_iterable(session_factory: sessionmaker[Session]) -> None:
    result = ingest(session_factory, iter(papers(7)), source="file", now=NOW, batch_size=3)
    assert result.added == 7 and len(rows(session_factory)) == 7


def test_a_refused_batch_names_no_sql_and_no_data(pg_url: str) -> None:
    from paperbot.core import db
    from paperbot.core.papers.store import IngestError

    engine = db.create_db_engine(pg_url)
    try:
        factory = db.make_session_factory(engine)
        paper = PaperIn(title="fine", abstract="secret abstract text", arxiv_id="2601.00001")
        paper.title = "a\x00b"  # past every gate (PaperIn cleans on creation): PostgreSQL refuses
        with pytest.raises(IngestError) as caught:
            ingest(factory, [paper], source="file", now=NOW)
        message = str(caught.value)
        assert "INSERT" not in message and "secret" not in message and "\x00" not in message
        assert message == (
            "the database refused a batch of 1 papers from file (DataError); it was not stored"
        )
        assert caught.value.__cause__ is None and caught.value.__suppress_context__
    finally:
        engine.dispose()
