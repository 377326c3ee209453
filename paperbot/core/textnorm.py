"""Shared text analysis for search: tokenisers, acronym plurals, acronyms, compounds, synonyms."""

from __future__ import annotations

import re
from functools import lru_cache

from tantivy import Filter, TextAnalyzer, TextAnalyzerBuilder, Tokenizer

TEXT_TOKENIZER = "paperbot_en"
NAME_TOKENIZER = "paperbot_name"

# "LLMs", "GNNs", "ViTs", "NeRFs": the English stemmer keeps the "s", so fold it before.
_ACRONYM_PLURAL = re.compile(r"\b([A-Z][A-Za-z0-9]*[A-Z][0-9]*)s\b")
# Every acronym plural ends like this; a quick scan for it skips most texts (indexing speed).
_PLURAL_END = re.compile(r"[A-Z][0-9]*s\b")

# Said by users, meant as nothing: dropped from queries (kept when a query has nothing else).
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "over",
        "paper",
        "papers",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "this",
        "those",
        "to",
        "using",
        "via",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "why",
        "with",
        "without",
        "you",
        "your",
        "about",
        "any",
        "all",
        "new",
        "recent",
        "some",
    ]
)

# Acronym -> expansion. Both directions are used: "LLM" also finds "large language model",
# and "large language models" also finds "LLM".
ACRONYMS: dict[str, str] = {
    "ai": "artificial intelligence",
    "amr": "abstract meaning representation",
    "asr": "automatic speech recognition",
    "bev": "bird's eye view",
    "cnn": "convolutional neural network",
    "cot": "chain of thought",
    "ctr": "click through rate",
    "cv": "computer vision",
    "ddpm": "denoising diffusion probabilistic model",
    "dit": "diffusion transformer",
    "dpo": "direct preference optimization",
    "dl": "deep learning",
    "dnn": "deep neural network",
    "drl": "deep reinforcement learning",
    "ebm": "energy based model",
    "fl": "federated learning",
    "gan": "generative adversarial network",
    "gcn": "graph convolutional network",
    "gnn": "graph neural network",
    "icl": "in context learning",
    "inr": "implicit neural representation",
    "kan": "kolmogorov arnold network",
    "kd": "knowledge distillation",
    "ldm": "latent diffusion model",
    "llm": "large language model",
    "lm": "language model",
    "lora": "low rank adaptation",
    "lstm": "long short term memory",
    "mae": "masked autoencoder",
    "mcts": "monte carlo tree search",
    "mim": "masked image modeling",
    "ml": "machine learning",
    "mllm": "multimodal large language model",
    "mlp": "multilayer perceptron",
    "moe": "mixture of experts",
    "mt": "machine translation",
    "nas": "neural architecture search",
    "nerf": "neural radiance field",
    "nlp": "natural language processing",
    "nmt": "neural machine translation",
    "ood": "out of distribution",
    "peft": "parameter efficient fine tuning",
    "pii": "personally identifiable information",
    "qa": "question answering",
    "rag": "retrieval augmented generation",
    "rl": "reinforcement learning",
    "rlhf": "reinforcement learning from human feedback",
    "rnn": "recurrent neural network",
    "sdf": "signed distance function",
    "sgd": "stochastic gradient descent",
    "snn": "spiking neural network",
    "ssl": "self supervised learning",
    "ssm": "state space model",
    "t2i": "text to image",
    "td": "temporal difference",
    "tts": "text to speech",
    "vae": "variational autoencoder",
    "vit": "vision transformer",
    "vlm": "vision language model",
    "vqa": "visual question answering",
}

# Words often written joined, hyphenated or apart ("fine-tuning", "finetuning", "fine tuning").
COMPOUND_PREFIXES = (
    "pre",
    "fine",
    "self",
    "multi",
    "co",
    "non",
    "semi",
    "cross",
    "post",
    "zero",
    "few",
    "meta",
    "hyper",
    "auto",
    "over",
    "under",
    "sub",
    "super",
)

# Plain-language words -> the stem the literature uses (query side only, low weight).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "pictur": ("imag",),
    "photo": ("imag",),
    "photograph": ("imag",),
    "movi": ("video",),
    "film": ("video",),
    "speech": ("audio", "spoken", "voic"),
    "voic": ("speech", "audio", "speaker"),
    "sound": ("audio",),
    "audio": ("sound", "speech"),
    "robot": ("embodi", "manipul"),
    "smaller": ("compress", "quantiz"),
    "compress": ("quantiz",),
    "quantiz": ("compress",),
    "shrink": ("compress", "quantiz", "prune"),
    "faster": ("effici", "acceler"),
    "speed": ("effici", "acceler"),
    "cheap": ("effici",),
    "explain": ("interpret", "explan"),
    "interpret": ("explan", "transpar"),
    "car": ("autonom", "drive"),
    "symmetri": ("equivari", "invari"),
    "equivari": ("invari",),
    "invari": ("equivari",),
    "privat": ("privaci", "feder", "decentr"),
    "privaci": ("feder", "anonym"),
    "remov": ("erasur", "eras"),
    "delet": ("erasur", "eras"),
    "forget": ("erasur", "unlearn"),
    "paint": ("style", "artist"),
    "look": ("style", "appear"),
    "label": ("supervis", "annot"),
    "unlabel": ("unsupervis", "self"),
    "unsupervis": ("self",),
    "survey": ("review",),
    "review": ("survey",),
    "overview": ("survey", "review"),
    "embed": ("represent",),
}


def fold_acronym_plurals(text: str) -> str:
    """Turn "LLMs" into "LLM" so plural and singular acronyms share one index term."""
    return _ACRONYM_PLURAL.sub(r"\1", text) if _PLURAL_END.search(text) else text


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
    return list(text_analyzer().analyze(fold_acronym_plurals(text)))


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
    "ACRONYMS",
    "NAME_TOKENIZER",
    "STOPWORDS",
    "SYNONYMS",
    "TEXT_TOKENIZER",
    "acronym_expansion",
    "analyze",
    "analyze_name",
    "expansion_index",
    "fold_acronym_plurals",
    "name_analyzer",
    "query_stems",
    "split_compound",
    "stop_stems",
    "text_analyzer",
]
