"""The sample knowledge base asked in English, Chinese, Malay and Tamil, by each bundled model.

    .venv/bin/python bench/multilingual.py                  # both models, Markdown on stdout
    .venv/bin/python bench/multilingual.py --rounds 5       # more speed rounds

The questions are bench/multilingual_questions.json: the same questions in the four languages,
each labelled with the entries that answer it (a few have no answer in the knowledge base).
Each model runs in a child process of its own, so its memory is its own: the bot's ingestion
(`Ingestor` into a fresh Qdrant Edge index, with an in-memory catalog instead of PostgreSQL)
loads knowledge_base/sample, then every question goes through `Retriever.retrieve` one at a time
and `OfflineComposer` with the model's default thresholds (bot/config.py), as in `bot chat`.

Speed is the model alone, through the embedder's async API as the bot calls it: questions one
at a time, questions in one batch, and the knowledge base's chunks as documents; the best of
--rounds runs. RSS is the child's after everything ran; peak is its maximum resident set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import psutil  # noqa: E402

from bot.thresholds import DEFAULT_THRESHOLDS  # noqa: E402
from core.compose import ComposeRequest, OfflineComposer, Thresholds  # noqa: E402
from core.edge_index import EdgeIndex  # noqa: E402
from core.embedding import BUNDLED_MODELS, LocalEmbedder, load_embedder  # noqa: E402
from core.knowledge import Chunk  # noqa: E402
from core.ranking import RankedEntry  # noqa: E402
from core.retrieval import Retriever  # noqa: E402
from core.store import KnowledgeDocumentRow  # noqa: E402
from knowledge_base.ingest import Ingestor, find_files  # noqa: E402
from knowledge_base.loaders import load_document  # noqa: E402

QUESTIONS = REPO / "bench" / "multilingual_questions.json"
LANGUAGES = {"en": "English", "zh": "Chinese", "ms": "Malay", "ta": "Tamil"}
OUTCOMES = ("right", "wrong", "choices_right", "choices_wrong", "dont_know")


class MemoryCatalog:
    """KnowledgeCatalog in a dict: the bench measures retrieval, not PostgreSQL."""

    def __init__(self) -> None:
        self.rows: dict[str, KnowledgeDocumentRow] = {}

    async def get_document(self, path: str) -> KnowledgeDocumentRow | None:
        return self.rows.get(path)

    async def save_document(
        self, path: str, content_hash: str, chunk_count: int, state: str, error: str | None
    ) -> None:
        now = datetime.now(UTC)
        self.rows[path] = KnowledgeDocumentRow(path, content_hash, chunk_count, state, error, now)

    async def list_documents(self) -> list[KnowledgeDocumentRow]:
        return [self.rows[p] for p in sorted(self.rows)]

    async def delete_document(self, path: str) -> bool:
        return self.rows.pop(path, None) is not None


@dataclass(frozen=True)
class Question:
    id: str
    answers: frozenset[str]
    texts: dict[str, str]


def load_questions() -> tuple[Path, list[Question]]:
    data = json.loads(QUESTIONS.read_text(encoding="utf-8"))
    questions = [
        Question(q["id"], frozenset(q["answers"]), {code: q[code] for code in LANGUAGES})
        for q in data["questions"]
    ]
    return REPO / data["knowledge_base"], questions


def label(entry: RankedEntry | Chunk) -> str:
    """An entry as the question file names it: its FAQ id, or md:<section> in the guide."""
    chunk = entry.best if isinstance(entry, RankedEntry) else entry
    if chunk.document.endswith(".md"):
        return "md:" + chunk.entry_id.partition(":")[2]
    return chunk.entry_id


def check_labels(kb: Path, questions: list[Question]) -> None:
    """Every expected answer names an entry that exists (the guide's ids carry a hash)."""
    known = {label(c) for path in find_files([kb]) for c in load_document(path).chunks}
    unknown = sorted({a for q in questions for a in q.answers} - known)
    if unknown:
        raise SystemExit(f"{QUESTIONS.name} names entries the knowledge base lacks: {unknown}")


async def best_rate(count: int, rounds: int, run: Any) -> float:
    """Texts per second of the fastest of `rounds` runs of `run()` over `count` texts."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        await run()
        best = min(best, time.perf_counter() - start)
    return count / best


async def measure(model: str, rounds: int) -> dict[str, Any]:
    """Everything about one model, in this process."""
    kb, questions = load_questions()
    check_labels(kb, questions)
    start = time.perf_counter()
    embedder: LocalEmbedder = load_embedder(model)
    load_seconds = time.perf_counter() - start
    answer, choice, margin = DEFAULT_THRESHOLDS[(model, False)]
    composer = OfflineComposer(Thresholds(answer=answer, choice=choice, margin=margin))
    result: dict[str, Any] = {"model": model, "load_seconds": load_seconds}
    with tempfile.TemporaryDirectory(prefix="bench-multilingual-") as folder:
        index = EdgeIndex(folder, "knowledge")
        retriever = Retriever(embedder, index)
        try:
            start = time.perf_counter()
            report = await Ingestor(MemoryCatalog(), index, embedder).ingest([kb])
            result["ingest_seconds"] = time.perf_counter() - start
            result["chunks"] = report.chunks
            languages: dict[str, Any] = {}
            for code in LANGUAGES:
                rows = []
                for question in questions:
                    ranking = await retriever.retrieve(question.texts[code])
                    reply = composer.compose_now(
                        ComposeRequest(question=question.texts[code], ranking=ranking)
                    )
                    rows.append(
                        {
                            "id": question.id,
                            "answers": sorted(question.answers),
                            "top": label(ranking.top) if ranking.top else None,
                            "confidence": ranking.confidence,
                            "answered": [
                                label(e)
                                for e in ranking.entries
                                if e.entry_id in reply.source_entry_ids
                            ],
                            "choices": [
                                label(e)
                                for e in ranking.entries
                                if e.entry_id in {c.entry_id for c in reply.choices}
                            ],
                        }
                    )
                languages[code] = rows
            result["languages"] = languages
            chunk_texts = [c.text for p in find_files([kb]) for c in load_document(p).chunks]
            texts = [q.texts[code] for q in questions for code in LANGUAGES]

            async def one_by_one() -> None:
                for text in texts:
                    await embedder.embed_queries([text])

            async def batch() -> None:
                await embedder.embed_queries(texts)

            async def documents() -> None:
                await embedder.embed_documents(chunk_texts)

            result["queries_single"] = await best_rate(len(texts), rounds, one_by_one)
            result["queries_batch"] = await best_rate(len(texts), rounds, batch)
            result["documents"] = await best_rate(len(chunk_texts), rounds, documents)
            result["document_count"] = len(chunk_texts)
        finally:
            await retriever.close()
            await index.close()
            embedder.close()
    result["rss_mb"] = psutil.Process().memory_info().rss / 2**20
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["torch_loaded"] = "torch" in sys.modules
    return result


def outcome(row: dict[str, Any]) -> str:
    expected = set(row["answers"])
    if row["answered"]:
        return "right" if row["answered"][0] in expected else "wrong"
    if row["choices"]:
        return "choices_right" if expected & set(row["choices"]) else "choices_wrong"
    return "dont_know"


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| language | model | accuracy@1 | answered right | answered wrong | "
        "Did you mean (right one offered) | don't know | out of scope: declined |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for code, language in LANGUAGES.items():
        for result in results:
            rows = result["languages"][code]
            scoped = [r for r in rows if r["answers"]]
            unscoped = [r for r in rows if not r["answers"]]
            counts = {o: sum(outcome(r) == o for r in scoped) for o in OUTCOMES}
            top = sum(r["top"] in r["answers"] for r in scoped)
            declined = sum(not r["answered"] for r in unscoped)
            n = len(scoped)
            choices = counts["choices_right"] + counts["choices_wrong"]
            lines.append(
                f"| {language} | {result['model']} | {100 * top / n:.0f} % ({top}/{n}) | "
                f"{counts['right']} | {counts['wrong']} | {choices} ({counts['choices_right']}) | "
                f"{counts['dont_know']} | {declined}/{len(unscoped)} |"
            )
    return "\n".join(lines)


def speed_table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| model | load | ingest sample KB | questions one at a time | questions, one batch | "
        "KB chunks as documents | RSS | peak RSS | torch loaded |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r['model']} | {r['load_seconds']:.1f} s | {r['ingest_seconds']:.1f} s "
            f"({r['chunks']} chunks) | {r['queries_single']:.0f} /s | {r['queries_batch']:.0f} /s "
            f"| {r['documents']:.0f} /s | {r['rss_mb']:.0f} MiB | {r['peak_rss_mb']:.0f} MiB | "
            f"{'yes' if r['torch_loaded'] else 'no'} |"
        )
    return "\n".join(lines)


def details(results: list[dict[str, Any]]) -> str:
    """Every question that was not answered right, per model and language."""
    lines = []
    for result in results:
        for code in LANGUAGES:
            for row in result["languages"][code]:
                got = outcome(row) if row["answers"] else ("wrong" if row["answered"] else "ok")
                if got in ("right", "ok"):
                    continue
                lines.append(
                    f"- {result['model']}, {code}, {row['id']}: {got}, top {row['top']} "
                    f"at {row['confidence']:.3f}"
                )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(BUNDLED_MODELS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(measure(args.child, args.rounds)), ensure_ascii=False))
        return
    results = []
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        print(f"{model} ...", file=sys.stderr, flush=True)
        child = subprocess.run(
            [sys.executable, __file__, "--child", model, "--rounds", str(args.rounds)],
            check=False,
            capture_output=True,
            text=True,
        )
        if child.returncode != 0:
            raise SystemExit(f"{model} failed:\n{child.stderr}")
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
    if args.json is not None:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    load = os.getloadavg()
    print(
        f"{datetime.now().astimezone():%Y-%m-%d %H:%M}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.machine()}, Python {platform.python_version()}, "
        f"load average {load[0]:.1f}\n"
    )
    print(table(results) + "\n")
    print(speed_table(results) + "\n")
    print(details(results))


if __name__ == "__main__":
    main()
