from datetime import UTC, datetime

from core.compose import OfflineComposer, Thresholds
from core.conversation import ConversationCore, Greetings
from core.messages import ChannelName, InboundMessage
from tests.fakes import FakeMemory, FakeRetrieval, FakeStore, ranking


def message(
    text: str, provider_id: str = "m1", user: str = "u1", choice: str | None = None
) -> InboundMessage:
    return InboundMessage(
        channel=ChannelName.TELEGRAM,
        external_user_id=user,
        provider_message_id=provider_id,
        text=text,
        received_at=datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
        display_name="Mei Ling",
        choice_entry_id=choice,
    )


def make_core(
    confidence: float = 0.9,
) -> tuple[ConversationCore, FakeStore, FakeMemory, FakeRetrieval]:
    store, memory = FakeStore(), FakeMemory()
    retrieval = FakeRetrieval(
        ranking(confidence, ("hours-sat", "Sat 9-1"), ("hours-sun", "Closed Sun"))
    )
    core = ConversationCore(
        store, memory, retrieval, OfflineComposer(Thresholds(0.6, 0.3)), Greetings("Kopi Co")
    )
    return core, store, memory, retrieval


async def test_answers_and_remembers_both_turns() -> None:
    core, store, memory, _ = make_core()
    reply = await core.handle(message("what time do you open on saturday"))
    assert reply is not None and reply.text == "Sat 9-1"
    assert [t.role for t in memory.turns[reply.conversation_id]] == ["customer", "bot"]
    assert store.replies == [reply]


async def test_a_retried_message_gets_no_second_reply() -> None:
    core, store, _, retrieval = make_core()
    first = await core.handle(message("saturday?", provider_id="same"))
    second = await core.handle(message("saturday?", provider_id="same"))
    assert first is not None and second is None
    assert len(store.replies) == 1 and len(retrieval.questions) == 1


async def test_duplicate_caught_by_store_even_when_memory_forgot() -> None:
    core, store, memory, _ = make_core()
    await core.handle(message("saturday?", provider_id="x"))
    memory.handled.clear()  # e.g. Redis lost its keys
    assert await core.handle(message("saturday?", provider_id="x")) is None
    assert len(store.replies) == 1


async def test_unknown_question_escalates_and_is_recorded() -> None:
    core, store, _, _ = make_core(confidence=0.05)
    reply = await core.handle(message("can you repair my car gearbox?"))
    assert reply is not None and reply.escalate
    assert store.escalations == [(reply.conversation_id, "no_answer")]


async def test_greeting_uses_name_and_skips_retrieval() -> None:
    core, _, _, retrieval = make_core()
    reply = await core.handle(message("hello"))
    assert reply is not None and "Mei Ling" in reply.text and "Kopi Co" in reply.text
    assert retrieval.questions == []
    again = await core.handle(message("hi", provider_id="m2"))
    assert again is not None and "welcome again" in again.text


async def test_asking_for_a_person_escalates() -> None:
    core, store, _, _ = make_core()
    reply = await core.handle(message("/human"))
    assert reply is not None and reply.escalate and reply.reason == "asked_for_human"
    assert store.escalations[0][1] == "asked_for_human"


async def test_human_mode_conversation_gets_no_bot_reply() -> None:
    core, store, _, _ = make_core()
    store.status = "human"
    assert await core.handle(message("are you there?")) is None
    assert store.replies == []


async def test_picked_choice_is_answered_with_full_confidence() -> None:
    core, _, _, _ = make_core(confidence=0.4)
    reply = await core.handle(message("Closed on Sunday?", choice="hours-sun"))
    assert reply is not None and reply.text == "Closed Sun"


async def test_a_number_answering_offered_choices_picks_that_choice() -> None:
    core, _, _, retrieval = make_core(confidence=0.4)
    offered = await core.handle(message("opening?", provider_id="q1"))
    assert offered is not None and len(offered.choices) == 2
    picked = await core.handle(message(" 2. ", provider_id="q2"))
    assert picked is not None and picked.text == "Closed Sun"
    assert retrieval.questions[-1] == offered.choices[1].label


async def test_a_number_without_offered_choices_is_just_text() -> None:
    core, _, _, retrieval = make_core()
    await core.handle(message("7", provider_id="n1"))
    assert retrieval.questions == ["7"]


async def test_the_reply_goes_to_the_channels_route_when_there_is_one() -> None:
    core, store, _, _ = make_core()
    group = InboundMessage(
        channel=ChannelName.TELEGRAM,
        external_user_id="42",
        provider_message_id="-100:9",
        text="saturday?",
        received_at=datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
        reply_to="-100/9",
    )
    await core.handle(group)
    await core.handle(message("sunday?", provider_id="p2", user="43"))
    assert store.addresses == ["-100/9", "43"]
