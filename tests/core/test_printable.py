"""The one sanitizer: terminal escapes, controls, bidi overrides and lone surrogates never pass."""

from __future__ import annotations

import unicodedata

import pytest

from paperbot.core.printable import printable, repair_surrogates

HOSTILE = {
    "CSI colour": ("a\x1b[31mred\x1b[0m b", "ared b"),
    "clear screen": ("x\x1b[2J\x1b[Hy", "xy"),
    "OSC title (BEL)": ("x\x1b]0;pwned\x07y", "xy"),
    "OSC hyperlink (ST)": ("\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\", "click"),
    "8-bit CSI": ("a\x9b2Jb", "ab"),
    "two-byte ESC": ("a\x1bcb", "ab"),
    "lone ESC": ("a\x1b", "a"),
    "RLO override": ("evil\u202etxt.exe", "eviltxt.exe"),
    "isolates": ("\u2066a\u2067b\u2068c\u2069", "abc"),
    "marks": ("\u200ea\u200fb\u061c", "ab"),
    "NUL and BEL": ("a\x00b\x07c", "a b c"),
    "DEL and C1": ("a\x7fb\x85c", "a b c"),
    "line separators": ("a\u2028b\u2029c", "a b c"),
    "BOM": ("\ufeffa", " a"),
    "tab and newline": ("a\tb\nc\r\nd", "a b c  d"),
    "lone surrogates": ("a\ud800b\udfffc", "a\ufffdb\ufffdc"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_text_becomes_printable(case: str) -> None:
    raw, expected = HOSTILE[case]
    assert printable(raw) == expected


def test_every_control_and_bidi_character_is_gone() -> None:
    every = "".join(chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)])
    bidi = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    for text in (printable(every + bidi), printable(every + bidi, multiline=True)):
        assert all(unicodedata.category(ch) != "Cc" or ch == "\n" for ch in text)
        assert not set(bidi) & set(text)
    assert "\n" not in printable("a\nb") and printable("a\r\nb\rc", multiline=True) == "a\nb\nc"


def test_ordinary_text_is_kept_as_is() -> None:
    text = "Attention Is All You Need — Ünïcödé, 中文, emoji 👩‍🔬, zero\u200bwidth, ×≤α"
    assert printable(text) is text
    assert printable(None) == "" and printable("") == ""
    assert printable("spacing  kept ") == "spacing  kept "


def test_repaired_text_encodes_for_any_database() -> None:
    repaired = repair_surrogates("x\udc80y")
    repaired.encode("utf-8")
    assert printable("\udcff").encode("utf-8") == "\ufffd".encode()
