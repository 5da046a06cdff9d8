"""Which probes should calibration fit thresholds to? Ten CLINC150 businesses, scored once.

For each of the ten businesses of bench/business_calibration.py this ranks, once, every probe
calibration could use (FAQ phrasings with the phrasing left out, FAQ phrasings with their whole
entry left out, the bundled off-topic questions) and every val and test query, and keeps the
rankings in bench/.cache/calibration_study.pickle. Then it scores rules that choose a
threshold from the probes, against the fixed default, on the queries: overall accuracy, wins.

Run: .venv/bin/python bench/research/calibration_study.py [--fresh]
"""

from __future__ import annotations

import argparse
import asyncio
import pickle
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import business_calibration as bc

from bot.thresholds import default_thresholds
from core import calibration as cal
from core.compose import OfflineComposer, Thresholds
from core.embedding import DUAL, load_embedder
from core.language import LanguageDetector
from core.ranking import Ranking
from core.retrieval import Retriever

CACHE = Path(__file__).resolve().parents[1] / ".cache" / "calibration_study.pickle"
Scores = dict[str, object]


async def score_domain(
    clinc: bc.Clinc, domain: str, retriever: Retriever, switched: bc.SwitchedIndex, folder: str
) -> Scores:
    """Probe and query rankings of one business."""
    chunks = clinc.chunks(domain)
    embedder = retriever._embedder  # a research script may reach in
    index = await bc.build_index(folder, domain, chunks, embedder)  # type: ignore[arg-type]
    switched.current = index
    try:
        inside = cal.in_scope_probes(chunks)
        inside_r = await retriever.retrieve_many(
            [c.text for c in inside], [frozenset((c,)) for c in inside]
        )
        near = cal.near_miss_probes(chunks)
        near_r = await retriever.retrieve_many([c.text for c, _ in near], [w for _, w in near])
        off = cal.off_topic_questions()
        off_r = await retriever.retrieve_many([q for _, q in off])
        queries = {s: clinc.queries(domain, s, "balanced") for s in bc.SPLITS}
        query_r = {}
        for split, asked in queries.items():
            query_r[split] = await retriever.retrieve_many([q.text for q in asked])
    finally:
        switched.current = None
        await index.close()
    return {
        "inside": [
            cal.Probe(r.confidence, r.language, r.top is not None and r.top.entry_id == c.entry_id)
            for c, r in zip(inside, inside_r, strict=True)
        ],
        "near": [cal.Probe(r.confidence, r.language) for r in near_r],
        "off": [cal.Probe(r.confidence, r.language) for r in off_r],
        "queries": queries,
        "rankings": query_r,
    }


async def collect() -> dict[str, Scores]:
    """Every business's rankings, one embedder and one retriever for all."""
    clinc = bc.Clinc.load()
    embedder = load_embedder(DUAL)
    switched = bc.SwitchedIndex()
    retriever = Retriever(embedder, switched, cache_size=bc.CACHE, detector=LanguageDetector())
    out = {}
    try:
        with tempfile.TemporaryDirectory(prefix="calibration-study-") as folder:
            for domain in clinc.domains:
                out[domain] = await score_domain(clinc, domain, retriever, switched, folder)
                bc.log(domain, "scored")
    finally:
        await retriever.close()
        embedder.close()
    return out


Rule = Callable[[Scores], cal.Calibration]


def accuracy(scores: Scores, split: str, thresholds: Thresholds) -> float:
    """Overall accuracy of the business's queries of split under thresholds."""
    composer = OfflineComposer(thresholds)
    queries: list[bc.Query] = scores["queries"][split]  # type: ignore[index]
    rankings: list[Ranking] = scores["rankings"][split]  # type: ignore[index]
    marks = [bc.correct(q, r, composer) for q, r in zip(queries, rankings, strict=True)]
    return 100 * sum(marks) / len(marks)


def evaluate(name: str, rule: Rule, data: dict[str, Scores]) -> None:
    """Print wins and mean difference against the fixed default, per split."""
    base = default_thresholds(DUAL)
    for split in bc.SPLITS:
        diffs, chosen = [], []
        for scores in data.values():
            calibration = rule(scores)
            fixed = accuracy(scores, split, base)
            diffs.append(accuracy(scores, split, calibration.apply(base)) - fixed)
            chosen.append(calibration.answer or base.answer)
        wins = sum(d > 0 for d in diffs)
        losses = sum(d < 0 for d in diffs)
        mean = sum(diffs) / len(diffs)
        each = " ".join(f"{d:+.1f}" for d in diffs)
        thresholds = " ".join(f"{t:.3f}" for t in chosen)
        print(
            f"{name:<28} {split:<4} wins {wins:>2} losses {losses:>2} mean {mean:+.2f}"
            f"  diffs {each}  thr {thresholds}",
            flush=True,
        )


def rules() -> dict[str, Rule]:
    """The candidate rules: today's (off-topic probes only), and near misses at some weights."""

    def current(s: Scores) -> cal.Calibration:
        return cal.choose(s["inside"], s["off"])  # type: ignore[arg-type]

    def near_at(weight: float) -> Rule:
        def rule(s: Scores) -> cal.Calibration:
            saved, cal.NEAR_MISS_WEIGHT = cal.NEAR_MISS_WEIGHT, weight
            try:
                return cal.choose(s["inside"], s["off"], s["near"])  # type: ignore[arg-type]
            finally:
                cal.NEAR_MISS_WEIGHT = saved

        return rule

    def floor(s: Scores) -> cal.Calibration:
        c = current(s)
        base = default_thresholds(DUAL).answer
        if c.answer is None or c.answer >= base:
            return c
        return cal.Calibration(base, c.by_language, c.in_scope, c.off_topic)

    weights = (0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0)
    return {
        "off-topic only (before)": current,
        "before, never below default": floor,
        **{f"near misses at {w}": near_at(w) for w in weights},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="rank everything again")
    args = parser.parse_args()
    if args.fresh or not CACHE.exists():
        data = asyncio.run(collect())
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        CACHE.write_bytes(pickle.dumps(data))
    data = pickle.loads(CACHE.read_bytes())
    for name, rule in rules().items():
        evaluate(name, rule, data)


if __name__ == "__main__":
    main()
