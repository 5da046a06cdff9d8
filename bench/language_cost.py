"""What the second model costs: time per question at concurrency 1, and resident memory.

    .venv/bin/python bench/language_cost.py [--rounds 3]

Each model runs in a child process of its own (so its memory is its own): load the embedder
and the language detector, ingest knowledge_base/sample into a fresh Qdrant Edge index, then
ask the 200 dev questions (bench/language_questions/dev.json, all four languages and off-topic)
one at a time through `Retriever.retrieve` and `OfflineComposer`, as a worker answers one
customer at a time. Reported: p50 and p95 of the time per question (the best round's), RSS
after the run, and the peak.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MODELS = ("all-MiniLM-L6-v2", "all-MiniLM-L6-v2+multilingual-e5-small")
QUESTIONS = REPO / "bench" / "language_questions" / "dev.json"


async def measure(model: str, rounds: int) -> dict[str, Any]:
    """Load, ingest, then time every question one at a time (in this process)."""
    import psutil
    from multilingual import MemoryCatalog

    from bot.thresholds import default_thresholds
    from core.compose import ComposeRequest, OfflineComposer
    from core.edge_index import EdgeIndex
    from core.embedding import load_embedder
    from core.language import LanguageDetector
    from core.retrieval import Retriever
    from knowledge_base.ingest import Ingestor

    os.chdir(REPO)
    texts = [q["text"] for q in json.loads(QUESTIONS.read_text(encoding="utf-8"))["questions"]]
    embedder = load_embedder(model)
    composer = OfflineComposer(default_thresholds(model))
    best: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-cost-") as folder:
        index = EdgeIndex(folder, "knowledge")
        try:
            await Ingestor(MemoryCatalog(), index, embedder).ingest([Path("knowledge_base/sample")])
            for _ in range(rounds):
                # A fresh retriever each round: its cache of question vectors starts empty.
                retriever = Retriever(embedder, index, detector=LanguageDetector())
                times = []
                for text in texts:
                    start = time.perf_counter()
                    ranking = await retriever.retrieve(text)
                    composer.compose_now(ComposeRequest(text, ranking))
                    times.append(time.perf_counter() - start)
                await retriever.close()
                if not best or statistics.median(times) < statistics.median(best):
                    best = times
        finally:
            await index.close()
            embedder.close()
    ordered = sorted(best)
    return {
        "model": model,
        "questions": len(texts),
        "p50_ms": 1000 * statistics.median(ordered),
        "p95_ms": 1000 * ordered[int(0.95 * (len(ordered) - 1))],
        "rss_mib": psutil.Process().memory_info().rss / 2**20,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(measure(args.child, args.rounds))))
        return
    print("| model | p50 per question | p95 | RSS after | peak RSS |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for model in MODELS:
        out = subprocess.run(
            [sys.executable, __file__, "--child", model, "--rounds", str(args.rounds)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(
            f"| {r['model']} | {r['p50_ms']:.1f} ms | {r['p95_ms']:.1f} ms "
            f"| {r['rss_mib']:.0f} MiB | {r['peak_mib']:.0f} MiB |"
        )


if __name__ == "__main__":
    main()
