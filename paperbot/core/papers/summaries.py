"""Extractive summaries: the one or two sentences of an abstract that say what the paper does.

Abstracts mostly open with background ("X is essential ...", "However, existing methods ..."),
so their first characters rarely say what the paper does. Sentences are scored by the phrases
authors use for their contribution ("we propose", "in this paper", "this work presents", the
method's name from the title), background phrasing counts against a sentence, and a second
sentence is added when it fits: what the method achieves, or how it works.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SUMMARY_CHARS = 400
_SPACE = re.compile(r"\s+")
# A sentence ends at . ! ? followed by space and a capital, digit, quote or bracket; or, where a
# line break was lost ("the time axis.Given a video"), directly by a capitalised word.
_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z0-9\"'(\[])|(?<=[a-z]{3}[.!?])(?=[A-Z][a-z]{2})")
_ABBREVIATION = re.compile(
    r"\b(?:e\.g|i\.e|et al|etc|vs|cf|Fig|Figs|Eq|Eqs|Sec|Tab|No|approx|resp|incl|viz|al|Dr|"
    r"Prof|Inc|St)\.$"
)
_CONTRIBUTION = re.compile(
    r"\b(?:we|this (?:paper|work|study|article|report|letter)|here(?:in)?,? we|our (?:work|paper))"
    r"\b(?:\W+\w+){0,3}?\W+(?<!recently )(?<!previously )(?<!widely )(?<!originally )"
    r"(?:propose[sd]?|introduce[sd]?|present(?:s|ed)?|develop(?:s|ed)?|"
    r"design(?:s|ed)?|describe[sd]?|build|built|release[sd]?|contribute[sd]?|devise[sd]?|"
    r"formulate[sd]?|offer(?:s|ed)?|provide[sd]?|put forward|establish(?:es|ed)?|"
    r"construct(?:s|ed)?|create[sd]?|curate[sd]?|collect(?:s|ed)?|derive[sd]?|"
    r"improve[sd]?|extend(?:s|ed)?|unveil(?:s|ed)?|open-source[sd]?)\b",
    re.IGNORECASE,
)
_FRAMING = re.compile(
    r"^(?:this (?:paper|work|study|article|report)|here(?:in)?,? we|"
    r"to (?:this end|address|tackle|overcome|solve|bridge|fill|close|remedy|answer)"
    r"|at the (?:core|heart) of our|we (?:aim|seek|set out))\b"
    r"|\bin this (?:paper|work|study|article)\b",
    re.IGNORECASE,
)
_WE = re.compile(r"\b(?:we|our (?:approach|method|framework|model|system|analysis))\b", re.I)
_RESULT = re.compile(
    r"\b(?:outperform\w*|state[- ]of[- ]the[- ]art|achiev\w+|surpass\w*|speed-?ups?|"
    r"(?:experiments?|results?|evaluations?|analys[ie]s)\W+(?:\w+\W+){0,3}?(?:show|demonstrate|"
    r"indicate|reveal|confirm|suggest)\w*|we (?:show|demonstrate|find|observe|prove))\b"
    r"|\d(?:\.\d+)?\s?(?:%|x\b|×)",
    re.IGNORECASE,
)
# A sentence about the paper's own method ("It", "Our model", "The proposed ..."), not background.
_ABOUT_IT = re.compile(
    r"\b(?:we|our|it|its|this|these|the proposed|the (?:method|model|approach|framework|system))\b",
    re.IGNORECASE,
)
_BACKGROUND = re.compile(
    r"^(?:however|recent(?:ly)?|existing|previous|prior|despite|while|although|traditional|"
    r"current|many|most|conventional)\b|\b(?:has|have) (?:been|shown|become|emerged|attracted|"
    r"gained|achieved|made)\b|\b(?:remains?|is still|are still) (?:an? )?(?:open|challenging|"
    r"unclear|difficult|limited)\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"^\s*([^:]{2,40}?)\s*:\s")


@dataclass(frozen=True)
class _Sentence:
    index: int
    text: str


def clean(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def sentences(text: str) -> list[str]:
    """The text's sentences; abbreviations (e.g., et al., Fig.) and initials do not end one."""
    text = clean(text)
    out: list[str] = []
    start = 0
    for match in _END.finditer(text):
        piece = text[start : match.start()].rstrip()
        if _ABBREVIATION.search(piece.rstrip("\"')]")):
            continue
        if text[start : match.start()].strip():
            out.append(text[start : match.start()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def _method_name(title: str) -> str | None:
    """The method's name when the title leads with one ("FRAug: Tackling ..." -> "FRAug")."""
    match = _NAME.match(title or "")
    if not match:
        return None
    name = match.group(1).strip()
    return name if len(name.split()) <= 3 else None


def _contribution(sentence: _Sentence, name: str | None) -> float:
    text = sentence.text
    score = 0.0
    if _CONTRIBUTION.search(text):
        score += 3.0
    if _FRAMING.search(text):
        score += 2.0
    if name and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text):
        score += 1.5
    if _WE.search(text):
        score += 1.0
    if _BACKGROUND.search(text) and not _FRAMING.search(text):
        score -= 2.0
    if text.endswith("?"):
        score -= 3.0  # a question the paper asks, not what it does
    # Earlier sentences break ties: the contribution is usually stated before the details.
    return score - 0.05 * sentence.index


def _about(text: str, name: str | None) -> bool:
    return bool(_ABOUT_IT.search(text) or (name and name in text))


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def summarize_abstract(abstract: str, *, title: str = "", limit: int = SUMMARY_CHARS) -> str:
    """One or two sentences saying what the paper does, within `limit` characters.

    The sentence that states the contribution comes first; a second one follows when it fits:
    a result or, failing that, the sentence right after when it is about the method too. With no
    contribution phrasing at all, the first sentence that is not background is used.
    """
    parts = [_Sentence(i, s) for i, s in enumerate(sentences(abstract))]
    if not parts:
        return ""
    if len(parts) == 1:
        return _clip(parts[0].text, limit)
    name = _method_name(title)
    best = max(parts, key=lambda s: _contribution(s, name))
    if _contribution(best, name) < 0.5:
        best = next((s for s in parts if not _BACKGROUND.search(s.text)), parts[0])
    if len(best.text) >= limit:
        return _clip(best.text, limit)
    later = [s for s in parts if s.index > best.index and not _BACKGROUND.search(s.text)]
    results = [s for s in later if _RESULT.search(s.text)]
    following = [s for s in later[:1] if s.index == best.index + 1 and _about(s.text, name)]
    room = limit - len(best.text) - 1
    for extra in [*results[:1], *following]:
        if len(extra.text) <= room:
            pair = sorted((best, extra), key=lambda s: s.index)
            return " ".join(s.text for s in pair)
    return best.text


def summarize(text: str, limit: int = SUMMARY_CHARS) -> str:
    """A short text as is (an AI summary), else cut at a sentence or word within `limit`."""
    text = clean(text)
    if len(text) <= limit:
        return text
    kept = ""
    for sentence in sentences(text):
        candidate = f"{kept} {sentence}".strip()
        if len(candidate) > limit:
            break
        kept = candidate
    return kept if len(kept) > limit // 2 else _clip(text, limit)


__all__ = ["SUMMARY_CHARS", "sentences", "summarize", "summarize_abstract"]
