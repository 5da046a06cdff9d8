"""Does a Markdown section's chunk need its document's title? StackFAQ as Markdown, acc@1 by thread.

Each StackFAQ thread becomes one Markdown file: its question as the H1 title, one `## Answer k`
section per answer (as bench/speed.py writes it for bench/peer_compare.py). The bot's own
`Ingestor` loads the folder into a fresh index with the default embedder, and every paraphrase
(`rephr`) is ranked by `Retriever.retrieve_many`; a hit is a top entry from the paraphrase's own
thread. Run it before and after a change to chunking:

    .venv/bin/python bench/research/title_context.py
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from multilingual import MemoryCatalog
from speed import SHARED, write_passage_kb

from core.edge_index import EdgeIndex
from core.embedding import BUNDLED_MODEL, load_embedder
from core.retrieval import Retriever
from knowledge_base.ingest import Ingestor

THREAD = re.compile(r"thread-(\d+)")


def paraphrases() -> tuple[list[str], list[int]]:
    """Every usable StackFAQ paraphrase and its thread's number."""
    raw = json.loads((SHARED / "stackfaq" / "stackExchange-FAQ.json").read_text())
    texts: list[str] = []
    gold: list[int] = []
    for n, thread in enumerate(raw["root"]["qapair"]):
        for paraphrase in thread["rephr"]:
            if paraphrase and paraphrase.strip() != "*":
                texts.append(" ".join(paraphrase.split()))
                gold.append(n)
    return texts, gold


async def main() -> None:
    """Ingest the Markdown threads, rank every paraphrase, print acc@1 and the chunk count."""
    texts, gold = paraphrases()
    embedder = load_embedder(BUNDLED_MODEL)
    with tempfile.TemporaryDirectory(prefix="title-context-") as folder:
        kb = Path(folder) / "kb"
        write_passage_kb(kb)
        index = EdgeIndex(str(Path(folder) / "index"), "knowledge")
        retriever = Retriever(embedder, index)
        try:
            start = time.perf_counter()
            report = await Ingestor(MemoryCatalog(), index, embedder).ingest([kb])
            seconds = time.perf_counter() - start
            rankings = []
            for s in range(0, len(texts), 256):
                rankings.extend(await retriever.retrieve_many(texts[s : s + 256]))
        finally:
            await retriever.close()
            await index.close()
            embedder.close()
    top = [THREAD.search(r.top.best.document) if r.top else None for r in rankings]
    hits = sum(1 for m, g in zip(top, gold, strict=True) if m and int(m[1]) == g)
    print(f"{report.chunks} chunks ingested in {seconds:.0f} s")
    print(f"acc@1 {hits / len(texts):.3f} over {len(texts)} paraphrases")


if __name__ == "__main__":
    asyncio.run(main())
