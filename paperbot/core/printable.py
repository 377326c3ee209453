"""Printable text: third-party text without terminal escapes, control or bidi characters.

One sanitizer for the whole product. Ingest runs it on everything a source brings, so the store
holds printable text; every renderer (console, CLI, Slack, Discord) runs it again on what it
shows (before its own escaping), so rows stored by an older paperbot cannot leak either.
"""

from __future__ import annotations

import re

# Terminal escape sequences: CSI (colours, cursor moves), OSC (window titles, hyperlinks) up to
# BEL or ST, the other two-byte ESC sequences, and their 8-bit C1 forms.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|\x9d[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
)
# Unicode's Bidi_Control characters (ALM, LRM, RLM, embeddings/overrides, isolates): they can
# make a title read backwards ("Trojan Source"). Shown text never needs them.
BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# C0 and C1 controls (tab and newline included: see `multiline`), DEL, line/paragraph
# separators, BOM/ZWNBSP and the interlinear annotation marks: each becomes a space.
_CONTROLS = "\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufff9-\ufffb"
_SURROGATE = re.compile("[\ud800-\udfff]")
_DROP = re.compile(f"[{BIDI}]")
_BLANK = re.compile(f"[{_CONTROLS}]")
_BLANK_LINE = re.compile(f"[\n{_CONTROLS}]")
_ANY = re.compile(f"[\n{_CONTROLS}{BIDI}\ud800-\udfff]")


def repair_surrogates(text: str) -> str:
    """Lone surrogates (a JSON "\\ud800" decodes to one) become U+FFFD: encodable everywhere."""
    return _SURROGATE.sub("\ufffd", text)


def printable(text: str | None, *, multiline: bool = False) -> str:
    """Text safe to store and show: escapes and bidi controls removed, other controls spaces.

    Line breaks become spaces too, unless `multiline` keeps them (CR LF and CR become LF).
    Spacing is left alone: renderers collapse whitespace as their layout needs.
    """
    if not text:
        return ""
    # The common cases, no copy: isprintable() is a C loop that is False for every character
    # below (and for some harmless ones, e.g. U+00A0, which the regex scan then lets through).
    if text.isprintable() or _ANY.search(text) is None:
        return text
    text = repair_surrogates(text)
    if "\x1b" in text or "\x9b" in text or "\x9d" in text:
        text = _ESCAPES.sub("", text)
    text = _DROP.sub("", text)
    if not multiline:
        return _BLANK_LINE.sub(" ", text)
    return _BLANK.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))


__all__ = ["BIDI", "printable", "repair_surrogates"]
