from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from core.business_calendar import BusinessCalendar
from core.compose import OfflineComposer, Thresholds
from core.consent import PrivacyNotice
from core.conversation import ConversationCore, Greetings
from core.escalation import EscalationPolicy, HandoffNotices
from core.hours import parse_schedule
from core.language import LanguageDetector
from core.messages import ChannelName, InboundMessage
from tests.fakes import FakeMemory, FakeRetrieval, FakeStore, ranking


def message(
    text: str, provider_id: str = "m1", user: str = "u1", choice: str | None = None
) -> InboundMessage:
    return InboundMessage(
        channel=ChannelName("telegram"),
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


async def test_an_unknown_question_asks_again_then_hands_over_on_the_second_miss() -> None:
    core, store, _, _ = make_core(confidence=0.05)
    first = await core.handle(message("can you repair my car gearbox?", provider_id="g1"))
    assert first is not None and not first.escalate and "put it another way" in first.text
    assert store.escalations == []
    second = await core.handle(message("fix my gearbox lah", provider_id="g2"))
    assert second is not None and second.escalate
    assert second.text.startswith("Sorry, I still can't answer that.")
    assert "member of our team" in second.text
    assert store.escalations == [(second.conversation_id, "no_answer_twice")]


async def test_complaints_hand_over_at_once_without_asking_the_knowledge_base() -> None:
    store, memory = FakeStore(), FakeMemory()
    retrieval = FakeRetrieval(ranking(0.9, ("hours-sat", "Sat 9-1")))
    core = ConversationCore(
        store, memory, retrieval, OfflineComposer(Thresholds(0.6, 0.3)), Greetings("Kopi Co"),
        policy=EscalationPolicy.from_keywords(["refund", "allergy"]),
    )  # fmt: skip
    angry = await core.handle(message("This is the worst service ever", provider_id="k2"))
    refund_angry = await core.handle(message("worst cake, I want a refund", provider_id="k3"))
    assert angry is not None and angry.reason == "complaint"
    assert angry.text.startswith("I'm sorry about this.")
    assert refund_angry is not None and refund_angry.reason == "complaint"
    assert retrieval.questions == []


async def test_a_keyword_gets_the_answer_first_then_the_handoff_notice() -> None:
    store, memory = FakeStore(), FakeMemory()
    retrieval = FakeRetrieval(ranking(0.9, ("refund-timing", "Refunds take 5 working days.")))
    core = ConversationCore(
        store, memory, retrieval, OfflineComposer(Thresholds(0.6, 0.3)), Greetings("Kopi Co"),
        policy=EscalationPolicy.from_keywords(["refund", "allergy"]),
    )  # fmt: skip
    reply = await core.handle(message("how long refund take", provider_id="k1"))
    assert reply is not None and reply.escalate and reply.reason == "keyword:refund"
    answer, notice = reply.text.split("\n\n")
    assert answer == "Refunds take 5 working days."
    assert "member of our team" in notice
    assert reply.source_entry_ids == ("refund-timing",)
    assert store.escalations == [(reply.conversation_id, "keyword:refund")]


async def test_a_keyword_the_knowledge_base_cannot_answer_hands_over_at_once() -> None:
    store, memory = FakeStore(), FakeMemory()
    retrieval = FakeRetrieval(ranking(0.1, ("hours-sat", "Sat 9-1")))
    core = ConversationCore(
        store, memory, retrieval, OfflineComposer(Thresholds(0.6, 0.3)), Greetings("Kopi Co"),
        policy=EscalationPolicy.from_keywords(["refund", "allergy"]),
    )  # fmt: skip
    masked = replace(message("refund my deposit, IC ***** 567D", provider_id="k1"), ids_masked=1)
    reply = await core.handle(masked)
    assert reply is not None and reply.escalate and reply.reason == "keyword:refund"
    assert "Sat 9-1" not in reply.text and "member of our team" in reply.text
    assert reply.source_entry_ids == ()
    warning, notice = reply.text.split("\n\n")  # no empty answer left between them
    assert "NRIC" in warning and "member of our team" in notice


async def test_after_hours_the_handoff_is_due_at_the_next_opening() -> None:
    calendar = BusinessCalendar(parse_schedule("mon-fri 09:00-18:00"), ZoneInfo("Asia/Singapore"))
    store, memory = FakeStore(), FakeMemory()
    core = ConversationCore(
        store, memory, FakeRetrieval(ranking(0.9)), OfflineComposer(Thresholds()),
        Greetings("Kopi Co"), notices=HandoffNotices(calendar),
    )  # fmt: skip
    sunday_evening = datetime(2026, 11, 8, 20, 0, tzinfo=ZoneInfo("Asia/Singapore"))
    human = InboundMessage(
        channel=ChannelName("whatsapp"), external_user_id="whatsapp:+6591234567",
        provider_message_id="SM1", text="/human", received_at=sunday_evening,
    )  # fmt: skip
    reply = await core.handle(human)
    assert reply is not None and reply.escalate
    # Monday 9 November 2026 is Deepavali's day in lieu.
    assert reply.text == (
        "We are closed for Deepavali; a member of our team will reply to you here from "
        "Tuesday 10 Nov, 9:00 am."
    )
    assert store.due == [datetime(2026, 11, 10, 9, 0, tzinfo=ZoneInfo("Asia/Singapore"))]


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
        channel=ChannelName("telegram"),
        external_user_id="42",
        provider_message_id="-100:9",
        text="saturday?",
        received_at=datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
        reply_to="-100/9",
    )
    await core.handle(group)
    await core.handle(message("sunday?", provider_id="p2", user="43"))
    assert store.addresses == ["-100/9", "43"]


