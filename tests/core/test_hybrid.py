"""The hybrid engine over the sample papers: fusion, filters on dense finds, papers without
vectors, more-like-this, topics by meaning with a threshold, status, semantic off."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from judged import NOW, Sample, build_sample
from paper_rows import add_paper
from sqlalchemy import update

from paperbot.config import SearchSettings
from paperbot.core.models import Paper
from paperbot.core.search import parse_query
from paperbot.core.search.hybrid import HybridSearch

PERSONAL = "teaching an image generator a user's specific object from a few photos"
TEXTUAL_INVERSION = "An Image is Worth One Word"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    return build_sample(tmp_path_factory.mktemp("hybrid"))


def titles(sample: Sample, text: str, limit: int = 5) -> list[str]:
    hits = sample.hybrid.search(parse_query(text, now=NOW), limit=limit).hits
    return [sample.titles[pid] for pid, _ in hits]


def test_plain_words_find_papers_that_share_none_of_them(sample: Sample) -> None:
    text = "putting broken pieces of an object back together"
    lexical = sample.lexical.search(parse_query(text, now=NOW), limit=3).hits
    assert titles(sample, text, 1) == [
        "Leveraging SE(3) Equivariance for Learning 3D Geometric Shape Assembly"
    ]
    assert not any("Shape Assembly" in sample.titles[pid] for pid, _ in lexical)
    assert any(TEXTUAL_INVERSION in t for t in titles(sample, PERSONAL, 3))


def test_acronyms_and_exact_words_keep_the_lexical_answers(sample: Sample) -> None:
    assert titles(sample, "JEPA", 1) == [
        "Learning and Leveraging World Models in Visual Representation Learning"
    ]
    assert all("Matryoshka" in t for t in titles(sample, "matryoshka", 3))


def test_filters_and_exclusions_hold_for_papers_the_dense_side_found(sample: Sample) -> None:
    with sample.factory.begin() as session:
        session.execute(
            update(Paper)
            .where(Paper.title.like("%Personaliz%"))
            .values(categories=["cs.GR"], announced=date(2026, 11, 20))
        )
    sample.lexical.rebuild(sample.factory)
    found = titles(sample, f"{PERSONAL} cat:cs.GR", 10)
    assert found and all("ersonaliz" in t for t in found)
    since = titles(sample, f"{PERSONAL} since:2026-11-15", 10)
    assert since and all("ersonaliz" in t for t in since)
    excluded = titles(sample, f"{PERSONAL} -inversion", 10)
    assert excluded and not any("Inversion" in t for t in excluded)


def test_a_paper_not_embedded_yet_is_found_lexically(sample: Sample, tmp_path: Path) -> None:
    pid = add_paper(sample.factory, "Zygomorphic flower petals", "Petal symmetry in orchids.")
    sample.hybrid.catch_up(sample.factory)
    assert sample.hybrid.vectors is not None and pid not in sample.hybrid.vectors
    hits = sample.hybrid.search(parse_query("zygomorphic petals", now=NOW), limit=3).hits
    assert hits[0][0] == pid


def test_more_like_this_comes_from_the_embeddings(sample: Sample) -> None:
    pid = next(p for p, t in sample.titles.items() if t.startswith(TEXTUAL_INVERSION))
    similar = [sample.titles[p] for p, _ in sample.hybrid.more_like_this(pid, limit=4)]
    assert sample.titles[pid] not in similar and len(similar) == 4
    personalization = ("Personalized", "P+:", "Text-to-Image Personalization", "ConceptLab")
    assert sum(any(k in t for k in personalization) for t in similar) >= 3


def test_paper_vectors_tell_near_duplicates(sample: Sample) -> None:
    twins = [p for p, t in sample.titles.items() if t.startswith("White-Box Transformers")]
    other = next(p for p, t in sample.titles.items() if t.startswith("GPGait"))
    vectors = sample.hybrid.paper_vectors([*twins, other, 10_000])
    assert set(vectors) == {*twins, other}
    a, b = (vectors[p] for p in twins)
    assert float(a @ b) > 0.95 > float(a @ vectors[other])


def test_topics_match_by_meaning_only_above_the_threshold(sample: Sample) -> None:
    since = date(2026, 10, 1)
    matches = sample.hybrid.match_topics(
        [PERSONAL, "quantum chemistry of lithium batteries"], since=since, now=NOW
    )
    threshold = sample.hybrid.settings.topic_threshold
    assert matches and all(m.score >= threshold > 0 for m in matches.values())
    matched = {sample.titles[pid]: m for pid, m in matches.items()}
    assert any(t.startswith(TEXTUAL_INVERSION) for t in matched)
    assert all(m.topics == (PERSONAL,) for m in matched.values())  # batteries: nothing
    assert all(0 < m.relevance[PERSONAL] <= 1 for m in matched.values())
    assert any(m.by_meaning == (PERSONAL,) for m in matched.values())
    assert not any("Gait" in t for t in matched)


def test_a_stricter_threshold_matches_fewer_papers(sample: Sample, tmp_path: Path) -> None:
    strict = HybridSearch(
        sample.lexical, SearchSettings(topic_threshold=0.9), vectors_path=sample.hybrid.vectors_path
    )
    loose = sample.hybrid.match_topics(["diffusion models"], since=date(2026, 10, 1), now=NOW)
    tight = strict.match_topics(["diffusion models"], since=date(2026, 10, 1), now=NOW)
    assert 0 < len(tight) < len(loose)


def test_topics_of_filters_only_match_what_they_select(sample: Sample) -> None:
    with sample.factory.begin() as session:
        session.execute(
            update(Paper).where(Paper.title.like("%Gait%")).values(categories=["cs.RO"])
        )
    sample.hybrid.catch_up(sample.factory)
    sample.lexical.rebuild(sample.factory)
    matches = sample.hybrid.match_topics(
        ["cat:cs.RO"], since=NOW.date() - timedelta(days=60), now=NOW
    )
    assert [sample.titles[p] for p in matches] and all(m.score == 1.0 for m in matches.values())


def test_lexical_topic_matching_needs_most_of_the_topics_words(sample: Sample) -> None:
    matches = sample.lexical.match_topics(["diffusion models"], since=date(2026, 10, 1), now=NOW)
    best = sorted(matches, key=lambda p: -matches[p].score)[:5]
    assert all("iffusion" in sample.titles[p] for p in best)
    assert not any("Gait" in sample.titles[p] for p in matches)
    assert sample.lexical.match_topics(["xyzzy plugh"], since=date(2026, 10, 1), now=NOW) == {}


def test_status_shows_the_backfill(sample: Sample) -> None:
    status = sample.hybrid.status(sample.factory)
    assert status.semantic == "bundled model"
    assert status.embedded == 239 and status.papers >= 239
    assert any(line.startswith("embedded: 239 of") for line in status.lines())


def test_semantic_off_is_the_lexical_engine(sample: Sample) -> None:
    off = HybridSearch(sample.lexical, SearchSettings(semantic=False))
    assert off.vectors is None and off.backfill(sample.factory) is None
    query = parse_query(PERSONAL, now=NOW)
    assert off.search(query, limit=5) == sample.lexical.search(query, limit=5)
    assert off.status(sample.factory).semantic.startswith("off")


def test_a_digest_shows_one_of_two_papers_that_embed_alike(sample: Sample) -> None:
    from paperbot.config import Settings
    from paperbot.core.digests.builder import build_digest
    from paperbot.core.digests.request import DigestConfig, DigestRequest
    from paperbot.core.models import Channel, Subscription

    with sample.factory.begin() as session:
        channel = Channel(
            platform="console", workspace="local", channel="dups", created_at=NOW, size=5
        )
        channel.subscriptions.append(
            Subscription(topic="white-box transformers sparse rate reduction", created_at=NOW)
        )
        session.add(channel)
    settings = Settings(_env_file=None, seed_sample_data=False)  # type: ignore[call-arg]
    day_after = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # the sample is announced on 1 Nov
    with sample.factory() as session:
        row = session.get_one(Channel, channel.id)
        digest = build_digest(
            session, sample.hybrid, row, DigestConfig.of(settings), DigestRequest(day_after)
        )
    shown = [p.title for p in digest.papers]
    # Two titles, one paper's two versions: only the better ranked one is shown.
    assert sum(t.startswith("White-Box Transformers") for t in shown) == 1, shown
    with sample.factory.begin() as session:
        session.delete(session.get_one(Channel, channel.id))


def test_papers_sharing_no_word_and_far_in_meaning_are_not_answers(sample: Sample) -> None:
    # One sample paper is about JEPA-style world models; the rest share no word with the query.
    shown = titles(sample, "what's JEPA?", limit=10)
    assert shown == ["Learning and Leveraging World Models in Visual Representation Learning"]
