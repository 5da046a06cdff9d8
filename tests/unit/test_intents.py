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
    ],
)
def test_questions_go_to_the_knowledge_base(text: str) -> None:
    assert classify(text) is None
