#!/usr/bin/env python
"""Ten businesses: does per-knowledge-base calibration beat the fixed default thresholds?

Run from the repository root:

    .venv/bin/python bench/business_calibration.py                     # val and test, all domains
    .venv/bin/python bench/business_calibration.py --splits val --domains banking,travel
    .venv/bin/python bench/business_calibration.py --designs balanced,all-oos

CLINC150's 10 domains (domains.json: domain -> 15 intents) stand for 10 small businesses. Each
business's knowledge base has one FAQ entry per intent of its domain: a `faq_question` chunk for
every `train` utterance of the intent (entry id = the intent, title = the intent with spaces,
answer = the intent), built as bench/eval_quality.py builds CLINC, embedded by the bot's
ingestion (`knowledge_base.ingest.embed_chunks`, the two-model default embedder, loaded once),
given `core.sparse.document_vector` BM25 vectors and upserted into its own `EdgeIndex` in a
temporary folder.

Queries per business and split (val for development, test for the report):

* in scope: the domain's utterances of the split; gold = their intent;
* out of scope, design "balanced" (the default, about half the queries): n utterances of the
  split's `oos_` set plus the same number n from the other 9 domains' utterances of the split,
  with n = min(size of the oos set, in-scope count / 2), both drawn with a fixed seed. Val: 300
  in scope, 100 oos_val + 100 others (40 % out of scope); test: 450, 225 + 225 (50 %);
* out of scope, design "all-oos": the whole oos set plus as many from the other domains
  (val 100 + 100, test 1000 + 1000: 82 % out of scope on test).

Each query goes through `Retriever.retrieve_many` (the bot's defaults, with a
`LanguageDetector` as the bot builds it) and `OfflineComposer.compose_now`. A query is handled
correctly when it is in scope and the reply answers with the gold entry first, or out of scope
and the reply neither answers nor offers choices. Two thresholds per business: (a) fixed,
`bot.config.default_thresholds(DUAL)`; (b) calibrated, `core.calibration.calibrate_index` on
the business's own chunks, applied to those defaults. The data live in ../shared/eval next to
the repository (see its README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "eval"
sys.path.insert(0, str(REPO))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bot.thresholds import default_thresholds  # noqa: E402
from core.calibration import Calibration, calibrate_index  # noqa: E402
from core.compose import ComposeRequest, OfflineComposer, Thresholds  # noqa: E402
from core.edge_index import EdgeIndex  # noqa: E402
from core.embedding import DUAL, Embedder, load_embedder  # noqa: E402
from core.knowledge import Chunk, ChunkKind  # noqa: E402
from core.language import LanguageDetector  # noqa: E402
from core.ranking import Ranking  # noqa: E402
from core.retrieval import Retriever  # noqa: E402
from core.sparse import document_vector  # noqa: E402
from core.vector_index import IndexedChunk, IndexQuery, SearchResult, VectorIndex  # noqa: E402
from knowledge_base import ingest  # noqa: E402

SPLITS = ("val", "test")
DESIGNS = ("balanced", "all-oos")
SEED = 150
QUERY_BATCH = 256  # questions per Retriever.retrieve_many call
UPSERT_BATCH = 4096  # chunks per EdgeIndex.upsert
CACHE = 100_000  # query vectors the shared retriever keeps: every text is embedded once


def log(*parts: object) -> None:
    """Progress, to stderr (stdout holds the report)."""
    print(*parts, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """One question; gold = the intent, None when out of scope."""

    text: str
    gold: str | None


@dataclass
class Clinc:
    """CLINC150 as loaded from data_full.json and domains.json."""

    data: dict[str, list[tuple[str, str]]]
    domains: dict[str, list[str]]

    @classmethod
    def load(cls) -> Clinc:
        """Read both files from the shared evaluation folder."""
        folder = SHARED / "clinc150"
        raw = json.loads((folder / "data_full.json").read_text(encoding="utf-8"))
        domains = json.loads((folder / "domains.json").read_text(encoding="utf-8"))
        data = {split: [(str(t), str(i)) for t, i in items] for split, items in raw.items()}
        return cls(data, {str(d): [str(i) for i in intents] for d, intents in domains.items()})

    def chunks(self, domain: str) -> list[Chunk]:
        """The business's knowledge: a faq_question chunk per train utterance of its intents."""
        intents = set(self.domains[domain])
        items = [(text, intent) for text, intent in self.data["train"] if intent in intents]
        return [
            Chunk(
                f"clinc150/{domain}",
                intent,
                intent.replace("_", " "),
                text,
                intent,
                ChunkKind.FAQ_QUESTION,
                position,  # every chunk its own position: the point id derives from it
            )
            for position, (text, intent) in enumerate(items)
        ]

    def queries(self, domain: str, split: str, design: str) -> list[Query]:
        """In-scope utterances of the domain, then the out-of-scope ones (see the docstring)."""
        intents = set(self.domains[domain])
        items = self.data[split]
        inside = [Query(t, i) for t, i in items if i in intents]
        others = [Query(t, None) for t, i in items if i not in intents]
        oos = [Query(t, None) for t, _ in self.data["oos_" + split]]
        # one shuffle per domain and split for both designs: balanced takes a prefix of all-oos
        rng = random.Random(f"{SEED}/{domain}/{split}")
        rng.shuffle(others)
        rng.shuffle(oos)
        n = len(oos) if design == "all-oos" else min(len(oos), len(inside) // 2)
        if n > len(others):
            raise ValueError(f"{domain} {split}: {n} other-domain utterances needed")
        return inside + oos[:n] + others[:n]


# --------------------------------------------------------------------------------------
# Running the bot's code
# --------------------------------------------------------------------------------------


@dataclass
class SwitchedIndex:
    """A VectorIndex that passes every call to the current business's index.

    One Retriever serves all businesses through it, so its vector cache embeds each question
    (the oos and other-domain utterances are asked of every business) only once.
    """

    current: VectorIndex | None = None

    def _target(self) -> VectorIndex:
        if self.current is None:
            raise RuntimeError("no business index selected")
        return self.current

    async def ensure_collection(self, dim: int, model: str | None = None) -> None:
        await self._target().ensure_collection(dim, model)

    async def reset_collection(self, dim: int, model: str | None = None) -> None:
        await self._target().reset_collection(dim, model)

    async def upsert(self, points: Sequence[IndexedChunk]) -> None:
        await self._target().upsert(points)

    async def delete_document(self, document: str) -> None:
        await self._target().delete_document(document)

    async def search_batch(self, queries: Sequence[IndexQuery], limit: int) -> list[SearchResult]:
        return await self._target().search_batch(queries, limit)

    async def count(self, document: str | None = None) -> int:
        return await self._target().count(document)

    async def close(self) -> None:
        """The business indexes are closed by their owner."""


@dataclass
class Scored:
    """One business on one split and design: correct per query, for both thresholds."""

    inside: int
    outside: int
    fixed: list[bool]
    calibrated: list[bool]
    gold: list[str | None]

    def overall(self, which: str) -> float:
        marks = self.fixed if which == "fixed" else self.calibrated
        return 100 * sum(marks) / len(marks)

    def in_scope(self, which: str) -> float:
        marks = self.fixed if which == "fixed" else self.calibrated
        kept = [m for m, g in zip(marks, self.gold, strict=True) if g is not None]
        return 100 * sum(kept) / len(kept)

    def declined(self, which: str) -> float:
        marks = self.fixed if which == "fixed" else self.calibrated
        kept = [m for m, g in zip(marks, self.gold, strict=True) if g is None]
        return 100 * sum(kept) / len(kept)


@dataclass
class Business:
    """What one domain gave: its calibration and its scores per (split, design)."""

    domain: str
    chunks: int
    calibration: Calibration
    thresholds: Thresholds
    scored: dict[tuple[str, str], Scored] = field(default_factory=dict)
    seconds: float = 0.0


def correct(query: Query, ranking: Ranking, composer: OfflineComposer) -> bool:
    """Right answer in scope; neither an answer nor choices out of scope."""
    reply = composer.compose_now(ComposeRequest(question=query.text, ranking=ranking))
    if query.gold is not None:
        return bool(reply.source_entry_ids) and reply.source_entry_ids[0] == query.gold
    return not reply.source_entry_ids and not reply.choices


async def build_index(
    folder: str, domain: str, chunks: list[Chunk], embedder: Embedder
) -> EdgeIndex:
    """Embed and index a business's chunks as eval_quality.py does."""
    index = EdgeIndex(folder, domain)
    vectors = await ingest.embed_chunks(embedder, chunks)
    await index.ensure_collection(embedder.dimension, embedder.name)
    for start in range(0, len(chunks), UPSERT_BATCH):
        await index.upsert(
            [
                IndexedChunk(chunk, vector, document_vector(chunk.text))
                for chunk, vector in zip(
                    chunks[start : start + UPSERT_BATCH],
                    vectors[start : start + UPSERT_BATCH],
                    strict=True,
                )
            ]
        )
    stored = await index.count()
    if stored != len(chunks):
        raise RuntimeError(f"{domain}: {stored} points stored, {len(chunks)} sent")
    return index


async def run_business(
    clinc: Clinc,
    domain: str,
    splits: list[str],
    designs: list[str],
    embedder: Embedder,
    retriever: Retriever,
    switched: SwitchedIndex,
    folder: str,
) -> Business:
    """Index one business, calibrate it, and ask it every query set."""
    start = time.perf_counter()
    chunks = clinc.chunks(domain)
    index = await build_index(folder, domain, chunks, embedder)
    switched.current = index
    try:
        base = default_thresholds(DUAL)
        calibration = await calibrate_index(retriever, chunks)
        business = Business(domain, len(chunks), calibration, calibration.apply(base))
        fixed = OfflineComposer(base)
        calibrated = OfflineComposer(business.thresholds)
        for split in splits:
            for design in designs:
                queries = clinc.queries(domain, split, design)
                rankings: list[Ranking] = []
                for at in range(0, len(queries), QUERY_BATCH):
                    texts = [q.text for q in queries[at : at + QUERY_BATCH]]
                    rankings.extend(await retriever.retrieve_many(texts))
                pairs = list(zip(queries, rankings, strict=True))
                inside = sum(q.gold is not None for q in queries)
                business.scored[split, design] = Scored(
                    inside=inside,
                    outside=len(queries) - inside,
                    fixed=[correct(q, r, fixed) for q, r in pairs],
                    calibrated=[correct(q, r, calibrated) for q, r in pairs],
                    gold=[q.gold for q in queries],
                )
    finally:
        switched.current = None
        await index.close()
    business.seconds = time.perf_counter() - start
    return business


async def run(domains: list[str], splits: list[str], designs: list[str]) -> list[Business]:
    """Every business in turn, with one embedder and one retriever for all of them."""
    clinc = Clinc.load()
    embedder = load_embedder(DUAL)
    switched = SwitchedIndex()
    retriever = Retriever(embedder, switched, cache_size=CACHE, detector=LanguageDetector())
    businesses = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-businesses-") as folder:
            for domain in domains:
                business = await run_business(
                    clinc, domain, splits, designs, embedder, retriever, switched, folder
                )
                log(
                    f"{domain}: {business.chunks} chunks, answer threshold "
                    f"{business.thresholds.answer:.3f}, {business.seconds:.0f} s"
                )
                businesses.append(business)
    finally:
        await retriever.close()
        embedder.close()
    return businesses


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def report_table(businesses: list[Business], split: str, design: str, base: Thresholds) -> str:
    """One row per business, and a summary line."""
    lines = [
        f"### {split} ({design}): fixed answer threshold {base.answer} "
        f"(choices from {base.choice}, margin {base.margin})",
        "",
        "| domain | in-scope / out-of-scope | fixed overall | calibrated overall "
        "| calibrated answer threshold | difference | in-scope acc fixed / calibrated "
        "| out-of-scope declined fixed / calibrated |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    differences = []
    for b in businesses:
        s = b.scored[split, design]
        fixed, calibrated = s.overall("fixed"), s.overall("calibrated")
        differences.append(calibrated - fixed)
        threshold = (
            "— (defaults kept)" if b.calibration.answer is None else f"{b.thresholds.answer:.3f}"
        )
        lines.append(
            f"| {b.domain} | {s.inside} / {s.outside} | {fixed:.1f} | {calibrated:.1f} "
            f"| {threshold} | {calibrated - fixed:+.1f} "
            f"| {s.in_scope('fixed'):.1f} / {s.in_scope('calibrated'):.1f} "
            f"| {s.declined('fixed'):.1f} / {s.declined('calibrated'):.1f} |"
        )
    better = sum(d > 0 for d in differences)
    worse = sum(d < 0 for d in differences)
    mean = sum(differences) / len(differences)
    lines += [
        "",
        f"Calibrated beats fixed in {better} of {len(differences)} domains (worse in {worse}); "
        f"mean difference {mean:+.2f} points (overall accuracy, percentage points).",
    ]
    return "\n".join(lines)


def report(
    businesses: list[Business], splits: list[str], designs: list[str], seconds: float
) -> str:
    """The Markdown report: tables per split and design, then every calibration's reasons."""
    base = default_thresholds(DUAL)
    parts = [
        "# Ten businesses: fixed default thresholds vs per-knowledge-base calibration",
        "",
        f"Model: {DUAL}. Runtime: {seconds:.0f} s. Seed: {SEED}.",
        "",
    ]
    for split in splits:
        for design in designs:
            parts += [report_table(businesses, split, design, base), ""]
    parts += ["## Calibration per business (`Calibration.explain()`)", ""]
    for b in businesses:
        explained = b.calibration.explain().replace("\n", "\n    ")
        parts += [
            f"**{b.domain}** ({b.chunks} chunks, {b.seconds:.0f} s):",
            "",
            f"    {explained}",
            "",
        ]
    return "\n".join(parts)


def choose(
    given: str, allowed: Sequence[str], what: str, parser: argparse.ArgumentParser
) -> list[str]:
    """Comma-separated names, each checked against allowed."""
    chosen = [s.strip() for s in given.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in allowed]
    if unknown or not chosen:
        parser.error(f"unknown {what} {unknown}; choose from {', '.join(allowed)}")
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--splits", default=",".join(SPLITS), help="comma-separated: val, test")
    parser.add_argument("--domains", default="", help="comma-separated CLINC150 domains (all)")
    parser.add_argument(
        "--designs", default="balanced", help="comma-separated: " + ", ".join(DESIGNS)
    )
    args = parser.parse_args()
    all_domains = list(Clinc.load().domains)
    domains = (
        choose(args.domains, all_domains, "domain(s)", parser) if args.domains else all_domains
    )
    splits = choose(args.splits, SPLITS, "split(s)", parser)
    designs = choose(args.designs, DESIGNS, "design(s)", parser)
    start = time.perf_counter()
    businesses = asyncio.run(run(domains, splits, designs))
    print(report(businesses, splits, designs, time.perf_counter() - start))


if __name__ == "__main__":
    main()
