import pytest

from core.intents import Intent, classify


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("hi", Intent.GREETING),
        ("Hello!", Intent.GREETING),
        ("good morning lah", Intent.GREETING),
        ("/start", Intent.GREETING),
        ("thanks!", Intent.THANKS),
        ("thank you so much", Intent.THANKS),
        ("/human", Intent.HUMAN),
        ("can I talk to a real person", Intent.HUMAN),
        ("I want to speak with staff", Intent.HUMAN),
        ("can talk to real person or not", Intent.HUMAN),
        ("I want to speak to the manager", Intent.HUMAN),
        ("human pls", Intent.HUMAN),
        ("我要人工客服", Intent.HUMAN),
        ("转人工", Intent.HUMAN),
        ("nak cakap dengan orang", Intent.HUMAN),
        ("boleh saya bercakap dengan staf?", Intent.HUMAN),
        ("நான் ஒரு மனிதருடன் பேச வேண்டும்", Intent.HUMAN),
    ],
)
def test_recognised(text: str, intent: Intent) -> None:
    assert classify(text) is intent


@pytest.mark.parametrize(
    "text",
    [
        "hi, what time do you open on Saturday?",
        "thanks but how much is delivery",
        "do you deliver?",
        "is the human resources office open",
        "人工甜味剂有吗",
    ],
)
def test_questions_go_to_the_knowledge_base(text: str) -> None:
    assert classify(text) is None
