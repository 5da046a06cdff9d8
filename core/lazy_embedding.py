"""An embedder that loads its model only when something is embedded, and can let it go again.

A process that never answers (webhooks only) still names the model and its dimension for the
vector collections it opens, and embeds only for rare jobs (the weekly report, a first-run
ingest); it holds the model for those minutes, not for its lifetime.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from core.embedding import DUAL, E5_SMALL, MINILM, LocalEmbedder, Vectors, model_family

KNOWN_DIMENSIONS = {MINILM: 384, E5_SMALL: 384, DUAL: 768}
"""The bundled models' vector lengths, known without loading them."""


class LazyEmbedder:
    """Loads the model on first use; `release` frees it until the next use."""

    def __init__(self, name: str, load: Callable[[], LocalEmbedder]) -> None:
        self._name = name
        self._load = load
        self._model: LocalEmbedder | None = None
        self._lock = asyncio.Lock()

    @property
    def name(self) -> str:
        """The configured model's name, the same the loaded model reports."""
        return self._name

    @property
    def dimension(self) -> int:
        """Length of each vector; known for the bundled models, else from the loaded model."""
        if self._model is not None:
            return self._model.dimension
        if (family := model_family(self._name)) in KNOWN_DIMENSIONS:
            return KNOWN_DIMENSIONS[family]
        raise RuntimeError(f"load model {self._name!r} before asking its dimension")

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory now."""
        return self._model is not None

    async def model(self) -> LocalEmbedder:
        """The loaded model, loading it (off the event loop) if needed."""
        async with self._lock:
            if self._model is None:
                self._model = await asyncio.to_thread(self._load)
            return self._model

    async def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed questions, loading the model first if needed."""
        return await (await self.model()).embed_queries(texts)

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed knowledge texts, loading the model first if needed."""
        return await (await self.model()).embed_documents(texts)

    async def release(self) -> None:
        """Free the model; the next embedding loads it again."""
        async with self._lock:
            model, self._model = self._model, None
        if model is not None:
            model.close()

    def close(self) -> None:
        """Stop the model's thread, if it was loaded."""
        if self._model is not None:
            self._model.close()
            self._model = None
