"""Two-part questions against the sample: the whole message alone, and split into its parts.

    .venv/bin/python bench/two_part_eval.py [--details]

bench/language_questions/two_part.json holds 20 messages that ask two things different entries
answer. The bot's code runs as in bench/language_eval.py (ingestion, calibration, retrieval,
offline composer); "whole" composes the message's own ranking only, "parts" is what the core
does (core.question_parts: the parts' answers when two are answered by different entries, else
the whole). Complete: every part answered by one of its entries; wrong: an answer from an entry
that answers no part.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from multilingual import MemoryCatalog, label  # noqa: E402

from bot.thresholds import default_thresholds  # noqa: E402
from core.calibration import calibrate_index  # noqa: E402
from core.compose import ComposeRequest, Composition, OfflineComposer  # noqa: E402
from core.edge_index import EdgeIndex  # noqa: E402
from core.embedding import BUNDLED_MODEL, load_embedder  # noqa: E402
from core.language import Language, LanguageDetector  # noqa: E402
from core.question_parts import answer_parts, question_parts  # noqa: E402
from core.retrieval import Retriever  # noqa: E402
from knowledge_base.ingest import Ingestor, find_files  # noqa: E402
from knowledge_base.loaders import load_document  # noqa: E402

QUESTIONS = REPO / "bench" / "language_questions" / "two_part.json"
KB = Path("knowledge_base/sample")


def grade(parts: list[set[str]], answered: list[str]) -> str:
    """complete / partial / wrong / none for the labels a reply answered with."""
    if any(not any(a in p for p in parts) for a in answered):
        return "wrong"
    covered = sum(any(a in p for a in answered) for p in parts)
    return "complete" if covered == len(parts) else "partial" if covered else "none"


async def run(details: bool) -> None:
    """Every message, whole and split, through the bot's code."""
    os.chdir(REPO)
    embedder = load_embedder(BUNDLED_MODEL)
    detector = LanguageDetector()
    data = json.loads(QUESTIONS.read_text(encoding="utf-8"))["questions"]
    results: dict[str, Counter[str]] = {"whole": Counter(), "parts": Counter()}
    with tempfile.TemporaryDirectory(prefix="bench-two-part-") as folder:
        index = EdgeIndex(folder, "knowledge")
        retriever = Retriever(embedder, index, detector=detector)
        try:
            await Ingestor(MemoryCatalog(), index, embedder).ingest([KB])
            chunks = [c for p in find_files([KB]) for c in load_document(p).chunks]
            labels = {c.entry_id: label(c) for c in chunks}
            calibration = await calibrate_index(retriever, chunks)
            composer = OfflineComposer(calibration.apply(default_thresholds(BUNDLED_MODEL)))
            for question in data:
                text, parts = question["text"], [set(p) for p in question["parts"]]
                language = detector.detect(text) or Language.EN
                ranking = await retriever.retrieve(text)
                whole = await composer.compose(ComposeRequest(text, ranking, language=language))
                pieces = question_parts(text)
                split = None
                if len(pieces) > 1:
                    split = await answer_parts(pieces, retriever, composer, (), None, language)
                for name, reply in (("whole", whole), ("parts", split or whole)):
                    result = grade(parts, _labels(reply, labels))
                    results[name][result] += 1
                    if details and name == "parts":
                        print(f"{result:9} {text} -> {_labels(reply, labels)}")
        finally:
            await retriever.close()
            await index.close()
            embedder.close()
    print("| composition | complete | one part only | wrong | none |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, counts in results.items():
        print(
            f"| {name} | {counts['complete']}/{len(data)} | {counts['partial']} "
            f"| {counts['wrong']} | {counts['none']} |"
        )


def _labels(reply: Composition, labels: dict[str, str]) -> list[str]:
    """The reply's answering entries as the question file names them."""
    return [labels.get(i, i) for i in reply.source_entry_ids]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--details", action="store_true")
    asyncio.run(run(parser.parse_args().details))


if __name__ == "__main__":
    main()
