"""Customers writing in Chinese, Malay, Tamil and Singlish, and off-topic, against the sample.

    .venv/bin/python bench/language_eval.py                     # dev and test, Markdown
    .venv/bin/python bench/language_eval.py --sets test --details

The questions are bench/language_questions/{dev,test}.json (40 per language and 40 off-topic
in each; see their "about"). The bot's own code runs as `bot chat` would: `Ingestor` loads
knowledge_base/sample into a fresh Qdrant Edge index, the knowledge base calibrates its
thresholds (core.calibration, unless --no-calibration), and each question goes through
`Retriever.retrieve` (language detection, Singlish rewriting, glosses, model weighting) and
`OfflineComposer`. The dev set was used to build the method; the test set only measures it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from multilingual import MemoryCatalog, label  # noqa: E402

from bot.thresholds import default_thresholds  # noqa: E402
from core.calibration import calibrate_index  # noqa: E402
from core.compose import ComposeRequest, OfflineComposer  # noqa: E402
from core.edge_index import EdgeIndex  # noqa: E402
from core.embedding import BUNDLED_MODEL, load_embedder  # noqa: E402
from core.language import LanguageDetector  # noqa: E402
from core.retrieval import Retriever  # noqa: E402
from knowledge_base.ingest import Ingestor, find_files  # noqa: E402
from knowledge_base.loaders import load_document  # noqa: E402

SETS = REPO / "bench" / "language_questions"
KB = Path("knowledge_base/sample")
GROUPS = ("zh", "ms", "ta", "singlish", "offtopic")
NAMES = {
    "zh": "Chinese",
    "ms": "Malay",
    "ta": "Tamil",
    "singlish": "Singlish",
    "offtopic": "off-topic (4 languages)",
}


def outcome(answers: set[str], answered: list[str], choices: list[str]) -> str:
    """right / wrong / choices_right / choices_wrong / declined, for one question."""
    if answered:
        return "right" if answered[0] in answers else "wrong"
    if choices:
        return "choices_right" if answers & set(choices) else "choices_wrong"
    return "declined"


def correct(answers: set[str], result: str) -> bool:
    """In scope: answered right. Out of scope: declined outright."""
    return result == "right" if answers else result == "declined"


async def run(model: str, sets: list[str], calibrated: bool) -> dict[str, Any]:
    """Every question of the sets through the bot's retrieval and offline composer."""
    os.chdir(REPO)  # entry ids of CSV files derive from the path as the bot stores it
    embedder = load_embedder(model)
    detector = LanguageDetector()
    result: dict[str, Any] = {"model": model, "sets": {}}
    with tempfile.TemporaryDirectory(prefix="bench-languages-") as folder:
        index = EdgeIndex(folder, "knowledge")
        retriever = Retriever(embedder, index, detector=detector)
        try:
            start = time.perf_counter()
            await Ingestor(MemoryCatalog(), index, embedder).ingest([KB])
            result["ingest_seconds"] = time.perf_counter() - start
            thresholds = default_thresholds(model)
            if calibrated:
                chunks = [c for p in find_files([KB]) for c in load_document(p).chunks]
                start = time.perf_counter()
                calibration = await calibrate_index(retriever, chunks)
                result["calibration_seconds"] = time.perf_counter() - start
                result["calibration"] = calibration.explain()
                thresholds = calibration.apply(thresholds)
            result["thresholds"] = {
                "answer": thresholds.answer,
                "choice": thresholds.choice,
                "margin": thresholds.margin,
                "by_language": dict(thresholds.by_language),
            }
            composer = OfflineComposer(thresholds)
            for name in sets:
                data = json.loads((SETS / f"{name}.json").read_text(encoding="utf-8"))
                rows = []
                for question in data["questions"]:
                    ranking = await retriever.retrieve(question["text"])
                    reply = composer.compose_now(
                        ComposeRequest(question=question["text"], ranking=ranking)
                    )
                    by_id = {e.entry_id: label(e) for e in ranking.entries}
                    answered = [by_id[i] for i in reply.source_entry_ids if i in by_id]
                    choices = [by_id[c.entry_id] for c in reply.choices if c.entry_id in by_id]
                    answers = set(question["answers"])
                    rows.append(
                        {
                            **question,
                            "searched_as": ranking.language,
                            "top": label(ranking.top) if ranking.top else None,
                            "confidence": round(ranking.confidence, 4),
                            "margin": round(min(ranking.margin, 9.0), 4),
                            "outcome": outcome(answers, answered, choices),
                        }
                    )
                result["sets"][name] = rows
        finally:
            await retriever.close()
            await index.close()
            embedder.close()
    return result


def table(result: dict[str, Any]) -> str:
    """One row per set and group: correct, wrong answers, and where the rest went."""
    lines = [
        "| set | questions | in scope | correct | answered wrongly | right entry on top "
        '| "Did you mean" (right one offered) | declined |',
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, rows in result["sets"].items():
        for group in GROUPS:
            sub = [r for r in rows if r["lang"] == group]
            scoped = [r for r in sub if r["answers"]]
            counts = Counter(r["outcome"] for r in sub)
            good = sum(correct(set(r["answers"]), r["outcome"]) for r in sub)
            top = sum(r["top"] in r["answers"] for r in scoped)
            choices = counts["choices_right"] + counts["choices_wrong"]
            lines.append(
                f"| {name} | {NAMES[group]} | {len(scoped)}/{len(sub)} "
                f"| **{good}/{len(sub)} ({100 * good / len(sub):.0f} %)** "
                f"| {counts['wrong']} ({100 * counts['wrong'] / len(sub):.1f} %) "
                f"| {top}/{len(scoped) or '—'} | {choices} ({counts['choices_right']}) "
                f"| {counts['declined']} |"
            )
    return "\n".join(lines)


def details(result: dict[str, Any]) -> str:
    """Every question that was not handled correctly."""
    lines = []
    for name, rows in result["sets"].items():
        for r in rows:
            if not correct(set(r["answers"]), r["outcome"]):
                lines.append(
                    f"{name} {r['lang']:9} {r['outcome']:14} {r['confidence']:.3f} "
                    f"{r['searched_as']} top={r['top']} | {r['text']} | {r['answers'][:2]}"
                )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=BUNDLED_MODEL)
    parser.add_argument("--sets", default="dev,test")
    parser.add_argument("--no-calibration", action="store_true")
    parser.add_argument("--details", action="store_true")
    parser.add_argument("--json", type=Path, help="write every row here")
    args = parser.parse_args()
    result = asyncio.run(run(args.model, args.sets.split(","), not args.no_calibration))
    print(f"Model: {result['model']}. Thresholds: {json.dumps(result['thresholds'])}")
    if "calibration" in result:
        print(f"\nCalibration ({result['calibration_seconds']:.1f} s):\n{result['calibration']}")
    print()
    print(table(result))
    if args.details:
        print()
        print(details(result))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
