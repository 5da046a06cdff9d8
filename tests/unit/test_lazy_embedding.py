"""A process that rarely embeds loads the model on first use and can let it go."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from core.embedding import DUAL, Vectors
from core.lazy_embedding import LazyEmbedder


class CountingModel:
    """A two-dimensional stand-in that notes when it is closed."""

    name = DUAL
    dimension = 2

    def __init__(self) -> None:
        self.closed = False

    async def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return np.ones((len(texts), 2), dtype=np.float32)

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return np.zeros((len(texts), 2), dtype=np.float32)

    def close(self) -> None:
        self.closed = True


async def test_the_model_loads_on_first_use_and_once() -> None:
    loaded: list[CountingModel] = []

    def load() -> CountingModel:
        loaded.append(CountingModel())
        return loaded[-1]

    lazy = LazyEmbedder(DUAL, load)
    assert (lazy.name, lazy.dimension, lazy.loaded) == (DUAL, 768, False)
    assert not loaded
    await lazy.embed_queries(["a"])
    await lazy.embed_documents(["b", "c"])
    assert len(loaded) == 1 and lazy.loaded


async def test_release_frees_the_model_and_the_next_use_loads_it_again() -> None:
    loaded: list[CountingModel] = []

    def load() -> CountingModel:
        loaded.append(CountingModel())
        return loaded[-1]

    lazy = LazyEmbedder(DUAL, load)
    await lazy.embed_queries(["a"])
    await lazy.release()
    assert loaded[0].closed and not lazy.loaded
    vectors = await lazy.embed_documents(["b"])
    assert vectors.shape == (1, 2) and len(loaded) == 2


def test_an_unknown_model_has_no_dimension_until_loaded() -> None:
    lazy = LazyEmbedder("/models/my-own", CountingModel)
    with pytest.raises(RuntimeError, match="load model"):
        _ = lazy.dimension
