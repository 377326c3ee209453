"""Shipped vectors of the bundled sample papers, keyed by embedding key and text hash, so a
first run (console, tests) gets semantic search without running the model on them.

    python -m paperbot.core.search.precomputed     # rewrite the file after a model change
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

FILE = "sample_embeddings.npz"


def _path() -> Path:
    return Path(str(resources.files("paperbot").joinpath("data", FILE)))


@lru_cache(maxsize=4)
def sample_vectors(key: str) -> dict[str, np.ndarray]:
    """text hash -> int8 passage vectors, when the file was made with this embedding key."""
    try:
        with np.load(_path(), allow_pickle=False) as data:
            if str(data["key"]) != key:
                return {}
            shas, counts, vectors = data["shas"], data["counts"], data["vectors"]
    except (OSError, KeyError, ValueError):
        return {}
    out: dict[str, np.ndarray] = {}
    start = 0
    for sha, n in zip(shas.tolist(), counts.tolist(), strict=True):
        out[str(sha)] = vectors[start : start + n]
        start += n
    return out


def sample_texts() -> list[tuple[str, str]]:
    """Every (title, abstract) of the bundled sample data: as the files have them, and as a
    seeded store holds them (ingest may clean text), so either form finds its vectors."""
    import tempfile
    from datetime import UTC, datetime

    from sqlalchemy import select

    from paperbot.core import db
    from paperbot.core.models import Paper
    from paperbot.core.papers.seed import sample_papers, seed_if_empty

    folder = resources.files("paperbot").joinpath("data")
    texts = [(p.title, p.abstract) for p in sample_papers()]
    for line in folder.joinpath("sample_papers.jsonl").read_text().splitlines():
        if line.strip():
            item = json.loads(line)
            texts.append((item["title"], item["abstract"]))
    with tempfile.TemporaryDirectory() as tmp:
        engine = db.create_db_engine(f"sqlite:///{tmp}/seed.db")
        db.upgrade(engine)
        factory = db.make_session_factory(engine)
        seed_if_empty(factory, now=datetime.now(UTC))
        with factory() as session:
            stored = session.execute(select(Paper.title, Paper.abstract)).all()
        texts.extend((title, abstract or "") for title, abstract in stored)
        engine.dispose()
    return list(dict.fromkeys(texts))


def write(path: Path | None = None) -> int:
    """Embed the sample texts with the bundled model and write the file; the number written."""
    from paperbot.config import SearchSettings
    from paperbot.core.search.model import SentenceModel, model_files
    from paperbot.core.search.passages import passages, quantize, text_sha

    settings = SearchSettings()
    model = SentenceModel(model_files(settings), max_tokens=settings.max_tokens)
    shas, counts, blocks = [], [], []
    for title, abstract in sample_texts():
        vectors = quantize(model.encode(passages(title, abstract)))
        shas.append(text_sha(title, abstract))
        counts.append(len(vectors))
        blocks.append(vectors)
    np.savez_compressed(
        path or _path(),
        key=np.array(model.key),
        shas=np.array(shas),
        counts=np.array(counts, dtype=np.int32),
        vectors=np.concatenate(blocks),
    )
    return len(shas)


if __name__ == "__main__":
    print(f"wrote {write()} papers' vectors to {_path()}")
