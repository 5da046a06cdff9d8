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
        ("/mydata", Intent.MY_DATA),
        ("what do you know about me?", Intent.MY_DATA),
        ("export my data", Intent.MY_DATA),
        ("show me my personal details", Intent.MY_DATA),
        ("你们有我什么资料", Intent.MY_DATA),
        ("apa yang anda simpan tentang saya", Intent.MY_DATA),
        ("என்னைப் பற்றி என்ன தெரியும்", Intent.MY_DATA),
        ("/delete", Intent.ERASE_DATA),
        ("/delete@PandanBakeBot", Intent.ERASE_DATA),
        ("please delete all my data", Intent.ERASE_DATA),
        ("erase my personal information", Intent.ERASE_DATA),
        ("forget me", Intent.ERASE_DATA),
        ("请删除我的个人资料", Intent.ERASE_DATA),
        ("tolong padam data peribadi saya", Intent.ERASE_DATA),
        ("என் தரவை நீக்கு", Intent.ERASE_DATA),
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
        "I want to delete my booking",
        "how much is the mobile data plan",
        "can I remove my order?",
    ],
)
def test_questions_go_to_the_knowledge_base(text: str) -> None:
    assert classify(text) is None
