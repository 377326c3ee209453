"""Choosing a digest's papers: every topic's share, then by score; no near-duplicates."""

from __future__ import annotations

from collections.abc import Sequence

from paperbot.core.digests.selection import Candidate, DuplicateCheck, choose, quota, title_key


def ranked(*rows: tuple[int, float, Sequence[str]]) -> list[Candidate]:
    out = [Candidate(pid, score, tuple(topics)) for pid, score, topics in rows]
    return sorted(out, key=lambda c: -c.score)


def titles(mapping: dict[int, str] | None = None) -> DuplicateCheck:
    known = mapping or {}
    return DuplicateCheck(lambda pid: known.get(pid, f"paper {pid}"))


def ids(chosen: list[Candidate]) -> list[int]:
    return [c.paper_id for c in chosen]


def test_a_quiet_topic_still_gets_its_paper() -> None:
    pool = ranked(
        *[(i, 10.0 - i * 0.1, ["diffusion"]) for i in range(1, 9)],
        (20, 0.5, ["robotics"]),
    )
    chosen = choose(pool, ["diffusion", "robotics"], 5, duplicates=titles())
    assert ids(chosen) == [1, 2, 3, 4, 20]  # best first, the robotics paper last by score
    # Without topics it is plain score order.
    assert ids(choose(pool, [], 5, duplicates=titles())) == [1, 2, 3, 4, 5]


def test_shares_grow_with_the_digest_and_the_rest_goes_by_score() -> None:
    pool = ranked(
        *[(i, 50.0 - i, ["llm"]) for i in range(1, 15)],
        *[(100 + i, 5.0 - i * 0.1, ["graphs"]) for i in range(1, 6)],
    )
    # 10 slots, 2 topics, half shared: 2..5 each guaranteed; graphs gets its 2 best.
    chosen = choose(pool, ["llm", "graphs"], 10, duplicates=titles())
    assert sum(1 for c in chosen if "graphs" in c.topics) == 2
    assert ids(chosen)[:8] == list(range(1, 9))
    everything_shared = choose(pool, ["llm", "graphs"], 10, duplicates=titles(), share=1.0)
    assert sum(1 for c in everything_shared if "graphs" in c.topics) == 5
    assert quota(10, 2, 0.5) == 2 and quota(5, 4, 0.5) == 1 and quota(3, 0, 0.5) == 0


def test_a_paper_matching_two_topics_counts_for_both_once() -> None:
    pool = ranked(
        (1, 9.0, ["video", "diffusion"]),
        (2, 8.0, ["diffusion"]),
        (3, 7.0, ["diffusion"]),
        (4, 1.0, ["video"]),
        (5, 0.5, ["audio"]),
    )
    chosen = choose(pool, ["video", "diffusion", "audio"], 3, duplicates=titles())
    # Paper 1 covers video and diffusion, so audio's paper gets the next reserved slot.
    assert ids(chosen) == [1, 2, 5]


def test_more_topics_than_slots_go_to_the_topics_with_the_best_papers() -> None:
    pool = ranked((1, 3.0, ["a"]), (2, 9.0, ["b"]), (3, 5.0, ["c"]))
    assert ids(choose(pool, ["a", "b", "c"], 2, duplicates=titles())) == [2, 3]


def test_topics_without_a_match_leave_their_slots_to_the_others() -> None:
    pool = ranked(*[(i, 10.0 - i, ["a"]) for i in range(1, 7)])
    assert ids(choose(pool, ["a", "nothing matches"], 5, duplicates=titles())) == [1, 2, 3, 4, 5]


def test_near_duplicate_titles_keep_the_better_ranked_copy() -> None:
    names = {
        1: "Diffusion Model as Representation Learner",
        2: "Diffusion model as representation learner (v2)",
        3: "DIFFUSION MODEL AS REPRESENTATION LEARNER.",
        4: "Diffusion Models as Representation Learners",  # a different title: kept
        5: "Point cloud registration",
    }
    pool = ranked((1, 9.0, ["d"]), (2, 8.0, ["d"]), (3, 7.0, ["d"]), (4, 6.0, ["d"]), (5, 1, ["p"]))
    assert ids(choose(pool, ["d", "p"], 5, duplicates=titles(names))) == [1, 4, 5]
    assert title_key("Attention Is All You Need, version 3") == "attention is all you need"
    assert title_key("GPT-4 v2 v3") == "gpt 4"


def test_a_duplicate_does_not_use_up_a_topic_share() -> None:
    names = {1: "Robot arms", 2: "Robot Arms (v2)", 3: "Robot legs"}
    pool = ranked((1, 9.0, ["robots"]), (2, 8.0, ["robots"]), (3, 0.1, ["robots"]))
    chosen = choose(pool, ["robots"], 2, duplicates=titles(names), share=1.0)
    assert ids(chosen) == [1, 3]


def test_embeddings_closer_than_the_threshold_are_duplicates() -> None:
    cosine = {frozenset((1, 2)): 0.97, frozenset((1, 3)): 0.90}

    def similarity(a: int, b: int) -> float | None:
        return cosine.get(frozenset((a, b)))

    pool = ranked((1, 9.0, ["t"]), (2, 8.0, ["t"]), (3, 7.0, ["t"]), (4, 6.0, ["t"]))
    check = DuplicateCheck(lambda pid: f"title {pid}", similarity=similarity)
    assert ids(choose(pool, ["t"], 3, duplicates=check)) == [1, 3, 4]
    # Titles only by default: the same pool keeps all of them.
    assert ids(choose(pool, ["t"], 3, duplicates=titles())) == [1, 2, 3]
