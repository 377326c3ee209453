"""The limits people's input is held to, written once: result pages, digest size, and the
lengths of a query, a topic and a paper reference. Command parsing, the button codecs,
Discord's option ranges and the CLI's option ranges all read them from here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Range:
    """Whole numbers from `low` to `high`, both included."""

    low: int
    high: int

    def __contains__(self, value: object) -> bool:
        # bool is an int to Python, not a page or a size to us.
        return type(value) is int and self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.low}-{self.high}"


# `/papers search ... page:N`, the Next button, Discord's page option, `paperbot search --page`.
SEARCH_PAGE = Range(1, 50)
# Papers a chat search answers with per page.
SEARCH_PAGE_SIZE = 5
# Results `paperbot search --limit` and `paperbot trending --limit` print at most.
CLI_RESULTS = Range(1, 100)
# `/papers size N`, Discord's size option, `paperbot channel add --size`, digest.default_size.
DIGEST_SIZE = Range(1, 20)
# A search query (longer ones are refused, not cut).
MAX_QUERY_CHARS = 500
# A topic (`/papers subscribe`); longer ones are refused.
MAX_TOPIC_CHARS = 200
# A paper reference (`/papers more-like-this <id>`, a paper button), cut to this length.
MAX_PAPER_REF_CHARS = 100

__all__ = [
    "CLI_RESULTS",
    "DIGEST_SIZE",
    "MAX_PAPER_REF_CHARS",
    "MAX_QUERY_CHARS",
    "MAX_TOPIC_CHARS",
    "SEARCH_PAGE",
    "SEARCH_PAGE_SIZE",
    "Range",
]
