"""What every source yields (PaperIn) and the normalisation they share: ids, title keys, markup."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from paperbot.core.errors import Unavailable
from paperbot.core.papers.sources.fields import tidy
from paperbot.core.printable import printable


class SourceError(Unavailable):
    """A source could not be fetched or parsed; the message is short and safe to log."""


_ID_PREFIX = re.compile(
    r"^(?:oai:arxiv\.org:|arxiv:|https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/)",
    re.IGNORECASE,
)
_NEW_ID = re.compile(r"(\d{4}\.\d{4,5})(?:v\d+)?")
_OLD_ID = re.compile(r"([a-z][a-z\-]*(?:\.[A-Za-z\-]{2,})?/\d{7})(?:v\d+)?")


# The longest real ids (old style, "math.AG/0601001") are ~20 characters; the column holds 32.
MAX_ID_CHARS = 32


def normalize_arxiv_id(raw: str | None) -> str | None:
    """The versionless arXiv id from 'oai:arXiv.org:…', '…/abs/…vN', 'arXiv:…' forms, or None."""
    if not raw or len(raw) > 200:
        return None
    text = _ID_PREFIX.sub("", raw.strip())
    text = text.removesuffix(".pdf")
    match = _NEW_ID.fullmatch(text) or _OLD_ID.fullmatch(text)
    return match.group(1) if match and len(match.group(1)) <= MAX_ID_CHARS else None


_WORD = re.compile(r"[^\W_]+")


def normalize_title(title: str) -> str:
    """Case, accents, punctuation and spacing removed, so trivial variants share a key."""
    if title.isascii():
        text = title.lower()
    else:
        text = unicodedata.normalize("NFKD", title)
        text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(_WORD.findall(text))


def title_key(title: str) -> str:
    """The identity of a paper without an arXiv id: a stable hash of its normalised title."""
    digest = hashlib.blake2b(normalize_title(title).encode(), digest_size=16).hexdigest()
    return f"title:{digest}"


def paper_key(arxiv_id: str | None, title: str) -> str:
    return arxiv_id or title_key(title)


# --- markup -> display text -------------------------------------------------------------------

_MARKUP_CHARS = re.compile(r"[$\\<&{}~`]|--|''")
_HTML_TAG = re.compile(
    r"</?(?:p|br|i|b|em|strong|sub|sup|a|span|div|ul|ol|li|code|pre|tt|u|font|h\d|math|mi|mo|mn)"
    r"(?:\s+[\w:-]+=(?:\"[^\"]*\"|'[^']*'|[^\s>]+))*\s*/?>",
    re.IGNORECASE,
)
_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
}
_ACCENT = re.compile(r"\{?\\([`'^\"~=.])\s*\{?([A-Za-z])\}?\}?|\{?\\([uvHck])\{([A-Za-z])\}\}?")
_SYMBOLS = {
    "times": "×", "cdot": "·", "pm": "±", "mp": "∓", "sim": "~", "approx": "≈", "simeq": "≃",
    "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "neq": "≠", "ne": "≠", "ll": "≪", "gg": "≫",
    "infty": "∞", "partial": "∂", "nabla": "∇", "sum": "∑", "prod": "∏", "int": "∫",
    "rightarrow": "→", "to": "→", "leftarrow": "←", "Rightarrow": "⇒", "Leftarrow": "⇐",
    "leftrightarrow": "↔", "mapsto": "↦", "in": "∈", "notin": "∉", "subset": "⊂",
    "subseteq": "⊆", "cup": "∪", "cap": "∩", "forall": "∀", "exists": "∃", "ell": "ℓ",
    "ldots": "…", "dots": "…", "cdots": "⋯", "circ": "∘", "deg": "°", "prime": "′",
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ",
    "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ",
    "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ",
    "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ",
    "Omega": "Ω", "log": "log", "exp": "exp", "max": "max", "min": "min", "quad": " ",
    "qquad": " ", "left": "", "right": "", "big": "", "Big": "", "displaystyle": "",
    "textbackslash": "\\",
}  # fmt: skip
_ESCAPED = re.compile(r"\\([%&_#$ ,;:!])")
_COMMAND = re.compile(r"\\([A-Za-z]+)\*?")
_HREF = re.compile(r"\\href\{[^{}]*\}\{([^{}]*)\}")
_MATH = re.compile(r"\$\$?([^$]+?)\$\$?")
_SCRIPT = re.compile(r"([\^_])\{([^{}]*)\}")
_QUOTES = (("``", "“"), ("''", "”"), ("---", "—"), ("--", "–"))


def _accent(match: re.Match[str]) -> str:
    mark, letter = (match.group(1), match.group(2)) if match.group(1) else match.group(3, 4)
    return unicodedata.normalize("NFC", letter + _ACCENTS[mark])


def _command(match: re.Match[str]) -> str:
    name = match.group(1)
    return _SYMBOLS.get(name, "" if len(name) > 1 else name)


def _latex(text: str) -> str:
    text = _HREF.sub(r"\1", text)
    text = _ACCENT.sub(_accent, text)
    text = _MATH.sub(lambda m: m.group(1), text)
    text = text.replace("\\\\", " ")
    text = _ESCAPED.sub(lambda m: "" if m.group(1) in ",;:!" else m.group(1), text)
    text = _COMMAND.sub(_command, text)
    text = _SCRIPT.sub(r"\1\2", text)
    text = text.replace("{", "").replace("}", "").replace("~", " ")
    for old, new in _QUOTES:
        text = text.replace(old, new)
    return text


def clean_text(text: str | None) -> str:
    """Display text: HTML and LaTeX markup removed, printable (see core.printable), one line."""
    if not text:
        return ""
    if _MARKUP_CHARS.search(text):
        if "<" in text or "&" in text:
            text = html.unescape(_HTML_TAG.sub("", text))
        if "\\" in text or "$" in text or "{" in text or "`" in text or "--" in text:
            text = _latex(text)
    # Last, so what entities spell ("&#x202e;") is caught too.
    return " ".join(printable(text).split())


_GITHUB = re.compile(r"https?://(?:www\.)?github\.com/[\w.-]+/[\w.-]+")


def find_github_repo(text: str | None) -> str | None:
    """The first GitHub repository URL in a text ("code is available at …"), or None."""
    match = _GITHUB.search(text or "")
    return match.group(0).rstrip(".").removesuffix(".git") if match else None


def to_date(value: object) -> date | None:
    """A date from an ISO date/datetime string (or date), else None; never raises."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


@dataclass(slots=True)
class PaperIn:
    """One paper as a source reports it, before it is merged into the store."""

    title: str
    abstract: str = ""
    arxiv_id: str | None = None
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    published: date | None = None
    # The day the paper reached a feed; None lets ingest use `published`, then the ingest day.
    announced: date | None = None
    url: str | None = None
    pdf_url: str | None = None
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    thumbnail: str | None = None
    ai_summary: str | None = None
    ai_keywords: list[str] = field(default_factory=list)
    organization: str | None = None
    # Signals: None means "this source does not report it" (keeps the stored value).
    upvotes: int | None = None
    comments: int | None = None
    source: str = "file"
    key: str = field(init=False)

    def __post_init__(self) -> None:
        tidy(self)
        self.arxiv_id = normalize_arxiv_id(self.arxiv_id)
        self.key = paper_key(self.arxiv_id, self.title)

    @property
    def has_signals(self) -> bool:
        return self.upvotes is not None or self.comments is not None


__all__ = [
    "MAX_ID_CHARS",
    "PaperIn",
    "SourceError",
    "clean_text",
    "find_github_repo",
    "normalize_arxiv_id",
    "normalize_title",
    "paper_key",
    "title_key",
    "to_date",
]
