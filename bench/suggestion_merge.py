"""Choose the cosine at which a new staff-answered question merges into a pending suggestion.

    .venv/bin/python bench/suggestion_merge.py          # the default (bundled) model

Paraphrase groups: StackFAQ threads (the question and its human rephrasings) and CLINC150 val
(the utterances of one intent). Each question is embedded as a query, as core/suggestions.py
does. For each threshold, the merge is simulated as in core/suggestions.py: questions arrive in
a random order; each joins the most similar pending suggestion at or above the threshold, or
starts a new one. Reported: wrong merges (into a suggestion of another group, per merge made),
and suggestions per group (1.0 = every paraphrase merged). Pairwise rates are printed too.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "eval"
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from core.embedding import BUNDLED_MODEL, load_embedder  # noqa: E402

THRESHOLDS = [round(0.70 + 0.02 * i, 2) for i in range(15)]


def stackfaq_groups() -> list[list[str]]:
    """Each thread's question and its usable rephrasings."""
    raw = json.loads((SHARED / "stackfaq" / "stackExchange-FAQ.json").read_text())
    groups = []
    for thread in raw["root"]["qapair"]:
        texts = [" ".join(thread["question"].split())]
        texts += [" ".join(p.split()) for p in thread["rephr"] if p and p.strip() != "*"]
        groups.append(texts)
    return groups


def clinc_val_groups() -> list[list[str]]:
    """The val utterances of each in-scope intent."""
    raw = json.loads((SHARED / "clinc150" / "data_full.json").read_text())
    by_intent: dict[str, list[str]] = {}
    for text, intent in raw["val"]:
        by_intent.setdefault(intent, []).append(text)
    return list(by_intent.values())


def simulate(
    vectors: np.ndarray, labels: np.ndarray, threshold: float, seed: int
) -> tuple[float, float]:
    """Greedy merge in a random order; (wrong merges / merges, suggestions per group)."""
    order = list(range(len(labels)))
    random.Random(seed).shuffle(order)
    heads: list[int] = []  # the first question of each suggestion keeps its embedding
    head_label: list[int] = []
    merges = wrong = 0
    for i in order:
        if heads:
            sims = vectors[heads] @ vectors[i]
            best = int(np.argmax(sims))
            if sims[best] >= threshold:
                merges += 1
                wrong += head_label[best] != labels[i]
                continue
        heads.append(i)
        head_label.append(int(labels[i]))
    groups = len(set(labels.tolist()))
    return wrong / max(merges, 1), len(heads) / groups


async def measure(name: str, groups: list[list[str]], embedder: object) -> None:
    texts = [t for g in groups for t in g]
    labels = np.array([n for n, g in enumerate(groups) for _ in g])
    vectors = np.asarray(await embedder.embed_queries(texts))  # type: ignore[attr-defined]
    sims = vectors @ vectors.T
    same = labels[:, None] == labels[None, :]
    upper = np.triu(np.ones_like(same, dtype=bool), k=1)
    same_pairs, diff_pairs = sims[same & upper], sims[~same & upper]
    print(f"\n{name}: {len(groups)} groups, {len(texts)} questions")
    print("threshold  same-pairs>=t  other-pairs>=t  wrong-merges  suggestions/group")
    for t in THRESHOLDS:
        runs = [simulate(vectors, labels, t, seed) for seed in range(3)]
        wrong = float(np.mean([r[0] for r in runs]))
        per_group = float(np.mean([r[1] for r in runs]))
        print(
            f"{t:9.2f}  {np.mean(same_pairs >= t):13.1%}  {np.mean(diff_pairs >= t):14.2%}"
            f"  {wrong:12.1%}  {per_group:17.2f}"
        )


async def main() -> None:
    model = os.environ.get("EMBEDDING_MODEL", BUNDLED_MODEL)
    embedder = await asyncio.to_thread(load_embedder, model)
    print(f"model {embedder.name}")
    try:
        await measure("StackFAQ", stackfaq_groups(), embedder)
        await measure("CLINC150 val", clinc_val_groups(), embedder)
    finally:
        embedder.close()


if __name__ == "__main__":
    asyncio.run(main())
