"""The bundled MiniLM on ONNX Runtime: the vectors of sentence-transformers, exported once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import onnx_embedding
from core.embedding import MINILM, default_cache_dir, load_embedder, resolve_model_path
from core.onnx_embedding import OnnxEmbedder, _batches, cached_model
from core.onnx_export import export_model

TEXTS = [
    "What time do you close on Sunday?",
    "do u all got halal cert or not ah",
    "你们星期天几点关门？",
    "Boleh saya bayar dengan PayNow?",
    "",
    # Longer than the model's 256 tokens: both sides must cut it the same way.
    " ".join(f"word{i} of a long passage about cakes and delivery" for i in range(120)),
]


@pytest.fixture(scope="module")
def onnx_minilm() -> OnnxEmbedder:
    embedder = load_embedder(MINILM)
    assert isinstance(embedder, OnnxEmbedder)
    return embedder


def test_the_onnx_vectors_are_sentence_transformers_vectors(onnx_minilm: OnnxEmbedder) -> None:
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(resolve_model_path(MINILM), device="cpu")
    expected = reference.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    got = onnx_minilm.embed_sync(TEXTS)
    assert got.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(got * expected, axis=1)) > 0.9999


def test_a_batch_gives_each_text_the_vector_it_gets_alone(onnx_minilm: OnnxEmbedder) -> None:
    together = onnx_minilm.embed_sync(TEXTS)
    for row, text in enumerate(TEXTS):
        alone = onnx_minilm.embed_sync([text])[0]
        assert float(together[row] @ alone) > 0.9999, text


def test_answering_needs_no_torch(tmp_path: Path) -> None:
    load_embedder(MINILM)  # exported already (or now) into the shared cache
    probe = (
        "import sys; from core.embedding import load_embedder; "
        "load_embedder('all-MiniLM-L6-v2').embed_sync(['hi']); "
        "print(sorted({'torch', 'transformers', 'sentence_transformers'} & set(sys.modules)))"
    )
    env = {**os.environ, "MODEL_CACHE_DIR": str(default_cache_dir().resolve())}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True, text=True, env=env, cwd=Path(__file__).parents[2], check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "[]"


def test_the_model_is_exported_once_and_then_read_from_the_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model_dir = Path(resolve_model_path(MINILM))
    first = cached_model(model_dir, default_cache_dir(), MINILM, int8=False)

    def no_second_export(*args: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_embedding, "export_model", no_second_export)
    assert cached_model(model_dir, default_cache_dir(), MINILM, int8=False) == first


def test_a_failed_export_says_so_and_leaves_no_file(tmp_path: Path) -> None:
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    out = tmp_path / "cache" / "model.onnx"
    out.parent.mkdir()
    with pytest.raises(RuntimeError, match="could not export the embedding model"):
        export_model(empty, out, int8=False)
    assert not out.exists()


@given(st.lists(st.integers(min_value=1, max_value=256), max_size=80))
def test_batches_hold_every_text_once_within_the_token_budget(lengths: list[int]) -> None:
    budget = 1024
    batches = list(_batches(lengths, budget))
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        widest = max(lengths[i] for i in batch)
        assert len(batch) == 1 or len(batch) * widest <= budget
