"""Generated commands a button may carry (hypothesis strategies), for both codecs' tests."""

from __future__ import annotations

from hypothesis import strategies as st

from paperbot.adapters.buttons import MAX_PAGE, ButtonCommand
from paperbot.core.commands import (
    MAX_QUERY_CHARS,
    Discuss,
    MoreLikeThis,
    Search,
    Trending,
    Vote,
    clean_text,
)

# Every kind of character a person types or pastes: accents, CJK, emoji (outside the BMP),
# quotes, backslashes, the codecs' own separators (: | ~ { }), mention syntax.
_TYPED = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
_SEPARATORS = st.sampled_from([*':|~{}"\\<>@!#&* ', "😀", "日", "é", "\u00a0"])


def _clean(texts: st.SearchStrategy[str], limit: int) -> st.SearchStrategy[str]:
    return texts.map(clean_text).map(lambda t: t[:limit].strip()).filter(bool)


queries = _clean(
    st.lists(st.one_of(_TYPED, _SEPARATORS), min_size=1, max_size=MAX_QUERY_CHARS).map("".join),
    MAX_QUERY_CHARS,
)
pages = st.integers(min_value=1, max_value=MAX_PAGE)
# Paper keys as stored (arXiv ids new and old, title hashes), and what a person types.
paper_keys = st.one_of(
    st.from_regex(r"\A[0-9]{4}\.[0-9]{4,5}(v[0-9]{1,2})?\Z"),
    st.from_regex(r"\A[a-z-]{2,8}(\.[A-Z]{2})?/[0-9]{7}\Z"),
    st.from_regex(r"\Atitle:[0-9a-f]{32}\Z"),
    _clean(st.text(st.one_of(_TYPED, _SEPARATORS), min_size=1, max_size=60), 60).filter(
        lambda t: " " not in t and "|" not in t
    ),
)
searches = st.builds(Search, query=queries, page=pages)
votes = st.builds(Vote, paper=paper_keys, value=st.sampled_from(["like", "dislike"]))
button_commands: st.SearchStrategy[ButtonCommand] = st.one_of(
    searches,
    st.builds(MoreLikeThis, paper=paper_keys),
    st.just(Trending()),
    votes,
    st.builds(Discuss, paper=paper_keys),
)
