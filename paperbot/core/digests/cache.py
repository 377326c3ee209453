"""Loading shared by digests: one tick's window signals, cards and source health (DigestCache),
and one digest's cards read in rank order (CardBook)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime
from typing import Any, TypeVar, cast

from sqlalchemy.orm import Session

from paperbot.config import RankingSettings
from paperbot.core.digests.selection import Candidate
from paperbot.core.messages import PaperCard
from paperbot.core.papers.ranking import Signals, cadence_score
from paperbot.core.papers.source_health import partial_sources
from paperbot.core.papers.trending import load_cards, load_signals, newest_day, window_ids

T = TypeVar("T")


class DigestCache:
    """Work shared by the digests of one tick (one `now`): window signals, cards, source health.

    Pass one to build_digest for every channel of a fan-out; without one each digest loads only
    what it needs. Entries are keyed by `now`, and a call with another `now` drops the old ones,
    so one long-lived cache serves tick after tick. Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._now: datetime | None = None
        self._memo: dict[tuple[Any, ...], Any] = {}

    def _get(self, now: datetime, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        full = (now, *key)
        with self._lock:
            if self._now != now:
                self._now, self._memo = now, {}
            if full in self._memo:
                return cast(T, self._memo[full])
        value = compute()
        with self._lock:
            if self._now == now:
                self._memo[full] = value
        return value

    def window(
        self,
        session: Session,
        since: date,
        now: datetime,
        weights: RankingSettings,
        window_start: datetime | None = None,
    ) -> dict[int, Signals]:
        return self._get(
            now,
            ("window", since, window_start, tuple(weights.model_dump().values())),
            lambda: load_signals(
                session, window_ids(since), now=now, weights=weights, window_start=window_start
            ),
        )

    def scores(
        self,
        session: Session,
        since: date,
        now: datetime,
        weights: RankingSettings,
        window_start: datetime | None = None,
    ) -> dict[int, float]:
        """Every window paper's score before topics: the same for every channel of a tick."""
        window = self.window(session, since, now, weights, window_start)
        hours = (now - window_start).total_seconds() / 3600 if window_start else None
        return self._get(
            now,
            ("scores", since, window_start, tuple(weights.model_dump().values())),
            lambda: {
                pid: cadence_score(sig, now=now, weights=weights, window_hours=hours)
                for pid, sig in window.items()
            },
        )

    def cards(self, session: Session, ids: Sequence[int], now: datetime) -> dict[int, PaperCard]:
        with self._lock:
            known = {pid: self._memo.get((now, "card", pid)) for pid in ids}
        missing = [pid for pid, card in known.items() if card is None]
        if missing:
            loaded = load_cards(session, missing)
            with self._lock:
                if self._now == now:
                    self._memo.update({(now, "card", pid): card for pid, card in loaded.items()})
            known.update(loaded)
        return {pid: card for pid, card in known.items() if card is not None}

    def partial(self, session: Session, now: datetime, sources: Collection[str]) -> tuple[str, ...]:
        return self._get(
            now,
            ("partial", tuple(sources)),
            lambda: partial_sources(session, now, sources=sources),
        )

    def newest(self, session: Session, now: datetime) -> date | None:
        return self._get(now, ("newest",), lambda: newest_day(session))


class CardBook:
    """Cards loaded in rank order, a few at a time, as the selection reads their titles."""

    def __init__(
        self,
        session: Session,
        ranked: Sequence[Candidate],
        now: datetime,
        cache: DigestCache | None,
        chunk: int,
    ) -> None:
        self._session, self._now, self._cache, self._chunk = session, now, cache, max(1, chunk)
        self._order = [c.paper_id for c in ranked]
        self._position = {pid: i for i, pid in enumerate(self._order)}
        self._cards: dict[int, PaperCard | None] = {}

    def get(self, paper_id: int) -> PaperCard | None:
        if paper_id not in self._cards:
            at = self._position.get(paper_id, 0)
            batch = [p for p in self._order[at : at + self._chunk] if p not in self._cards]
            batch = batch if paper_id in batch else [paper_id, *batch]
            if self._cache is not None:
                loaded = self._cache.cards(self._session, batch, self._now)
            else:
                loaded = load_cards(self._session, batch)
            self._cards.update({pid: loaded.get(pid) for pid in batch})
        return self._cards[paper_id]

    def title(self, paper_id: int) -> str:
        card = self.get(paper_id)
        return card.title if card is not None else ""


__all__ = ["CardBook", "DigestCache"]
