"""Text analysis shared by the index and queries: tokenisers, stems, acronyms, compounds."""

from __future__ import annotations

import re
from functools import lru_cache

from tantivy import Filter, TextAnalyzer, TextAnalyzerBuilder, Tokenizer

from paperbot.core.search.lexicon import ACRONYMS, COMPOUND_PREFIXES, STOPWORDS

TEXT_TOKENIZER = "paperbot_en"
NAME_TOKENIZER = "paperbot_name"

# "LLMs", "GNNs", "ViTs", "NeRFs": the English stemmer keeps the "s", so fold it before.
_ACRONYM_PLURAL = re.compile(r"\b([A-Z][A-Za-z0-9]*[A-Z][0-9]*)s\b")
# Every acronym plural ends like this; a quick scan for it skips most texts (indexing speed).
_PLURAL_END = re.compile(r"[A-Z][0-9]*s\b")
# An apostrophe and the clitic after it; "n't" keeps its "n" ("don't" -> "don").
_CLITIC = re.compile(r"(?<=\w)['\u2019](?:s|re|ve|ll|d|m|t)?\b", re.IGNORECASE)


def fold_acronym_plurals(text: str) -> str:
    """Turn "LLMs" into "LLM" so plural and singular acronyms share one index term."""
    return _ACRONYM_PLURAL.sub(r"\1", text) if _PLURAL_END.search(text) else text


def fold(text: str) -> str:
    """What the tokenizer sees: clitics dropped ("what's" -> "what", "Bird's" -> "Bird", so no
    stray "s" term matches every possessive) and acronym plurals folded."""
    if "'" in text or "\u2019" in text:
        text = _CLITIC.sub("", text).replace("\u2019", "'")
    return fold_acronym_plurals(text)


def _build_text_analyzer() -> TextAnalyzer:
    return (
        TextAnalyzerBuilder(Tokenizer.simple())
        .filter(Filter.remove_long(40))
        .filter(Filter.lowercase())
        .filter(Filter.ascii_fold())
        .filter(Filter.stemmer("english"))
        .build()
    )


def _build_name_analyzer() -> TextAnalyzer:
    return (
        TextAnalyzerBuilder(Tokenizer.simple())
        .filter(Filter.remove_long(40))
        .filter(Filter.lowercase())
        .filter(Filter.ascii_fold())
        .build()
    )


@lru_cache(maxsize=1)
def text_analyzer() -> TextAnalyzer:
    """The analyzer of title/keywords/abstract: simple tokens, lowercase, ASCII fold, stem."""
    return _build_text_analyzer()


@lru_cache(maxsize=1)
def name_analyzer() -> TextAnalyzer:
    """The analyzer of author names: no stemming."""
    return _build_name_analyzer()


def analyze(text: str) -> list[str]:
    """Index terms of some text, exactly as the index produces them."""
    return list(text_analyzer().analyze(fold(text)))


def analyze_name(text: str) -> list[str]:
    return list(name_analyzer().analyze(text))


@lru_cache(maxsize=4096)
def analyze_cached(text: str) -> tuple[str, ...]:
    return tuple(analyze(text))


def _acronym_plural_stem(stem: str) -> str:
    """Query side: lowercase "llms" was not folded by the regex; fold known acronyms here."""
    if stem.endswith("s") and stem[:-1] in ACRONYMS:
        return stem[:-1]
    return stem


@lru_cache(maxsize=1)
def stop_stems() -> frozenset[str]:
    return frozenset(s for w in STOPWORDS for s in analyze(w))


@lru_cache(maxsize=1)
def expansion_index() -> dict[tuple[str, ...], str]:
    """Analyzed expansion (e.g. ("larg", "languag", "model")) -> its acronym."""
    return {analyze_cached(expansion): acro for acro, expansion in ACRONYMS.items()}


def acronym_expansion(stem: str) -> tuple[str, ...] | None:
    """The analyzed expansion of an acronym term, e.g. "llm" -> ("larg", "languag", "model")."""
    expansion = ACRONYMS.get(_acronym_plural_stem(stem))
    return analyze_cached(expansion) if expansion else None


def split_compound(stem: str) -> tuple[str, str] | None:
    """ "finetun" -> ("fine", "tun")-style splits for words written joined."""
    for prefix in COMPOUND_PREFIXES:
        rest = stem[len(prefix) :]
        if stem.startswith(prefix) and len(rest) >= 3:
            tail = analyze_cached(rest)
            if len(tail) == 1:
                return prefix, tail[0]
    return None


_DIGIT_TO = re.compile(r"(?<=[A-Za-z])[24](?=[A-Za-z]{3})")


def query_stems(word: str) -> list[str]:
    """A user word's index terms, with acronym plurals folded ("text2image" -> text to image)."""
    word = _DIGIT_TO.sub(lambda m: " to " if m.group() == "2" else " for ", word)
    return [_acronym_plural_stem(s) for s in analyze_cached(word)]


__all__ = [
    "NAME_TOKENIZER",
    "TEXT_TOKENIZER",
    "acronym_expansion",
    "analyze",
    "analyze_name",
    "expansion_index",
    "fold",
    "fold_acronym_plurals",
    "name_analyzer",
    "query_stems",
    "split_compound",
    "stop_stems",
    "text_analyzer",
]
