"""The search grammar: words, phrases, exclusions, author:, cat:, since:, page:, hostile input."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest

from paperbot.core.commands import MAX_QUERY_CHARS, ParseError
from paperbot.core.search import QueryTooLong, SearchQuery, normalize_paper_ref, parse_query

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_words_phrases_and_exclusions() -> None:
    q = parse_query('diffusion "video generation" -audio -"speech synthesis" models', now=NOW)
    assert q.terms == ("diffusion", "models")
    assert q.phrases == ("video generation",)
    assert q.excluded_terms == ("audio",)
    assert q.excluded_phrases == ("speech synthesis",)


def test_hyphenated_words_are_words_not_exclusions() -> None:
    q = parse_query("self-supervised text-to-image", now=NOW)
    assert q.terms == ("self-supervised", "text-to-image")
    assert q.excluded_terms == ()


def test_author_and_category_filters() -> None:
    q = parse_query('author:"Geoffrey Hinton" by:lecun cat:cs.CV,cs.LG CAT:stat.ML gan', now=NOW)
    assert q.authors == ("Geoffrey Hinton", "lecun")
    assert q.categories == ("cs.cv", "cs.lg", "stat.ml")
    assert q.terms == ("gan",)


@pytest.mark.parametrize(
    ("text", "authors", "categories", "terms"),
    [
        ("author: hinton diffusion", ("hinton",), (), ("diffusion",)),
        ('author: "yann lecun"', ("yann lecun",), (), ()),
        ("cat: cs.RO robots", (), ("cs.ro",), ("robots",)),
    ],
)
def test_a_filter_value_may_follow_a_space(
    text: str, authors: tuple[str, ...], categories: tuple[str, ...], terms: tuple[str, ...]
) -> None:
    q = parse_query(text, now=NOW)
    assert (q.authors, q.categories, q.terms, q.notes) == (authors, categories, terms, ())


@pytest.mark.parametrize("text", ["author:", "diffusion cat:", "author: cat:cs.LG"])
def test_a_filter_with_no_value_is_a_note_not_a_word(text: str) -> None:
    """`author:` alone once searched the word "author", and found unrelated papers by
    meaning."""
    q = parse_query(text, now=NOW)
    assert "author" not in q.terms and "cat" not in q.terms
    assert len(q.notes) == 1 and "needs a value after it" in q.notes[0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7d", date(2026, 11, 20)),
        ("2w", date(2026, 11, 13)),
        ("1m", date(2026, 10, 28)),
        ("1y", date(2025, 11, 27)),
        ("2026-11-01", date(2026, 11, 1)),
        ("today", date(2026, 11, 27)),
        ("yesterday", date(2026, 11, 26)),
        ("999999y", date.min),
    ],
)
def test_since_is_resolved_against_now(value: str, expected: date) -> None:
    assert parse_query(f"transformers since:{value}", now=NOW).since == expected


@pytest.mark.parametrize("value", ["soon", "2026-13-45", "", "7x"])
def test_a_bad_since_is_ignored_with_a_friendly_note(value: str) -> None:
    q = parse_query(f"transformers since:{value}", now=NOW)
    assert q.since is None
    assert q.terms == ("transformers",)
    assert q.notes and "since:7d" in q.notes[0]


def test_page_and_unknown_fields_are_words() -> None:
    q = parse_query("Mamba: linear-time page:3 foo:bar", now=NOW)
    assert q.page == 3
    assert q.terms == ("Mamba", "linear-time", "foo bar")
    assert parse_query("x page:999", now=NOW).page == 50


def test_filters_only_and_empty() -> None:
    assert parse_query("cat:cs.CV since:7d", now=NOW).has_text is False
    assert parse_query("cat:cs.CV", now=NOW).is_empty is False
    for text in ("", "   ", "!!!", "🙂🙂", '"', "-", "--", "*", "()"):
        assert parse_query(text, now=NOW).is_empty, text


def test_unbalanced_quotes_and_punctuation_become_words() -> None:
    q = parse_query("\"diffusion models (AND( it's *", now=NOW)
    assert "diffusion" in q.terms and "models" in q.terms
    assert q.phrases == ()


def test_smart_quotes_make_phrases() -> None:
    assert parse_query("\u201cvision transformer\u201d", now=NOW).phrases == ("vision transformer",)


def test_too_long_queries_are_refused_with_a_message() -> None:
    parse_query("a" * MAX_QUERY_CHARS, now=NOW)
    with pytest.raises(QueryTooLong) as err:
        parse_query("a" * (MAX_QUERY_CHARS + 1), now=NOW)
    assert isinstance(err.value, ParseError)
    assert str(MAX_QUERY_CHARS) in str(err.value)


_ALPHABET = (
    list("abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789")
    + list("\"'`-:*()[]{}<>!?.,;/\\|&^%$#@~+=_")
    + [
        "\u201c",
        "\u201d",
        "\x00",
        "\x07",
        "\t",
        "\n",
        "\u200b",
        "\ufeff",
        "é",
        "ß",
        "中",
        "🙂",
        "👩‍🔬",
    ]
    + ["author:", "cat:", "since:", "page:", "AND(", "OR", "NOT", '-"', "since:7d", "since:-1d"]
)


def hostile(rng: random.Random) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 80)))


def test_hostile_input_never_raises() -> None:
    rng = random.Random(20261127)
    for _ in range(3000):
        text = hostile(rng)
        q = parse_query(text, now=NOW)
        assert isinstance(q, SearchQuery)
        assert all(t.strip() for t in q.terms)
        assert all("\x00" not in t for t in (*q.terms, *q.phrases, *q.authors))


def test_hostile_long_input_never_runs() -> None:
    rng = random.Random(7)
    for _ in range(200):
        text = (hostile(rng) + "x") * 20
        if len(text) > MAX_QUERY_CHARS:
            with pytest.raises(QueryTooLong):
                parse_query(text, now=NOW)


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("2401.01234", "2401.01234"),
        ("2401.01234v3", "2401.01234"),
        ("arXiv:2401.01234v2", "2401.01234"),
        ("https://arxiv.org/abs/2401.01234v2", "2401.01234"),
        ("<https://arxiv.org/pdf/2401.01234.pdf>", "2401.01234"),
        ("https://huggingface.co/papers/2401.01234", "2401.01234"),
        ("hep-th/9901001v1", "hep-th/9901001"),
        ("title:abc123", "title:abc123"),
    ],
)
def test_paper_refs_are_normalised(ref: str, expected: str) -> None:
    assert normalize_paper_ref(ref) == expected