async def test_the_customer_is_answered_in_their_language_and_it_is_remembered() -> None:
    store, memory = FakeStore(), FakeMemory()
    core = ConversationCore(
        store, memory, FakeRetrieval(ranking(0.9)), OfflineComposer(Thresholds()),
        Greetings("Kopi Co"), detector=LanguageDetector(),
    )  # fmt: skip
    chinese = await core.handle(message("我要人工客服", provider_id="zh1"))
    assert chinese is not None and chinese.escalate
    assert chinese.text == "我已请我们的团队成员在这里回复您，请稍候。"
    malay = await core.handle(
        message("Boleh saya bercakap dengan staf?", provider_id="ms1", user="u2")
    )
    assert malay is not None and "pasukan kami" in malay.text
    assert sorted(store.languages.values()) == ["ms", "zh"]


def privacy_core(required: bool) -> tuple[ConversationCore, FakeStore, FakeRetrieval]:
    store, memory = FakeStore(), FakeMemory()
    retrieval = FakeRetrieval(ranking(0.9, ("hours-sat", "Sat 9-1")))
    core = ConversationCore(
        store, memory, retrieval, OfflineComposer(Thresholds()), Greetings("Kopi Co"),
        detector=LanguageDetector(),
        privacy=PrivacyNotice("https://kopi.example/privacy", required=required),
    )  # fmt: skip
    return core, store, retrieval


async def test_the_notice_comes_with_the_first_answer_and_going_on_counts_as_consent() -> None:
    core, store, _ = privacy_core(required=False)
    first = await core.handle(message("what time do you open on saturday", provider_id="c1"))
    assert first is not None and first.text.startswith("Before we start")
    assert "https://kopi.example/privacy" in first.text and first.text.endswith("Sat 9-1")
    assert store.consents == {1: True}
    second = await core.handle(message("and on sunday?", provider_id="c2"))
    assert second is not None and second.text == "Sat 9-1"


async def test_with_consent_required_nothing_is_answered_before_a_yes() -> None:
    core, store, retrieval = privacy_core(required=True)
    asked = await core.handle(message("what time do you open on saturday", provider_id="r1"))
    assert asked is not None and asked.text.endswith("Reply YES to agree or NO if you do not.")
    assert retrieval.questions == []
    refused = await core.handle(message("no", provider_id="r2"))
    assert refused is not None and "do not agree" in refused.text and store.consents[1] is False
    still = await core.handle(message("saturday hours?", provider_id="r3"))
    assert still is not None and "change your mind" in still.text and retrieval.questions == []
    agreed = await core.handle(message("YES", provider_id="r4"))
    assert agreed is not None and agreed.text == "Thank you! How can I help you today?"
    answered = await core.handle(message("saturday hours?", provider_id="r5"))
    assert answered is not None and answered.text == "Sat 9-1"


async def test_consent_can_be_given_in_chinese_and_the_notice_is_in_chinese() -> None:
    core, store, _ = privacy_core(required=True)
    asked = await core.handle(message("你们星期六几点开门？", provider_id="z1"))
    assert asked is not None and asked.text.startswith("开始之前")
    agreed = await core.handle(message("同意", provider_id="z2"))
    assert agreed is not None and store.consents == {1: True}


async def test_a_very_long_message_is_read_up_to_the_limit_and_the_customer_is_told() -> None:
    core, _, _, retrieval = make_core()
    reply = await core.handle(message("saturday? " + "blah " * 2000, provider_id="long"))
    assert reply is not None and "4000" in reply.text.split("\n\n")[0]
    assert len(retrieval.questions[0]) <= 4000


async def test_attachments_left_out_are_mentioned_after_the_answer_in_the_language() -> None:
    core = ConversationCore(
        FakeStore(),
        FakeMemory(),
        FakeRetrieval(ranking(0.9, ("hours-sat", "周六9点到1点"))),
        OfflineComposer(Thresholds(0.6, 0.3)),
        Greetings("Kopi Co"),
        detector=LanguageDetector(),
    )
    question = replace(message("请问星期六几点开门？"), attachments_dropped=3)
    reply = await core.handle(question)
    assert reply is not None
    assert reply.text.startswith("周六9点到1点")
    assert reply.text.endswith("如有需要，请另发一封邮件。")
    assert "最后3个没有保留" in reply.text
