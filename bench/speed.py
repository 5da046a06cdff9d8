"""Speed of ingestion and of the core pipeline on the embedded default, with storage writes.

Knowledge bases are generated from the public FAQ sets in ../shared/eval: FAQ files built from
CLINC150 training utterances (short phrasings, like a shop's FAQ) and Markdown documents built
from StackFAQ answers (passages). Questions are CLINC150 test utterances, each from its own
customer, so every message takes the full path: dedupe, lock, PostgreSQL writes, Redis memory,
retrieval and the offline composer.

    .venv/bin/python bench/speed.py            # 1,000 and 10,000 chunks, concurrency 1 and 32
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import yaml
from pydantic import SecretStr

from bot.config import settings_class
from bot.embedded.servers import EmbeddedServices
from bot.services import Services
from core.messages import ChannelName, InboundMessage

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "eval"


def clinc() -> dict[str, list[list[str]]]:
    data: dict[str, list[list[str]]] = json.loads(
        (SHARED / "clinc150" / "data_full.json").read_text()
    )
    return data


def write_faq_kb(folder: Path, chunks: int) -> None:
    """FAQ YAML files whose entries hold about `chunks` chunks (question + phrasings + answer).

    `faq.yaml` has one entry per CLINC150 intent (so CLINC150 questions stay answerable), with
    up to all 100 training phrasings each: at most about 15,000 chunks. Beyond that,
    `catalogue.yaml` adds product entries of a made-up shop (catalogue_entries) up to `chunks`.
    """
    by_intent: dict[str, list[str]] = {}
    for text, intent in clinc()["train"]:
        by_intent.setdefault(intent, []).append(text)
    per_entry = max(2, chunks // len(by_intent))  # phrasings + 1 answer chunk per entry
    entries = []
    written = 0
    for intent, texts in sorted(by_intent.items()):
        phrasings = texts[: per_entry - 1]
        entries.append(
            {
                "id": intent,
                "question": phrasings[0],
                "alternatives": phrasings[1:],
                "answer": f"Here is what we can tell you about {intent.replace('_', ' ')}.",
            }
        )
        # As the FAQ loader counts them: repeated phrasings (ignoring case) index once.
        written += 1 + len({" ".join(p.split()).casefold() for p in phrasings})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "faq.yaml").write_text(yaml.safe_dump({"faqs": entries}, allow_unicode=True))
    if per_entry - 1 > max(len(texts) for texts in by_intent.values()):  # CLINC150 ran out
        catalogue = catalogue_entries(chunks - written)
        (folder / "catalogue.yaml").write_text(yaml.safe_dump({"faqs": catalogue}))


CATALOGUE_ITEMS = (
    "pandan chiffon cake", "kaya toast set", "durian puff", "pineapple tart", "ondeh-ondeh",
    "kueh lapis", "curry puff", "egg tart", "butter croissant", "sourdough loaf",
    "banana walnut loaf", "red bean bun", "char siew bao", "kopi gao", "teh tarik",
    "milo dinosaur", "fudge brownie", "lemon tart", "burnt cheesecake", "chocolate chip cookies",
    "matcha roll cake", "ang ku kueh", "nasi lemak bento", "laksa bowl", "sambal prawn bun",
    "otah bun", "coconut tart", "salted egg croissant", "black sesame bun", "gula melaka cake",
    "rainbow kueh", "pulut hitam", "orange chiffon", "hokkaido milk bread", "tuna puff",
    "chicken pie", "walnut cookies", "almond florentines", "mooncake", "love letters",
)  # fmt: skip
CATALOGUE_OPTIONS = (
    "6-inch", "8-inch", "box of 6", "box of 12", "party tray of 30", "less sweet", "eggless",
    "gluten-free", "vegan", "halal-certified", "with extra kaya", "gift-wrapped",
    "corporate order", "Hari Raya hamper", "Chinese New Year box", "Deepavali set",
    "birthday pack", "same-day delivery", "self-collection", "frozen, bake at home",
    "mini size", "family size", "sugar-free", "with a handwritten card", "wedding favour",
)  # fmt: skip
CATALOGUE_OUTLETS = (
    "Tampines", "Jurong East", "Bishan", "Toa Payoh", "Ang Mo Kio", "Bedok", "Punggol",
    "Sengkang", "Woodlands", "Yishun", "Clementi", "Bukit Timah", "Orchard", "Tiong Bahru",
    "Katong", "Serangoon", "Hougang", "Pasir Ris", "Queenstown", "Novena", "Bugis", "Chinatown",
    "Marine Parade", "Boon Lay", "Choa Chu Kang", "Bukit Batok", "Holland Village", "Kallang",
    "Geylang", "Paya Lebar",
)  # fmt: skip
CATALOGUE_PHRASINGS = (
    "Do you have the {item} ({option}) at {outlet}?",
    "Can I get {item}, {option}, from your {outlet} outlet?",
    "How much is the {item} ({option}) at the {outlet} branch?",
    "Is {item} in {option} sold at {outlet}?",
    "Where in {outlet} can I buy your {item}, {option}?",
    "{outlet} outlet: {item} ({option}) available today?",
)


def catalogue_entries(chunks: int) -> list[dict[str, Any]]:
    """Made-up shop entries (item x option x outlet, 3 phrasings + answer) of `chunks` chunks.

    Distinct, varied FAQ entries about things CLINC150 never asks: they make the index big
    (more to search, more near neighbours) without taking the CLINC150 questions' answers.
    """
    entries: list[dict[str, Any]] = []
    combos = itertools.product(CATALOGUE_OUTLETS, CATALOGUE_OPTIONS, CATALOGUE_ITEMS)
    left = chunks
    for n, (outlet, option, item) in enumerate(combos):
        if left < 2:
            break
        size = min(4, left)  # 3 phrasings and the answer, fewer for the last entry
        templates = [CATALOGUE_PHRASINGS[(n + k) % len(CATALOGUE_PHRASINGS)] for k in range(3)]
        phrasings = [t.format(item=item, option=option, outlet=outlet) for t in templates]
        price = 2 + (n * 37 % 480) / 10
        entries.append(
            {
                "id": f"item-{n:06d}",
                "question": phrasings[0],
                "alternatives": phrasings[1 : size - 1],
                "answer": f"Our {outlet} outlet has the {item} ({option}) at S${price:.2f}; "
                f"order before {10 + n % 8}:00 to collect it the same day.",
            }
        )
        left -= size
    if left >= 2:
        raise ValueError(f"the catalogue holds {chunks - left:,} chunks at most")
    return entries


def write_passage_kb(folder: Path) -> None:
    """One Markdown document per StackFAQ thread, a section per answer (passage-length chunks)."""
    threads = json.loads((SHARED / "stackfaq" / "stackExchange-FAQ.json").read_text())
    folder.mkdir(parents=True, exist_ok=True)
    for n, thread in enumerate(threads["root"]["qapair"]):
        given = thread["answer"]  # a list of answers, or one answer as a plain string
        answers = [a for a in ([given] if isinstance(given, str) else given) if a and a.strip()]
        body = "\n\n".join(f"## Answer {k + 1}\n\n{a}" for k, a in enumerate(answers))
        (folder / f"thread-{n:03d}.md").write_text(f"# {thread['question']}\n\n{body}\n")


async def ingest(services: Services, folder: Path) -> tuple[int, float]:
    start = time.perf_counter()
    report = await services.ingestor.ingest([folder])
    return report.chunks, time.perf_counter() - start


def message(text: str) -> InboundMessage:
    return InboundMessage(
        channel=ChannelName("telegram"),
        external_user_id=str(uuid.uuid4()),
        provider_message_id=str(uuid.uuid4()),
        text=text,
        received_at=datetime.now(UTC),
    )


def cpu_seconds() -> dict[str, float]:
    """CPU time used so far by this process, PostgreSQL and Valkey."""
    totals = {"bot": 0.0, "postgres": 0.0, "valkey": 0.0}
    me = psutil.Process()
    totals["bot"] = sum(me.cpu_times()[:2])
    for proc in psutil.process_iter(["name"]):
        name = proc.info["name"] or ""
        group = "postgres" if name.startswith("postgres") else "valkey" if "valkey" in name else ""
        if group:
            try:
                totals[group] += sum(proc.cpu_times()[:2])
            except psutil.Error:
                continue
    return totals


async def pipeline(services: Services, questions: list[str], concurrency: int) -> dict[str, float]:
    """Push questions through the core with `concurrency` customers writing at once."""
    latencies: list[float] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for q in questions:
        queue.put_nowait(q)

    async def customer() -> None:
        while not queue.empty():
            text = queue.get_nowait()
            start = time.perf_counter()
            reply = await services.core.handle(message(text))
            latencies.append(time.perf_counter() - start)
            assert reply is not None

    for q in questions[:concurrency]:  # warm-up: model, pools, index caches
        await services.core.handle(message(q))
    cpu_before = cpu_seconds()
    start = time.perf_counter()
    await asyncio.gather(*(customer() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    cpu_after = cpu_seconds()
    cpu = {k: 1000 * (cpu_after[k] - cpu_before[k]) / len(questions) for k in cpu_after}
    latencies.sort()
    return {
        "messages": len(questions),
        "per_second": len(questions) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
        **{f"cpu_{k}_ms": v for k, v in cpu.items()},
    }


async def run(sizes: list[int], concurrencies: list[int], messages: int) -> list[str]:
    lines: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="speed-"))
    embedded = EmbeddedServices(root / "embedded", postgres=True, valkey=True)
    embedded.start()
    try:
        questions = [t for t, _ in clinc()["test"]]
        passages = root / "passages"
        write_passage_kb(passages)
        for size in sizes:
            settings = settings_class()(
                data_dir=root / f"data-{size}",
                database_url=SecretStr(embedded.database_url),
                redis_url=SecretStr(embedded.redis_url),
                qdrant_collection=f"speed{size}",
            )
            async with Services(settings) as services:
                await services.storage.pool.execute(
                    "TRUNCATE knowledge_documents, contacts CASCADE"
                )
                kb = root / f"faq-{size}"
                write_faq_kb(kb, size)
                chunks, seconds = await ingest(services, kb)
                lines.append(
                    f"| ingest FAQ phrasings | {chunks:,} chunks | {seconds:.1f} s | "
                    f"{chunks / seconds:.0f} chunks/s | |"
                )
                if size == sizes[0]:
                    chunks_p, seconds_p = await ingest(services, passages)
                    lines.append(
                        f"| ingest Markdown passages | {chunks_p:,} chunks | {seconds_p:.1f} s | "
                        f"{chunks_p / seconds_p:.0f} chunks/s | |"
                    )
                total = await services.index.count()
                for concurrency in concurrencies:
                    count = messages if concurrency > 1 else max(200, messages // 10)
                    figures = await pipeline(services, questions[:count], concurrency)
                    lines.append(
                        f"| pipeline, {total:,} chunks, concurrency {concurrency} | "
                        f"{figures['messages']:.0f} messages | "
                        f"p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms | "
                        f"{figures['per_second']:.0f} messages/s | "
                        f"{figures['cpu_bot_ms']:.2f} / {figures['cpu_postgres_ms']:.2f} / "
                        f"{figures['cpu_valkey_ms']:.2f} ms |"
                    )
                    print(lines[-1], flush=True)
    finally:
        embedded.stop()
        shutil.rmtree(root, ignore_errors=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--concurrency", default="1,32")
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    lines = asyncio.run(
        run(
            [int(s) for s in args.sizes.split(",")],
            [int(c) for c in args.concurrency.split(",")],
            args.messages,
        )
    )
    print(f"\n{os.cpu_count()} cores, {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d}")
    print("| what | size | time | rate | CPU per message: bot / PostgreSQL / Valkey |")
    print("| --- | --- | --- | --- | --- |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
