"""Choose the answer threshold on CLINC150 val/oos_val (balanced criterion), report test too.

    .venv/bin/python bench/threshold_sweep.py          # the default fp32 model
    .venv/bin/python bench/threshold_sweep.py --int8   # int8 weights (EMBEDDING_INT8)

Balanced criterion: maximise the mean of val in-scope accuracy and val out-of-scope recall
(bench/research/FINDINGS.md explains why). Choices start 0.05 below the answer threshold and the
margin stays 0.02, as in the defaults. Test figures are printed for the record, never used.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import eval_quality as eq
import numpy as np

from core.compose import OfflineComposer, Thresholds
from core.embedding import BUNDLED_MODEL, SentenceTransformerEmbedder
from core.ranking import Ranking

_kept: dict[str, tuple[eq.QuerySet, list[Ranking]]] = {}
_bot_outcome = eq._bot_outcome


def _keep(queries: eq.QuerySet, rankings: list[Ranking], composer: OfflineComposer) -> Any:
    _kept[queries.name] = (queries, rankings)
    return _bot_outcome(queries, rankings, composer)


def decide(split: tuple[eq.QuerySet, list[Ranking]], answer: float) -> dict[str, float]:
    queries, rankings = split
    composer = OfflineComposer(Thresholds(answer=answer, choice=answer - 0.05, margin=0.02))
    return eq.decision_metrics(_bot_outcome(queries, rankings, composer), queries.gold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--int8", action="store_true")
    args = parser.parse_args()
    eq._bot_outcome = _keep  # keep the rankings the evaluation computes
    embedder = SentenceTransformerEmbedder(BUNDLED_MODEL, quantize=args.int8)
    asyncio.run(eq.measure(eq.load_clinc(), embedder))
    [val] = [v for k, v in _kept.items() if "val" in k]
    [test] = [v for k, v in _kept.items() if "test" in k]
    best: tuple[float, float] | None = None
    for answer in np.arange(0.55, 0.70, 0.005):
        d = decide(val, float(answer))
        balanced = (d["in_acc"] + d["oos_rec"]) / 2
        if best is None or balanced > best[0]:
            best = (balanced, float(answer))
    assert best is not None
    chosen = round(best[1], 3)
    print(f"answer threshold chosen on val: {chosen} (choices from {chosen - 0.05:.3f})")
    for name, split in (("val", val), ("test", test)):
        d = decide(split, chosen)
        print(
            f"{name}: in-scope {d['in_acc']:.1f}, out-of-scope recall {d['oos_rec']:.1f}, "
            f"overall {d['overall']:.1f}"
        )


if __name__ == "__main__":
    main()
