from core.compose import ComposeRequest, OfflineComposer, Thresholds, trim_passage
from core.knowledge import ChunkKind
from core.ranking import RankedEntry, Ranking
from tests.fakes import chunk, ranking

COMPOSER = OfflineComposer(Thresholds(answer=0.6, choice=0.3))


async def test_confident_answer_quotes_the_faq_answer_exactly() -> None:
    result = await COMPOSER.compose(
        ComposeRequest("when open sat?", ranking(0.9, ("hours-sat", "Saturday 9am to 1pm.")))
    )
    assert result.text == "Saturday 9am to 1pm."
    assert not result.escalate
    assert result.source_entry_ids == ("hours-sat",)


async def test_unsure_offers_distinct_choices() -> None:
    request = ComposeRequest(
        "delivery?",
        ranking(
            0.45,
            ("delivery-times", "a"),
            ("delivery-fees", "b"),
            ("self-collection", "c"),
            ("delivery-areas", "d"),
        ),
    )
    result = await COMPOSER.compose(request)
    assert [c.entry_id for c in result.choices] == [
        "delivery-times",
        "delivery-fees",
        "self-collection",
    ]
    assert "delivery times / delivery fees / self collection" in result.text
    assert not result.escalate


async def test_low_confidence_says_it_does_not_know_and_escalates() -> None:
    result = await COMPOSER.compose(ComposeRequest("gearbox?", ranking(0.1, ("hours", "9 to 6"))))
    assert "don't know" in result.text
    assert result.escalate and result.reason == "no_answer"
    assert "9 to 6" not in result.text


async def test_empty_knowledge_base_escalates() -> None:
    result = await COMPOSER.compose(ComposeRequest("anything", Ranking((), 0.0)))
    assert result.escalate


async def test_passage_is_trimmed_at_a_sentence() -> None:
    passage = " ".join(f"Sentence number {n} says something useful." for n in range(60))
    entry = RankedEntry("doc", 1.0, chunk("doc", passage, kind=ChunkKind.PASSAGE))
    result = await COMPOSER.compose(ComposeRequest("q", Ranking((entry,), 0.95)))
    assert len(result.text) <= 700
    assert result.text.endswith("useful.")
    assert passage.startswith(result.text)


def test_trim_keeps_short_text_whole() -> None:
    assert trim_passage("  Short.  ") == "Short."
