"""Paper references as users type them: arXiv ids and URLs, Hugging Face URLs, paper keys."""

from __future__ import annotations

import re

from paperbot.core.commands import clean_text

_ARXIV_URL = re.compile(r"arxiv\.org/(?:abs|pdf|html)/([^\s?#]+?)(?:\.pdf)?/?(?:[?#].*)?$", re.I)
_ARXIV_VERSION = re.compile(r"^(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})v\d+$", re.I)
_HF_URL = re.compile(r"huggingface\.co/papers/([^\s?#/]+)", re.I)


def normalize_paper_ref(ref: str) -> str:
    """An arXiv URL, "arXiv:2401.01234v2" or "2401.01234v2" -> "2401.01234"; keys unchanged."""
    ref = clean_text(ref).strip("<>").strip()
    for pattern in (_ARXIV_URL, _HF_URL):
        match = pattern.search(ref)
        if match:
            ref = match.group(1)
            break
    if ref.lower().startswith("arxiv:"):
        ref = ref[6:]
    version = _ARXIV_VERSION.match(ref)
    return version.group(1) if version else ref


__all__ = ["normalize_paper_ref"]
