#!/usr/bin/env python
"""Answer quality of the bot's own retrieval code on public FAQ data (StackFAQ, CLINC150).

Run from the repository root:

    .venv/bin/python bench/eval_quality.py --sets stackfaq,clinc150 --out bench/QUALITY.md

Each data set becomes a knowledge base of `core.knowledge.Chunk`s built as in
bench/research/retrieval_study.py. The chunks are embedded as the bot's ingestion embeds them
(`knowledge_base.ingest.embed_chunks`) with the model of EMBEDDING_MODEL (default: the bundled
all-MiniLM-L6-v2; EMBEDDING_INT8 as in the bot), given `core.sparse.document_vector`
BM25 vectors and upserted as `IndexedChunk`s into an `EdgeIndex` (the embedded default) in a
temporary folder. Queries go through `Retriever.retrieve_many` with the bot's defaults, and the
bot's own decision comes from `OfflineComposer.compose_now` with the model's default thresholds.

The index is wrapped in a pass-through recorder, so the dense and BM25 hits the retriever saw are
kept; the two baselines (BM25-only, dense-only) rank those same hits with small local functions
and get a threshold tuned on CLINC val + oos_val (maximum val overall accuracy). The data live in
../shared/eval next to the repository (see its README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "eval"
sys.path.insert(0, str(REPO))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bot.thresholds import DEFAULT_THRESHOLDS  # noqa: E402
from core.compose import ComposeRequest, OfflineComposer, Thresholds  # noqa: E402
from core.dual_embedding import DualEmbedder, Scale, query_scale  # noqa: E402
from core.edge_index import EdgeIndex  # noqa: E402
from core.embedding import BUNDLED_MODEL, Embedder, load_embedder  # noqa: E402
from core.knowledge import Chunk, ChunkKind  # noqa: E402
from core.ranking import Ranking, RankingParams  # noqa: E402
from core.retrieval import Retriever  # noqa: E402
from core.sparse import document_vector  # noqa: E402
from core.vector_index import (  # noqa: E402
    IndexedChunk,
    IndexQuery,
    SearchResult,
    VectorIndex,
)
from knowledge_base import ingest  # noqa: E402

MODEL = os.environ.get("EMBEDDING_MODEL", BUNDLED_MODEL)
INT8 = os.environ.get("EMBEDDING_INT8", "").lower() in ("1", "true")

SETS = ("stackfaq", "clinc150")
ANSWER_WORDS = 180  # faq_answer chunk = question + " " + answer, cut to this many words (research)
UPSERT_BATCH = 4096  # chunks per EdgeIndex.upsert (each upsert optimizes and flushes)
COLLECTION = "eval"
BOT = "bot default"
DENSE = "dense-only"
BM25 = "BM25-only"
CONFIGS = (BM25, DENSE, BOT)
SINGLE = "(bot ranking, single threshold)"
KEEP_MARKER = "<!-- hand-written below: eval_quality.py keeps everything after this line -->"


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Data: chunks and queries, as in bench/research/retrieval_study.py
# --------------------------------------------------------------------------------------


@dataclass
class QuerySet:
    name: str
    texts: list[str]
    gold: list[str | None]  # entry id; None = out of scope


@dataclass
class DataSet:
    name: str
    chunks: list[Chunk]
    queries: dict[str, QuerySet]


def load_stackfaq() -> DataSet:
    """One entry per thread: its question chunk and one question+answer chunk per answer."""
    raw = json.loads((SHARED / "stackfaq" / "stackExchange-FAQ.json").read_text())
    chunks: list[Chunk] = []
    texts: list[str] = []
    gold: list[str | None] = []
    for i, thread in enumerate(raw["root"]["qapair"]):
        entry = str(i)
        question = " ".join(thread["question"].split())
        answers: list[str] = []
        given = thread["answer"]  # a list of answers, or one answer as a plain string
        for answer in [given] if isinstance(given, str) else given:
            answer = " ".join((answer or "").split())
            if answer and answer not in answers:  # the file repeats some answers, has empty ones
                answers.append(answer)
        first = answers[0] if answers else ""
        chunks.append(_chunk("stackfaq", entry, question, question, first, ChunkKind.FAQ_QUESTION))
        for answer in answers:
            text = " ".join((question + " " + answer).split()[:ANSWER_WORDS])
            chunks.append(_chunk("stackfaq", entry, question, text, answer, ChunkKind.FAQ_ANSWER))
        for paraphrase in thread["rephr"]:
            if paraphrase is None or paraphrase.strip() == "*":
                continue
            texts.append(" ".join(paraphrase.split()))
            gold.append(entry)
    chunks = [_renumber(c, n) for n, c in enumerate(chunks)]
    return DataSet("StackFAQ", chunks, {"all": QuerySet("StackFAQ", texts, gold)})


def load_clinc() -> DataSet:
    """One entry per intent: a question chunk per training utterance; oos = out of scope."""
    raw = json.loads((SHARED / "clinc150" / "data_full.json").read_text())
    chunks = [
        _chunk("clinc150", intent, intent, text, intent, ChunkKind.FAQ_QUESTION)
        for text, intent in raw["train"]
    ]
    chunks = [_renumber(c, n) for n, c in enumerate(chunks)]
    queries = {}
    for split in ("val", "test"):
        items = raw[split] + raw["oos_" + split]
        queries[split] = QuerySet(
            f"CLINC150 {split}+oos_{split}",
            [text for text, _ in items],
            [None if intent == "oos" else intent for _, intent in items],
        )
    return DataSet("CLINC150", chunks, queries)


def _chunk(document: str, entry: str, title: str, text: str, answer: str, kind: ChunkKind) -> Chunk:
    return Chunk(document, entry, title, text, answer, kind, 0)


def _renumber(chunk: Chunk, position: int) -> Chunk:
    """Give every chunk its own position: the point id is derived from it."""
    return Chunk(
        chunk.document,
        chunk.entry_id,
        chunk.title,
        chunk.text,
        chunk.answer,
        chunk.kind,
        position,
    )


LOADERS: dict[str, Callable[[], DataSet]] = {"stackfaq": load_stackfaq, "clinc150": load_clinc}


# --------------------------------------------------------------------------------------
# Running the bot's code
# --------------------------------------------------------------------------------------


@dataclass
class RecordingIndex:
    """Pass-through VectorIndex that keeps what search_batch was asked and returned."""

    inner: VectorIndex
    queries: list[IndexQuery] = field(default_factory=list)
    results: list[SearchResult] = field(default_factory=list)
    limits: set[int] = field(default_factory=set)

    async def ensure_collection(self, dim: int, model: str | None = None) -> None:
        await self.inner.ensure_collection(dim, model)

    async def reset_collection(self, dim: int, model: str | None = None) -> None:
        await self.inner.reset_collection(dim, model)

    async def upsert(self, points: Sequence[IndexedChunk]) -> None:
        await self.inner.upsert(points)

    async def delete_document(self, document: str) -> None:
        await self.inner.delete_document(document)

    async def search_batch(self, queries: Sequence[IndexQuery], limit: int) -> list[SearchResult]:
        results = await self.inner.search_batch(queries, limit)
        self.queries.extend(queries)
        self.results.extend(results)
        self.limits.add(limit)
        return results

    async def count(self, document: str | None = None) -> int:
        return await self.inner.count(document)

    async def close(self) -> None:
        await self.inner.close()


@dataclass
class Hits:
    """Per query: the (entry id, score) of each dense and each BM25 hit, best first."""

    dense: list[list[tuple[str, float]]]
    sparse: list[list[tuple[str, float]]]
    dense_vectors: np.ndarray  # the query embeddings the retriever computed
    dense_chunks: list[list[int]]  # chunk positions of the dense hits (for the exact check)


@dataclass
class Outcome:
    """One configuration on one query set."""

    ranked: list[list[str]]  # top 10 entry ids per query
    conf: np.ndarray
    decision: list[str] = field(default_factory=list)  # answer | choices | decline
    choices: list[tuple[str, ...]] = field(default_factory=list)


@dataclass
class Measured:
    data: DataSet
    outcomes: dict[str, dict[str, Outcome]]  # split -> config -> outcome
    hits: dict[str, Hits]
    chunk_vectors: np.ndarray
    limit: int
    timings: dict[str, float]


def default_thresholds() -> Thresholds:
    """The bot's thresholds for MODEL without ANSWER_THRESHOLD, CHOICE_THRESHOLD, ANSWER_MARGIN."""
    defaults = DEFAULT_THRESHOLDS.get((MODEL, INT8), DEFAULT_THRESHOLDS[BUNDLED_MODEL, INT8])
    answer, choice, margin = defaults
    return Thresholds(answer=answer, choice=choice, margin=margin)


