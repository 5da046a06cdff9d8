"""Vector store benchmark: qdrant-client local mode vs qdrant-edge, at 1,000 and 10,000 points.

Run from the repository root:  .venv/bin/python bench/vector_store.py
Each (backend, size) runs in a fresh subprocess so the RSS delta is its own. Prints a Markdown
table for bench/VECTOR_STORE.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.edge_index import EdgeIndex
from core.knowledge import Chunk, ChunkKind
from core.qdrant_index import QdrantClientIndex
from core.sparse import document_vector, query_vector
from core.vector_index import IndexedChunk, IndexQuery, VectorIndex

DIM = 384
LIMIT = 30  # what core.retrieval.Retriever asks for
BATCH = 32
SINGLE_QUERIES = 200  # at most; fewer when the budget runs out (local mode at 10k is slow)
BATCHES = 20
BUDGET_S = 15.0  # per measurement
UPSERT_BATCH = 256  # ingestion upserts a few documents at a time
BACKENDS = ("qdrant-local", "edge")
SIZES = (1_000, 10_000)

_TOPICS_TEXT = (
    "delivery refund exchange opening hours payment paynow nets credit card membership points "
    "voucher booking reservation cancellation warranty repair installation catering halal "
    "parking wheelchair access gift wrapping corporate order bulk discount student senior "
    "appointment consultation pickup islandwide express same-day shipping overseas"
)
_PLACES_TEXT = (
    "Tampines Jurong Bishan Orchard Bedok Woodlands Yishun Punggol Sengkang Clementi Toa Payoh "
    "Ang Mo Kio Serangoon Bukit Timah Novena Raffles Place Tanjong Pagar Chinatown Geylang"
)
_FILLER_TEXT = (
    "please note that our team will help you with your request within two working days you can "
    "also contact us by whatsapp or email customers may need to show the receipt items must be "
    "unused and in original packaging charges apply for orders below the minimum amount"
)
TOPICS = _TOPICS_TEXT.split()
PLACES = _PLACES_TEXT.split()
FILLER = _FILLER_TEXT.split()


def _texts(n: int, rng: np.random.Generator) -> list[str]:
    """FAQ-like texts of 20-60 words: topic words, places, filler, some rare product codes."""
    texts = []
    for i in range(n):
        words: list[str] = []
        for _ in range(int(rng.integers(20, 61))):
            roll = rng.random()
            if roll < 0.25:
                words.append(TOPICS[int(rng.zipf(1.5)) % len(TOPICS)])
            elif roll < 0.35:
                words.append(PLACES[int(rng.integers(len(PLACES)))])
            else:
                words.append(FILLER[int(rng.integers(len(FILLER)))])
        words.append(f"sku{i % 997}")
        texts.append(" ".join(words))
    return texts


def _unit(rows: int, rng: np.random.Generator) -> npt.NDArray[np.float32]:
    """Random unit vectors."""
    vectors = rng.normal(size=(rows, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def _open(backend: str, path: Path) -> VectorIndex:
    if backend == "edge":
        return EdgeIndex(path, "kb")
    return QdrantClientIndex(url=None, path=str(path), collection="kb")


def _disk_mb(path: Path) -> float:
    """Space the files under path really occupy (the stores preallocate sparse files)."""
    return sum(f.stat().st_blocks * 512 for f in path.rglob("*") if f.is_file()) / 2**20


def _rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / 2**20


async def _measure(backend: str, size: int) -> dict[str, float]:
    """Every figure for one backend at one size."""
    rng = np.random.default_rng(size)
    texts = _texts(size, rng)
    dense = _unit(size, rng)
    points = [
        IndexedChunk(
            Chunk(f"doc{i // 20}.md", f"e{i // 2}", "FAQ", text, "answer", ChunkKind.PASSAGE, i),
            dense[i],
            document_vector(text),
        )
        for i, text in enumerate(texts)
    ]
    total = SINGLE_QUERIES + BATCHES * BATCH
    picks = rng.integers(size, size=total)
    noisy = dense[picks] + 0.05 * _unit(total, rng)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    queries = [
        IndexQuery(noisy[k], query_vector(" ".join(texts[p].split()[:8])))
        for k, p in enumerate(picks)
    ]
    exact = np.argsort(-(noisy @ dense.T), axis=1)[:, :10]

    with tempfile.TemporaryDirectory() as tmp:
        rss0 = _rss_mb()
        index = _open(backend, Path(tmp))
        start = time.perf_counter()
        await index.ensure_collection(DIM)
        for i in range(0, size, UPSERT_BATCH):
            await index.upsert(points[i : i + UPSERT_BATCH])
        upsert_s = time.perf_counter() - start

        single = []
        recall_hits = 0
        top1 = 0
        start = time.perf_counter()
        for k, query in enumerate(queries[:SINGLE_QUERIES]):
            t = time.perf_counter()
            [result] = await index.search_batch([query], LIMIT)
            single.append(time.perf_counter() - t)
            found = {h.chunk.position for h in result.dense_hits[:10]}
            top1 += result.dense_hits[0].chunk.position == int(picks[k])
            recall_hits += len(found & {int(x) for x in exact[k]})
            if k >= 20 and t - start > BUDGET_S:
                break
        rest = queries[SINGLE_QUERIES:]
        start = time.perf_counter()
        batches = 0
        while batches < BATCHES and (batches < 3 or time.perf_counter() - start < BUDGET_S):
            await index.search_batch(rest[batches * BATCH : (batches + 1) * BATCH], LIMIT)
            batches += 1
        batched_s = time.perf_counter() - start
        rss_delta = _rss_mb() - rss0
        await index.close()
        disk_mb = await asyncio.to_thread(_disk_mb, Path(tmp))

        start = time.perf_counter()
        reopened = _open(backend, Path(tmp))
        await reopened.search_batch(queries[:1], LIMIT)
        reopen_s = time.perf_counter() - start
        await reopened.close()

    cuts = statistics.quantiles(single, n=100)
    return {
        "upsert_s": upsert_s,
        "p50_ms": cuts[49] * 1000,
        "p95_ms": cuts[94] * 1000,
        "batch_qps": batches * BATCH / batched_s,
        "recall10": recall_hits / (10 * len(single)),
        "top1": top1 / len(single),
        "queries": len(single) + batches * BATCH,
        "rss_mb": rss_delta,
        "disk_mb": disk_mb,
        "reopen_s": reopen_s,
    }


def _table(rows: list[tuple[str, int, dict[str, float]]]) -> str:
    lines = [
        "| backend | points | upsert s | single p50 ms | single p95 ms | batch-32 q/s"
        " | dense top-1 | dense recall@10 | RSS delta MB | disk MB | reopen+query s | queries |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for backend, size, m in rows:
        lines.append(
            f"| {backend} | {size:,} | {m['upsert_s']:.2f} | {m['p50_ms']:.2f} | "
            f"{m['p95_ms']:.2f} | {m['batch_qps']:.0f} | {m['top1']:.3f} | {m['recall10']:.3f} | "
            f"{m['rss_mb']:.0f} | {m['disk_mb']:.0f} | {m['reopen_s']:.2f} | {m['queries']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=BACKENDS, help="run one case (used internally)")
    parser.add_argument("--points", type=int)
    args = parser.parse_args()
    if args.backend:
        print(json.dumps(asyncio.run(_measure(args.backend, args.points))))
        return
    rows = []
    for size in SIZES:
        for backend in BACKENDS:
            started = time.perf_counter()
            out = subprocess.run(
                [sys.executable, __file__, "--backend", backend, "--points", str(size)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            rows.append((backend, size, json.loads(out.strip().splitlines()[-1])))
            print(f"{backend} {size}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    print(_table(rows))


if __name__ == "__main__":
    main()
