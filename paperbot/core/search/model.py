"""The sentence model: find and verify its files, load it once (lazily), embed passages.

onnxruntime and tokenizers are imported on first use only, so commands that never embed
(and searches on a store without embeddings) do not pay for them.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from paperbot.config import SearchSettings
from paperbot.core.errors import Unavailable

log = logging.getLogger(__name__)

BUNDLED = "all-minilm-l6-v2-int8"
BUNDLED_MODEL_SHA256 = "e3aa7afd00f63a30ce58548f75d0f4982884e756fc05a9dc2b3f719f054b3118"
BUNDLED_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
# Bump when passages, pooling or quantization change: stored embeddings are then remade.
RECIPE = 1


class ModelUnavailable(Unavailable):
    """The model cannot be used (missing, wrong checksum, not loadable): search is lexical."""


@dataclass(frozen=True)
class ModelFiles:
    """Where the model and its tokenizer are, and the checksums they must have (if known)."""

    model: Path
    tokenizer: Path
    model_sha256: str | None = None
    tokenizer_sha256: str | None = None

    @property
    def bundled(self) -> bool:
        return self.model_sha256 is not None


def model_files(settings: SearchSettings) -> ModelFiles:
    """The configured model (search.model_path / tokenizer_path), else the bundled one."""
    if settings.model_path is not None:
        tokenizer = settings.tokenizer_path or settings.model_path.with_name("tokenizer.json")
        return ModelFiles(settings.model_path, tokenizer)
    folder = Path(str(resources.files("paperbot").joinpath("data", "models", BUNDLED)))
    return ModelFiles(
        folder / "model.onnx",
        folder / "tokenizer.json",
        BUNDLED_MODEL_SHA256,
        BUNDLED_TOKENIZER_SHA256,
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class SentenceModel:
    """One ONNX sentence model per process: mean-pooled, L2-normalised passage vectors.

    `key` names what the vectors depend on (model and tokenizer checksums, token budget,
    recipe); embeddings are stored under it, so a different model never mixes with them.
    """

    def __init__(self, files: ModelFiles, *, max_tokens: int = 256, threads: int = 1) -> None:
        self.files = files
        self.max_tokens = max_tokens
        self.threads = threads
        self._lock = threading.Lock()
        self._key: str | None = None
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: tuple[str, ...] = ()
        self._failed: str | None = None

    @property
    def key(self) -> str:
        """The embedding key, e.g. "e3aa7afd…:be50c362:256:1" (checksums read once)."""
        if self._key is None:
            model = self.files.model_sha256 or sha256_of(self.files.model)
            tokenizer = self.files.tokenizer_sha256 or sha256_of(self.files.tokenizer)
            self._key = f"{model[:32]}:{tokenizer[:8]}:{self.max_tokens}:{RECIPE}"
        return self._key

    @property
    def problem(self) -> str | None:
        """Why the model is not usable, once loading was tried (None: fine or not tried)."""
        return self._failed

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def load(self) -> None:
        """Verify and load the model once; raises ModelUnavailable (and remembers why)."""
        with self._lock:
            if self._session is not None:
                return
            if self._failed is not None:
                raise ModelUnavailable(self._failed)
            try:
                self._load()
            except ModelUnavailable as exc:
                self._failed = str(exc)
                log.warning("semantic search is off, search is lexical only: %s", exc)
                raise

    def _load(self) -> None:
        files = self.files
        for path in (files.model, files.tokenizer):
            if not path.is_file():
                raise ModelUnavailable(f"no model file at {path}")
        expected = ((files.model, files.model_sha256), (files.tokenizer, files.tokenizer_sha256))
        for path, sha in expected:
            if sha is not None and sha256_of(path) != sha:
                raise ModelUnavailable(f"{path.name} does not have the checksum paperbot ships")
        try:
            import onnxruntime
            from tokenizers import Tokenizer

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            # The arena keeps the largest batch's buffers for the process's lifetime (hundreds
            # of MB after a backfill); without it memory follows the work being done.
            options.enable_cpu_mem_arena = False
            # Basic optimizations (constant folding, redundant nodes) only: with the extended
            # fusions (SkipLayerNormalization, FusedMatMul, Gelu) a backfill's batches ran
            # 15-20% slower on this project's machine (one query took the same time).
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
            session = onnxruntime.InferenceSession(
                str(files.model), options, providers=["CPUExecutionProvider"]
            )
            tokenizer = Tokenizer.from_file(str(files.tokenizer))
        except Exception as exc:  # a broken or foreign file: say so, keep searching lexically
            raise ModelUnavailable(f"cannot load {files.model.name}: {exc}") from None
        tokenizer.enable_truncation(self.max_tokens)
        tokenizer.no_padding()
        self._inputs = tuple(i.name for i in session.get_inputs())
        self._session, self._tokenizer = session, tokenizer

    def encode(self, texts: Sequence[str], *, batch: int = 16) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (batched by similar length)."""
        self.load()
        out: list[np.ndarray | None] = [None] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch):
            chunk = order[start : start + batch]
            vectors = self._run([texts[i] for i in chunk])
            for i, vector in zip(chunk, vectors, strict=True):
                out[i] = vector
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([v for v in out if v is not None])

    def _run(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        width = max(1, max(len(e.ids) for e in encodings))
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        output = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        if output.ndim == 3:  # per-token vectors: mean over the real tokens
            weights = mask[:, :, None].astype(np.float32)
            output = (output * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
        norms = np.linalg.norm(output, axis=1, keepdims=True)
        return (output / np.maximum(norms, 1e-12)).astype(np.float32)


__all__ = [
    "BUNDLED_MODEL_SHA256",
    "RECIPE",
    "ModelFiles",
    "ModelUnavailable",
    "SentenceModel",
    "model_files",
    "sha256_of",
]
