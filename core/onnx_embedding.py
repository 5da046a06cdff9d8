"""The bundled MiniLM on ONNX Runtime: the same vectors as sentence-transformers, without torch.

The ONNX file is exported once (core.onnx_export, in a child process that imports torch) and
kept in a cache folder (under DATA_DIR by default); later starts load it in a fraction of a
second. Every process that embeds then holds ONNX Runtime and the tokenizer only: about 100 MiB
instead of the 500 MiB of torch and sentence-transformers (bench/RESULTS.md).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.model_thread import SymmetricModel, Vectors
from core.onnx_export import INPUTS, export_model

EXPORT_FORMAT = 2
"""Bumped when the exported graph changes, so older cached files are not used."""
BATCH_TOKENS = 1024
"""Tokens per model call, padding included: attention's memory grows with the longest text
times the batch, so long passages go a few at a time and short questions many at once."""


def cached_model(model_dir: Path, cache_dir: Path, name: str, int8: bool) -> Path:
    """The ONNX file for model_dir in cache_dir, exported first if it is not there yet."""
    weights = model_dir / "model.safetensors"
    size = weights.stat().st_size if weights.is_file() else 0
    suffix = "-int8" if int8 else ""
    target = cache_dir / f"{name}-v{EXPORT_FORMAT}-{size}{suffix}.onnx"
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(cache_dir / ".export.lock"):
        if not target.is_file():  # another process may have exported it while we waited
            partial = target.with_name(target.name + ".partial")
            export_model(model_dir, partial, int8)
            partial.replace(target)
    return target


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive file lock: two processes starting together export only once."""
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class OnnxEmbedder(SymmetricModel):
    """A sentence-transformers BERT model (mean pooling) run by ONNX Runtime, symmetric."""

    def __init__(
        self,
        name: str,
        model_dir: Path,
        onnx_file: Path,
        threads: int | None = None,
        max_tokens: int = BATCH_TOKENS,
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # The arena keeps the largest batch's buffers for good; without it memory returns
        # after an ingest, and a question's buffers are small enough to allocate each time.
        options.enable_cpu_mem_arena = False
        # Idle intra-op threads spin by default, on the core E5 and the event loop need
        # (StackFAQ at 32 at once: 38 messages/s spinning, 43 without; bench/RESULTS.md).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            str(onnx_file), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(_max_tokens(model_dir))
        self._tokenizer.no_padding()
        super().__init__(name)
        self._max_tokens = max_tokens
        self._dimension = int(self._run([[0]]).shape[1])

    def embed_sync(self, texts: Sequence[str]) -> Vectors:
        """Embed in the calling thread, L2-normalised."""
        encodings = self._tokenizer.encode_batch(list(texts))
        rows = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for picked in _batches([len(encoding.ids) for encoding in encodings], self._max_tokens):
            rows[picked] = self._run([encodings[index].ids for index in picked])
        rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
        return rows

    def _run(self, token_ids: Sequence[Sequence[int]]) -> Vectors:
        """One padded batch through the model: mean-pooled, not yet normalised."""
        width = max(len(ids) for ids in token_ids)
        ids = np.zeros((len(token_ids), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, tokens in enumerate(token_ids):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        feeds: dict[str, Any] = dict(zip(INPUTS, (ids, mask, np.zeros_like(ids)), strict=True))
        (pooled,) = self._session.run(["embedding"], feeds)
        vectors: Vectors = np.asarray(pooled, dtype=np.float32)
        return vectors


def _max_tokens(model_dir: Path) -> int:
    """The model's max_seq_length from its sentence-transformers config (256 for MiniLM)."""
    config = model_dir / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text(encoding="utf-8")).get("max_seq_length", 256))
    return 256


def _batches(lengths: Sequence[int], max_tokens: int) -> Iterator[list[int]]:
    """Indexes grouped by length so that each group's padded size stays within max_tokens."""
    order = sorted(range(len(lengths)), key=lambda index: lengths[index])
    batch: list[int] = []
    for index in order:
        # Sorted ascending: this text is the longest so far and sets the padded width.
        if batch and (len(batch) + 1) * lengths[index] > max_tokens:
            yield batch
            batch = []
        batch.append(index)
    if batch:
        yield batch
