"""The thread a local model runs on, and the vectors it returns."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class ModelThread:
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


class ThreadedModel(ABC):
    """A local model whose every call runs on its own thread; subclasses embed in *_sync."""

    def __init__(self, name: str) -> None:
        self._thread = ModelThread()
        self._name = name
        self._dimension = 0  # set by the subclass once its model is loaded

    @property
    def name(self) -> str:
        """The model's name; vectors of different models must never meet in one index."""
        return self._name

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        return self._dimension

    @abstractmethod
    def queries_sync(self, texts: Sequence[str]) -> Vectors:
        """Embed questions in the calling thread."""

    @abstractmethod
    def documents_sync(self, texts: Sequence[str]) -> Vectors:
        """Embed knowledge texts in the calling thread."""

    async def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed questions in the model's thread."""
        return await self._thread.run(self.queries_sync, texts)

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed knowledge texts in the model's thread."""
        return await self._thread.run(self.documents_sync, texts)

    def close(self) -> None:
        """Stop the model's thread."""
        self._thread.close()


class SymmetricModel(ThreadedModel):
    """A model that embeds questions and knowledge texts alike, in embed_sync."""

    @abstractmethod
    def embed_sync(self, texts: Sequence[str]) -> Vectors:
        """Embed in the calling thread, L2-normalised."""

    def queries_sync(self, texts: Sequence[str]) -> Vectors:
        """Questions are embedded as knowledge texts are."""
        return self.embed_sync(texts)

    def documents_sync(self, texts: Sequence[str]) -> Vectors:
        """Knowledge texts are embedded as questions are."""
        return self.embed_sync(texts)
