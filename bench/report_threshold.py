"""Choose the report's grouping threshold on CLINC150 validation paraphrases.

    .venv/bin/python bench/report_threshold.py                          # every bundled model
    .venv/bin/python bench/report_threshold.py --model all-MiniLM-L6-v2

CLINC150 val has 20 phrasings of each of 150 intents: a stand-in for a week of unanswered
questions, where the same need is asked in many words. The 100 out-of-scope val questions are
added as noise that should stay apart. Each threshold groups them with the report's own code
(bot.report.unanswered.group_questions' clustering); the table gives the adjusted Rand index
and V-measure against the intents, and how many groups were made (150 intents + noise).
Test data is never used. ../shared/eval sits next to the repository (see its README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score, v_measure_score

from bot.report.unanswered import cluster_labels
from core.embedding import BUNDLED_MODELS, E5_SMALL, load_embedder

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "eval"
THRESHOLDS = [round(0.25 + 0.05 * n, 2) for n in range(11)]
# E5's cosines sit close together (every pair is similar), so its distances are small.
E5_THRESHOLDS = [round(0.04 + 0.02 * n, 2) for n in range(11)]


async def sweep(model: str) -> None:
    """Print one row per threshold for one model."""
    data = json.loads((SHARED / "clinc150" / "data_full.json").read_text())
    texts = [t for t, _ in data["val"]] + [t for t, _ in data["oos_val"]]
    # Every out-of-scope question is its own need: a label of its own.
    labels = [i for _, i in data["val"]] + [f"oos-{n}" for n in range(len(data["oos_val"]))]
    embedder = load_embedder(model)
    try:
        vectors = await embedder.embed_queries(texts)
    finally:
        embedder.close()
    print(f"\n{model}: {len(texts)} questions, {len(set(labels))} needs")
    print("threshold | ARI | V-measure | groups")
    for threshold in E5_THRESHOLDS if model == E5_SMALL else THRESHOLDS:
        found = cluster_labels(vectors, threshold)
        ari = adjusted_rand_score(labels, found)
        vm = v_measure_score(labels, found)
        print(f"{threshold:.2f} | {ari:.3f} | {vm:.3f} | {len(np.unique(found))}")


def main() -> None:
    """Sweep the chosen model, or all bundled ones."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=BUNDLED_MODELS)
    args = parser.parse_args()
    for model in [args.model] if args.model else BUNDLED_MODELS:
        asyncio.run(sweep(model))


if __name__ == "__main__":
    main()
