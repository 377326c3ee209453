"""Pure ranking: decay, growth, weights from settings, the window score and topic score."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from paperbot.config import RankingSettings
from paperbot.core.papers.ranking import (
    Growth,
    Signals,
    decay,
    digest_score,
    growth,
    merge_growth,
    topic_score,
    trending_score,
    window_score,
)

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 27)
W = RankingSettings()


@dataclass(frozen=True)
class Snap:
    observed_at: datetime
    upvotes: int = 0
    comments: int = 0
    github_stars: int = 0


def ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


def test_decay_halves_at_each_half_life() -> None:
    assert decay(0, 36) == 1.0
    assert decay(36, 36) == pytest.approx(0.5)
    assert decay(72, 36) == pytest.approx(0.25)


def test_score_of_the_same_paper_halves_one_half_life_later() -> None:
    sig = Signals(upvotes=40, comments=3, announced=TODAY)
    first = trending_score(sig, now=NOW, weights=W)
    later = trending_score(sig, now=NOW + timedelta(hours=W.half_life_hours), weights=W)
    assert later == pytest.approx(first / 2)


def test_half_life_comes_from_settings() -> None:
    sig = Signals(upvotes=10, announced=TODAY - timedelta(days=1))
    fast = RankingSettings(half_life_hours=12)
    assert trending_score(sig, now=NOW, weights=fast) < trending_score(sig, now=NOW, weights=W)


def test_growth_is_newest_minus_snapshot_closest_to_a_day_before() -> None:
    snaps = [
        Snap(ago(40), upvotes=2),
        Snap(ago(25), upvotes=10, comments=1, github_stars=100),
        Snap(ago(12), upvotes=30),
        Snap(ago(1), upvotes=48, comments=13, github_stars=120),
    ]
    g = growth(snaps, now=NOW, window_hours=24)
    assert (g.upvotes, g.comments, g.github_stars) == (38, 12, 20)
    assert g.hours == pytest.approx(24)


def test_growth_uses_the_first_snapshot_when_history_is_short() -> None:
    g = growth([Snap(ago(2), upvotes=5), Snap(ago(6), upvotes=1)], now=NOW, window_hours=24)
    assert g.upvotes == 4
    assert g.hours == pytest.approx(4)


def test_growth_needs_two_snapshots_and_ignores_the_future() -> None:
    assert growth([Snap(ago(3), upvotes=50)], now=NOW, window_hours=24).upvotes == 0
    future = [Snap(ago(3), upvotes=5), Snap(NOW + timedelta(hours=1), upvotes=90)]
    assert growth(future, now=NOW, window_hours=24).upvotes == 0


def test_growth_across_sources_takes_the_largest_delta_not_the_sum() -> None:
    a = growth([Snap(ago(24), upvotes=1), Snap(ago(0), upvotes=11)], now=NOW, window_hours=24)
    b = growth([Snap(ago(24), comments=1), Snap(ago(0), comments=4)], now=NOW, window_hours=24)
    merged = merge_growth([a, b])
    assert (merged.upvotes, merged.comments) == (10, 3)


def test_growth_counts_so_a_rising_paper_beats_a_stale_one_with_more_votes() -> None:
    stale = Signals(upvotes=60, announced=TODAY)
    rising = Signals(upvotes=45, upvotes_growth=40, growth_hours=24, announced=TODAY)
    assert trending_score(rising, now=NOW, weights=W) > trending_score(stale, now=NOW, weights=W)


def test_weights_from_settings_change_the_order() -> None:
    discussed = Signals(comments=40, announced=TODAY)
    starred = Signals(github_stars=900, announced=TODAY)

    def order(weights: RankingSettings) -> list[str]:
        scores = {
            "discussed": trending_score(discussed, now=NOW, weights=weights),
            "starred": trending_score(starred, now=NOW, weights=weights),
        }
        return sorted(scores, key=lambda name: scores[name], reverse=True)

    assert order(RankingSettings(comment_weight=1.0, star_weight=0.01)) == ["discussed", "starred"]
    assert order(RankingSettings(comment_weight=0.1, star_weight=0.5)) == ["starred", "discussed"]


def test_papers_without_signals_rank_by_recency() -> None:
    papers = [Signals(announced=TODAY - timedelta(days=d)) for d in (3, 0, 1)]
    scores = [trending_score(s, now=NOW, weights=W) for s in papers]
    assert scores[1] > scores[2] > scores[0] > 0


def test_undated_papers_decay_from_first_seen() -> None:
    new = Signals(first_seen_at=ago(1))
    old = Signals(first_seen_at=ago(100))
    assert trending_score(new, now=NOW, weights=W) > trending_score(old, now=NOW, weights=W)


def test_a_viral_paper_does_not_stay_on_top_for_a_week() -> None:
    viral = Signals(upvotes=800, announced=TODAY - timedelta(days=7))
    fresh = Signals(announced=TODAY)
    assert trending_score(fresh, now=NOW, weights=W) > trending_score(viral, now=NOW, weights=W)


def test_topic_score_is_bounded_and_rewards_more_topics() -> None:
    assert topic_score(0.5, 0, weights=W) == 0.0
    assert topic_score(3.0, 1, weights=W) == 1.0
    assert topic_score(-1.0, 1, weights=W) == 0.0
    assert topic_score(0.5, 3, weights=W) == pytest.approx(0.7)


def test_topic_weight_lets_relevance_beat_a_little_more_activity() -> None:
    relevant, popular = 1.0, 0.1
    a = trending_score(Signals(upvotes=10, announced=TODAY), now=NOW, weights=W)
    b = trending_score(Signals(upvotes=14, announced=TODAY), now=NOW, weights=W)
    assert digest_score(a, relevant, weights=W) > digest_score(b, popular, weights=W)
    flat = RankingSettings(topic_weight=0.0)
    assert digest_score(a, relevant, weights=flat) < digest_score(b, popular, weights=flat)


WEEK_HOURS = 7 * 24 + 9


def week_score(sig: Signals, weights: RankingSettings = W) -> float:
    return window_score(sig, now=NOW, window_hours=WEEK_HOURS, weights=weights)


def test_over_a_week_the_most_upvoted_paper_leads_however_old() -> None:
    loved = Signals(upvotes=250, announced=TODAY - timedelta(days=5), gained=Growth(upvotes=250))
    today_none = Signals(announced=TODAY, gained=Growth())
    today_some = Signals(upvotes=120, comments=10, announced=TODAY, gained=Growth(120, 10))
    assert week_score(loved) > week_score(today_some) > week_score(today_none)
    # The daily decay buries it, which is why long cadences do not use it.
    assert trending_score(loved, now=NOW, weights=W) < trending_score(
        today_some, now=NOW, weights=W
    )


def test_window_score_counts_only_what_was_gained_in_the_window() -> None:
    # 900 stars before the week began, 10 new ones: less than 60 upvotes earned this week.
    old_repo = Signals(
        github_stars=910, announced=TODAY - timedelta(days=2), gained=Growth(0, 0, 10)
    )
    voted = Signals(upvotes=60, announced=TODAY - timedelta(days=2), gained=Growth(60))
    assert week_score(voted) > week_score(old_repo)
    # Without a measurement the totals count (a paper first seen inside the window).
    assert week_score(Signals(upvotes=60, announced=TODAY - timedelta(days=2))) == week_score(voted)


def test_window_score_orders_papers_without_signals_newest_first() -> None:
    days = [6, 0, 3]
    scores = [
        week_score(Signals(announced=TODAY - timedelta(days=d), gained=Growth())) for d in days
    ]
    assert scores[1] > scores[2] > scores[0] > 0
    # One upvote outweighs being new: activity leads, freshness breaks ties.
    one = Signals(upvotes=1, announced=TODAY - timedelta(days=6), gained=Growth(upvotes=1))
    assert week_score(one) > scores[1]


def test_a_four_times_lead_in_a_week_survives_a_better_topic_match() -> None:
    top = week_score(Signals(upvotes=200, announced=TODAY - timedelta(days=4), gained=Growth(200)))
    runner = week_score(Signals(upvotes=50, announced=TODAY, gained=Growth(50)))
    # A match near a typical threshold against a perfect one.
    weak_match, perfect_match = 0.3, 1.0
    assert digest_score(top, weak_match, weights=W) > digest_score(runner, perfect_match, weights=W)
