"""Calibration's searches leave chunks out: one phrasing, or a whole entry with all its hits."""

from __future__ import annotations

from core.index_points import IndexedChunk
from core.knowledge import Chunk, ChunkKind
from core.retrieval import Retriever
from core.sparse import document_vector
from tests.unit.test_minilm_first import CosineIndex, RecordingModel


def _phrasing(entry: str, n: int) -> Chunk:
    return Chunk("faq.yaml", entry, entry, f"{entry} {n}", entry, ChunkKind.FAQ_QUESTION, n)


async def test_a_whole_entry_left_out_leaves_the_next_entry_on_top() -> None:
    # "hours" has more phrasings than the search limit, all closer than "parking" is
    hours = [_phrasing("hours", n) for n in range(8)]
    parking = _phrasing("parking", 99)
    vectors = {c.text: [1.0, 0.01 * n, 0.0] for n, c in enumerate(hours)}
    vectors |= {parking.text: [0.8, 0.6, 0.0], "when do you open": [1.0, 0.0, 0.0]}
    model = RecordingModel("en", vectors)
    index = CosineIndex()
    chunks = [*hours, parking]
    embedded = await model.embed_documents([c.text for c in chunks])
    await index.upsert(
        [IndexedChunk(c, v, document_vector(c.text)) for c, v in zip(chunks, embedded, strict=True)]
    )
    retriever = Retriever(model, index, limit=3)
    question = "when do you open"
    one, whole, nothing = await retriever.retrieve_many(
        [question] * 3, [frozenset(hours[:1]), frozenset(hours), frozenset()]
    )
    assert one.top is not None and one.top.entry_id == "hours"
    assert nothing.top is not None and nothing.top.entry_id == "hours"
    assert whole.top is not None and whole.top.entry_id == "parking"
    assert 0.7 < whole.confidence < 0.9  # parking's own score, not an empty search
    await retriever.close()
