"""When can MiniLM alone answer an English question? Compares MiniLM-only and dual rankings.

For every question of StackFAQ and CLINC150 (val, test) the retriever ranks entries twice on the
same dual index: with the English model's weight at 1 (MiniLM alone, no E5) and at the default
(both models). A cascade keeps MiniLM's ranking when its confidence and lead clear a bar and asks
E5 otherwise; this prints, per bar, how many questions skip E5 and what the cascade's decisions
score against the dual ones. Run: .venv/bin/python bench/research/cascade_study.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import eval_quality as eq

import core.search_question as sq
from core.compose import OfflineComposer
from core.edge_index import EdgeIndex
from core.embedding import load_embedder
from core.retrieval import Retriever
from core.sparse import document_vector
from core.vector_index import IndexedChunk
from knowledge_base import ingest

BARS = [(t, m) for t in (0.70, 0.75, 0.80, 0.85, 0.90) for m in (0.0, 0.02, 0.05)]


async def rankings_for(data: eq.DataSet, embedder: object) -> dict[str, dict[float, list]]:
    out: dict[str, dict[float, list]] = {}
    with tempfile.TemporaryDirectory() as folder:
        index = EdgeIndex(folder, "study")
        vectors = await ingest.embed_chunks(embedder, data.chunks)  # type: ignore[arg-type]
        await index.ensure_collection(embedder.dimension, embedder.name)  # type: ignore[attr-defined]
        points = [
            IndexedChunk(c, v, document_vector(c.text))
            for c, v in zip(data.chunks, vectors, strict=True)
        ]
        for s in range(0, len(points), 4096):
            await index.upsert(points[s : s + 4096])
        for split, queries in data.queries.items():
            out[split] = {}
            for weight in (1.0, 0.5):
                sq.ENGLISH_WEIGHT = weight  # type: ignore[misc]
                retriever = Retriever(embedder, index)  # type: ignore[arg-type]
                got = []
                for s in range(0, len(queries.texts), 256):
                    got.extend(await retriever.retrieve_many(queries.texts[s : s + 256]))
                await retriever.close()
                out[split][weight] = got
        await index.close()
    return out


def main() -> None:
    embedder = load_embedder("all-MiniLM-L6-v2+multilingual-e5-small")
    composer = OfflineComposer(eq.default_thresholds())
    for key in ("clinc150", "stackfaq"):
        data = eq.LOADERS[key]()
        found = asyncio.run(rankings_for(data, embedder))
        for split, by_weight in found.items():
            queries = data.queries[split]
            mini, dual = by_weight[1.0], by_weight[0.5]
            d_out = eq._bot_outcome(queries, dual, composer)
            m_out = eq._bot_outcome(queries, mini, composer)
            base = eq.decision_metrics(d_out, queries.gold)
            acc = eq.rank_metrics(d_out, queries.gold)["acc1"]
            macc = eq.rank_metrics(m_out, queries.gold)["acc1"]
            mm = eq.decision_metrics(m_out, queries.gold)
            print(
                f"\n{data.name} {split}: dual acc1 {acc:.1f} overall {base['overall']:.2f}"
                f" | MiniLM alone acc1 {macc:.1f} overall {mm['overall']:.2f}"
            )
            for t, m in BARS:
                keep = [r.confidence >= t and r.margin >= m for r in mini]
                mixed = [a if k else b for a, b, k in zip(mini, dual, keep, strict=True)]
                out = eq._bot_outcome(queries, mixed, composer)
                dm = eq.decision_metrics(out, queries.gold)
                a1 = eq.rank_metrics(out, queries.gold)["acc1"]
                same = np.mean([x == y for x, y in zip(out.decision, d_out.decision, strict=True)])
                print(
                    f"  bar {t:.2f}/{m:.2f}: skip E5 {100 * np.mean(keep):5.1f} %  acc1 {a1:5.1f}"
                    f"  overall {dm['overall']:6.2f}  oos_rec {dm['oos_rec']:6.2f}"
                    f"  same decision {100 * same:5.1f} %"
                )
    embedder.close()


if __name__ == "__main__":
    main()
