"""What `/papers taste` says a channel leans to and away from: terms of the papers' titles."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping

from paperbot.core.search.lexicon import STOPWORDS

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]{2,}")
# Words nearly every title has: they say nothing about a channel's taste.
_GENERIC = frozenset(
    [
        "learning",
        "learn",
        "learned",
        "neural",
        "network",
        "networks",
        "model",
        "models",
        "approach",
        "method",
        "methods",
        "via",
        "using",
        "based",
        "towards",
        "toward",
        "efficient",
        "framework",
        "deep",
        "large",
        "data",
        "task",
        "tasks",
        "new",
        "improving",
        "improved",
        "improves",
    ]
)
MAX_TERMS = 6


def terms(title: str) -> list[str]:
    out = []
    for word in _WORD.findall(title):
        low = word.lower()
        if low in STOPWORDS or low in _GENERIC:
            continue
        out.append(word if word.isupper() else low)
    return list(dict.fromkeys(out))


def leanings(titles: Mapping[str, float]) -> tuple[list[str], list[str]]:
    """(terms it leans to, terms it leans away from), strongest first, from titles and each
    title's net weight (likes positive, dislikes negative)."""
    score: dict[str, float] = defaultdict(float)
    seen: dict[str, int] = defaultdict(int)
    for title, weight in titles.items():
        for term in terms(title):
            score[term] += weight
            seen[term] += 1
    # A term of one title only counts when nothing repeats: prefer what several papers share.
    ranked = sorted(score, key=lambda t: (abs(score[t]) * (1 + 0.5 * (seen[t] - 1)), t))[::-1]
    to = [t for t in ranked if score[t] > 0][:MAX_TERMS]
    away = [t for t in ranked if score[t] < 0][:MAX_TERMS]
    return to, away