async def measure(data: DataSet, embedder: Embedder) -> Measured:
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="eval-quality-") as folder:
        index = RecordingIndex(EdgeIndex(folder, COLLECTION))
        try:
            t0 = time.perf_counter()
            vectors = await ingest.embed_chunks(embedder, data.chunks)
            timings["embed KB"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            await index.ensure_collection(embedder.dimension, embedder.name)
            for start in range(0, len(data.chunks), UPSERT_BATCH):
                await index.upsert(
                    [
                        IndexedChunk(chunk, vector, document_vector(chunk.text))
                        for chunk, vector in zip(
                            data.chunks[start : start + UPSERT_BATCH],
                            vectors[start : start + UPSERT_BATCH],
                            strict=True,
                        )
                    ]
                )
            stored = await index.count()
            if stored != len(data.chunks):
                raise RuntimeError(f"{data.name}: {stored} points stored, {len(data.chunks)} sent")
            timings["index"] = time.perf_counter() - t0
            retriever = Retriever(embedder, index)  # the bot's defaults (bot/services.py)
            composer = OfflineComposer(default_thresholds())  # as the bot without settings
            outcomes: dict[str, dict[str, Outcome]] = {}
            hits: dict[str, Hits] = {}
            t0 = time.perf_counter()
            for split, queries in data.queries.items():
                rankings: list[Ranking] = []
                searches: list[IndexQuery] = []
                results: list[SearchResult] = []
                for text in queries.texts:  # one at a time: each question's searches are known
                    searched = len(index.results)
                    rankings.extend(await retriever.retrieve_many([text]))
                    if len(index.results) == searched:
                        raise RuntimeError(f"{data.name}: no search recorded for {text!r}")
                    # MiniLM first: an unsure English question is searched again with both
                    # models. The baselines take the search its ranking came from, the last.
                    searches.append(index.queries[-1])
                    results.append(index.results[-1])
                hits[split] = _hits(searches, results, embedder)
                outcomes[split] = {
                    BOT: _bot_outcome(queries, rankings, composer),
                    DENSE: _rank_outcome(hits[split].dense),
                    BM25: _rank_outcome(hits[split].sparse, positive_only=True),
                }
            timings["queries"] = time.perf_counter() - t0
            await retriever.close()
            (limit,) = index.limits
        finally:
            await index.close()
    return Measured(data, outcomes, hits, np.asarray(vectors), limit, timings)


def _hits(queries: list[IndexQuery], results: list[SearchResult], embedder: Embedder) -> Hits:
    scales = [_bot_scale(q, embedder) for q in queries]
    return Hits(
        dense=[
            [(h.chunk.entry_id, scale.apply(h.score)) for h in r.dense_hits]
            for r, scale in zip(results, scales, strict=True)
        ],
        sparse=[[(h.chunk.entry_id, h.score) for h in r.sparse_hits] for r in results],
        dense_vectors=np.asarray([np.asarray(q.dense, dtype=np.float32) for q in queries]),
        dense_chunks=[[h.chunk.position for h in r.dense_hits] for r in results],
    )


def _bot_scale(query: IndexQuery, embedder: Embedder) -> Scale:
    """How the retriever turned this search's scores into the weighted cosine sum it ranks by.

    With both models, MiniLM-first searches and searches with both models give raw scores on
    different scales; dense-only must compare them as the bot does. The query vector is
    [w * MiniLM ; (1 - w) * E5_STRETCH * E5] with both parts unit length, so w is the norm of its
    first part (core/dual_embedding.py).
    """
    if not isinstance(embedder, DualEmbedder):
        return Scale()
    vector = np.asarray(query.dense, dtype=np.float32)
    return query_scale(vector, float(np.linalg.norm(vector[: embedder.english.dimension])))


def _bot_outcome(queries: QuerySet, rankings: list[Ranking], composer: OfflineComposer) -> Outcome:
    out = Outcome(
        ranked=[[e.entry_id for e in r.entries[:10]] for r in rankings],
        conf=np.array([r.confidence for r in rankings]),
    )
    for text, ranking in zip(queries.texts, rankings, strict=True):
        reply = composer.compose_now(ComposeRequest(question=text, ranking=ranking))
        if reply.source_entry_ids:
            out.decision.append("answer")
        elif reply.choices:
            out.decision.append("choices")
        else:
            out.decision.append("decline")
        out.choices.append(tuple(c.entry_id for c in reply.choices))
    return out


def _rank_outcome(hits: list[list[tuple[str, float]]], positive_only: bool = False) -> Outcome:
    """Entry score = its best hit's score; confidence = the top entry's score (0 if none)."""
    ranked, conf = [], []
    for query_hits in hits:
        best: dict[str, float] = {}
        for entry, score in query_hits:
            if positive_only and score <= 0:
                continue
            best[entry] = max(best.get(entry, -math.inf), score)
        order = sorted(best.items(), key=lambda x: (-x[1], x[0]))
        ranked.append([e for e, _ in order[:10]])
        conf.append(order[0][1] if order else 0.0)
    return Outcome(ranked, np.array(conf))


def decide_by_threshold(outcome: Outcome, threshold: float) -> Outcome:
    decision = ["answer" if c >= threshold else "decline" for c in outcome.conf]
    return Outcome(outcome.ranked, outcome.conf, decision, [()] * len(decision))


# --------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------


def gold_ranks(outcome: Outcome, gold: list[str | None]) -> np.ndarray:
    """0-based rank of the gold entry in the top 10 (10 if absent); in-scope queries only."""
    return np.array(
        [r.index(g) if g in r else 10 for r, g in zip(outcome.ranked, gold, strict=True) if g]
    )


def rank_metrics(outcome: Outcome, gold: list[str | None]) -> dict[str, float]:
    r = gold_ranks(outcome, gold)
    return {
        "acc1": 100 * float(np.mean(r == 0)),
        "r5": 100 * float(np.mean(r < 5)),
        "mrr10": 100 * float(np.mean(np.where(r < 10, 1.0 / (r + 1), 0.0))),
    }


def decision_metrics(outcome: Outcome, gold: list[str | None]) -> dict[str, float]:
    ins = np.array([g is not None for g in gold])
    top_ok = np.array([bool(r) and r[0] == g for r, g in zip(outcome.ranked, gold, strict=True)])
    answer = np.array([d == "answer" for d in outcome.decision])
    choices = np.array([d == "choices" for d in outcome.decision])
    decline = ~answer & ~choices
    gold_in = np.array([g in c for c, g in zip(outcome.choices, gold, strict=True)])
    ok = (ins & answer & top_ok) | (~ins & ~answer)
    # FINDINGS.md's "recovered counted correct": a choice list holding the gold entry counts
    # for an in-scope query; an out-of-scope query counts only when declined outright
    ok_choices = (ins & ((answer & top_ok) | (choices & gold_in))) | (~ins & decline)

    def pct(mask: np.ndarray, of: np.ndarray) -> float:
        return 100 * float(mask[of].mean()) if of.any() else math.nan

    n_in_choices = int((ins & choices).sum())
    return {
        "in_acc": pct(answer & top_ok, ins),
        "oos_rec": pct(~answer, ~ins),
        "overall": 100 * float(ok.mean()),
        "overall_choices": 100 * float(ok_choices.mean()),
        "precision": 100 * float((answer & top_ok).sum()) / max(int(answer.sum()), 1),
        "in_answer": pct(answer, ins),
        "in_choices": pct(choices, ins),
        "in_decline": pct(decline, ins),
        "oos_answer": pct(answer, ~ins),
        "oos_choices": pct(choices, ~ins),
        "oos_decline": pct(decline, ~ins),
        "gold_in_choices": (
            100 * float((ins & choices & gold_in).sum()) / n_in_choices
            if n_in_choices
            else math.nan
        ),
        "n_in_choices": n_in_choices,
        "n_ins": int(ins.sum()),
        "n_oos": int((~ins).sum()),
    }


def tune_threshold(outcome: Outcome, gold: list[str | None]) -> float:
    """Threshold (answer iff conf >= t) with the best overall accuracy on this set."""
    ins = np.array([g is not None for g in gold])
    top_ok = np.array([bool(r) and r[0] == g for r, g in zip(outcome.ranked, gold, strict=True)])
    order = np.argsort(outcome.conf, kind="stable")
    conf = outcome.conf[order]
    good = (ins & top_ok)[order].astype(float)
    oos = (~ins)[order].astype(float)
    # the cut before position i answers order[i:]
    answered_ok = np.concatenate([np.cumsum(good[::-1])[::-1], [0.0]])
    declined_oos = np.concatenate([[0.0], np.cumsum(oos)])
    score = answered_ok + declined_oos
    distinct = np.concatenate([[True], conf[1:] > conf[:-1], [True]])
    i = int(np.argmax(np.where(distinct, score, -np.inf)))
    if i == 0:
        return float(conf[0])
    if i == len(conf):
        return float(np.nextafter(conf[-1], np.inf))
    return float(0.5 * (conf[i - 1] + conf[i]))


def dense_agreement(m: Measured, split: str) -> tuple[float, float, float]:
    """Against exact top-k search over the same vectors: share of queries with the same hit set,
    recall of the exact top-k, and share of queries whose exact best chunk was not returned."""
    h = m.hits[split]
    k = m.limit
    same, found, missed_top = 0, 0, 0
    for start in range(0, len(h.dense_chunks), 1024):
        sims = h.dense_vectors[start : start + 1024] @ m.chunk_vectors.T
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        best = sims.max(axis=1)
        got_all = zip(top, h.dense_chunks[start : start + 1024], strict=True)
        for row, (exact, got) in enumerate(got_all):
            hit = len(set(exact.tolist()) & set(got))
            same += hit == k
            found += hit
            # Compared in the index's own space: the hits' scores were rescaled for ranking
            # (two models' weighted cosines), the exact search's were not.
            returned_best = float(sims[row, got].max()) if got else -math.inf
            missed_top += returned_best < best[row] - 1e-5
    n = len(h.dense_chunks)
    return 100 * same / n, 100 * found / (n * k), 100 * missed_top / n


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def f1(x: float) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(x) for x in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


DECISION_HEADER = [
    "configuration",
    "threshold",
    "in-scope acc",
    "OOS recall",
    "overall",
    "overall, choices counted",
    "precision of answers",
    "in-scope: answered / choices / declined %",
    "OOS: answered / choices / declined %",
    "gold among choices %",
]


def decision_row(name: str, threshold: str, d: dict[str, float]) -> list[str]:
    return [
        name,
        threshold,
        f1(d["in_acc"]),
        f1(d["oos_rec"]),
        f"**{f1(d['overall'])}**",
        f1(d["overall_choices"]),
        f1(d["precision"]),
        f"{f1(d['in_answer'])} / {f1(d['in_choices'])} / {f1(d['in_decline'])}",
        f"{f1(d['oos_answer'])} / {f1(d['oos_choices'])} / {f1(d['oos_decline'])}",
        f"{f1(d['gold_in_choices'])} (of {d['n_in_choices']})",
    ]


def report(measured: dict[str, Measured], thresholds: Thresholds) -> str:
    out: list[str] = []
    tuned: dict[str, float] = {}
    clinc = measured.get("clinc150")
    if clinc is not None:
        val_gold = clinc.data.queries["val"].gold
        for name in (BM25, DENSE):
            tuned[name] = tune_threshold(clinc.outcomes["val"][name], val_gold)
    bot_t = (
        f"{thresholds.answer} (margin {thresholds.margin}; choices from {thresholds.choice}), "
        "bot's default, not tuned"
    )

    def label(name: str) -> str:
        if name == BOT:
            return bot_t
        if name in tuned:
            return f"{tuned[name]:.3f} (tuned on CLINC val)"
        return "—"

    def outcome_for(m: Measured, split: str, name: str) -> Outcome | None:
        o = m.outcomes[split][name]
        if name == BOT:
            return o
        return decide_by_threshold(o, tuned[name]) if name in tuned else None

    for key, m in measured.items():
        n_q = sum(len(q.texts) for q in m.data.queries.values())
        kinds = {k: sum(c.kind is k for c in m.data.chunks) for k in ChunkKind}
        entries = len({c.entry_id for c in m.data.chunks})
        out.append(f"## {m.data.name}\n")
        out.append(
            f"{entries} entries, {len(m.data.chunks)} chunks "
            f"({kinds[ChunkKind.FAQ_QUESTION]} faq_question, {kinds[ChunkKind.FAQ_ANSWER]} "
            f"faq_answer), {n_q} queries; {m.limit} dense + {m.limit} BM25 hits per query. "
            f"Time: embed KB {m.timings['embed KB']:.0f} s, index {m.timings['index']:.0f} s, "
            f"queries {m.timings['queries']:.0f} s.\n"
        )
        splits = ["all"] if key == "stackfaq" else ["val", "test"]
        out.append("### Entry ranking (in-scope queries): acc@1 / recall@5 / MRR@10\n")
        rows = []
        for name in CONFIGS:
            row = [name]
            for split in splits:
                r = rank_metrics(m.outcomes[split][name], m.data.queries[split].gold)
                row.append(f"{f1(r['acc1'])} / {f1(r['r5'])} / {f1(r['mrr10'])}")
            rows.append(row)
        out.append(table(["configuration", *[m.data.queries[s].name for s in splits]], rows))
        for split in splits:
            queries = m.data.queries[split]
            out.append(f"### Answer / choices / decline: {queries.name}\n")
            rows = []
            for name in CONFIGS:
                o = outcome_for(m, split, name)
                if o is None:
                    rows.append([name, "— (needs clinc150 in --sets)", *["—"] * 8])
                else:
                    rows.append(decision_row(name, label(name), decision_metrics(o, queries.gold)))
            single = decide_by_threshold(m.outcomes[split][BOT], thresholds.answer)
            rows.append(
                decision_row(
                    SINGLE,
                    f"{thresholds.answer} only (no margin, no choices)",
                    decision_metrics(single, queries.gold),
                )
            )
            out.append(table(DECISION_HEADER, rows))
        agree = [dense_agreement(m, s) for s in splits]
        out.append(
            "Dense hits from EdgeIndex vs exact (numpy) top-"
            f"{m.limit} over the same vectors: "
            + "; ".join(
                f"{m.data.queries[s].name}: identical set for {f1(a)} % of queries, "
                f"recall {f1(r)} %, exact best chunk not returned for {f1(t)} %"
                for s, (a, r, t) in zip(splits, agree, strict=True)
            )
            + ".\n"
        )
    return "\n".join(out)


NOTES = """\
How to read this:

* **Bot default** = `Retriever.retrieve_many` with its defaults (`RankingParams()`: mean of the
  entry's best 2 dense cosines + 0.05 x BM25 / the query's best BM25; limit {limit} hits per
  search), then `OfflineComposer.compose_now` with the default `Thresholds` ({t.answer} to
  answer with a lead of {t.margin} over the runner-up, choices from {t.choice}). These thresholds
  are the bot's own defaults, **not re-tuned** on these data.
* **BM25-only** / **dense-only**: the same hits the retriever got from the index, ranked by the
  entry's best BM25 score / best cosine; confidence = the top entry's score; answer iff
  confidence >= a threshold tuned on CLINC val + oos_val for maximum val overall accuracy; they
  never offer choices. On StackFAQ they use the CLINC-tuned threshold (BM25 scores depend on the
  corpus, so that transfer means little for BM25).
* **(bot ranking, single threshold)**: the bot's ranking with only `confidence >= {t.answer}`
  (no margin test, no choices). This is the policy behind the single-threshold figures in
  bench/research/FINDINGS.md (e.g. CLINC test overall 84.9 at 0.64), for comparison only.
* acc@1 / recall@5 / MRR@10: rank of the gold entry among the ranked entries (top 10 kept).
* in-scope acc: answered **and** right, over in-scope queries; OOS recall: not answered (choices
  or decline), over out-of-scope queries; overall: both over all queries. StackFAQ has no
  out-of-scope queries, so its overall = in-scope acc. Precision of answers: share of answered
  queries whose answer is right. Overall, choices counted: as overall, but an in-scope query
  offered choices that contain the gold entry counts as right, and an out-of-scope query counts
  only when declined outright (FINDINGS.md's "recovered counted correct"). Gold among
  choices: of the in-scope queries offered "Did you mean ...?", the share whose choices contain
  the gold entry.
"""


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    import torch

    return (
        f"{cores} cores{f' ({model})' if model else ''}, {platform.system()} "
        f"{platform.machine()}, Python {platform.python_version()}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads)"
    )


def command(argv: list[str]) -> str:
    args = []
    for a in argv:
        path = Path(a)
        if path.is_absolute() and path.resolve().is_relative_to(REPO):
            a = str(path.resolve().relative_to(REPO))
        args.append(a)
    return " ".join([".venv/bin/python", "bench/eval_quality.py", *args])


async def run(sets: list[str]) -> tuple[dict[str, Measured], float]:
    t0 = time.perf_counter()
    embedder = load_embedder(MODEL, quantize=INT8)
    measured: dict[str, Measured] = {}
    try:
        for key in sets:
            data = LOADERS[key]()
            log(f"{data.name}: {len(data.chunks)} chunks, embedding and indexing ...")
            measured[key] = await measure(data, embedder)
            log(f"{data.name}: done ({measured[key].timings})")
    finally:
        embedder.close()
    return measured, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sets", default=",".join(SETS), help="comma-separated: " + ", ".join(SETS)
    )
    parser.add_argument("--out", type=Path, help="write the Markdown report here")
    args = parser.parse_args()
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [s for s in sets if s not in SETS]
    if unknown or not sets:
        parser.error(f"unknown set(s) {unknown}; choose from {', '.join(SETS)}")
    measured, seconds = asyncio.run(run(sets))
    thresholds = default_thresholds()
    limit = next(iter(measured.values())).limit
    body = report(measured, thresholds)
    header = (
        "# Answer quality of the bot's retrieval on public FAQ data\n\n"
        f"Command: `{command(sys.argv[1:])}`\n\n"
        f"Date: {dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}. "
        f"Machine: {machine()}. Runtime: {seconds:.0f} s. "
        f"Model: {MODEL}{' (int8)' if INT8 else ''}. Defaults: {RankingParams()}, {thresholds}.\n\n"
        + NOTES.format(limit=limit, t=thresholds)
    )
    text = header + "\n" + body
    print(text)
    if args.out is not None:
        kept = ""
        if args.out.exists():  # keep hand-written analysis that follows the marker
            previous = args.out.read_text()
            if KEEP_MARKER in previous:
                kept = "\n" + previous[previous.index(KEEP_MARKER) :]
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + kept)
        log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
