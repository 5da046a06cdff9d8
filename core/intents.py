"""Messages answered without the knowledge base: greetings, thanks, asking for a person, data.

Asking for a person and asking about one's own data are recognised in English, Singlish,
Mandarin, Malay and Tamil.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Intent(StrEnum):
    """What a short message is, when it is not a question for the knowledge base."""

    GREETING = "greeting"
    THANKS = "thanks"
    HUMAN = "human"
    MY_DATA = "my_data"
    ERASE_DATA = "erase_data"


_MY = r"(my|me|mine)\s+(personal\s+)?(data|info|information|details|particulars|records?)"
_PATTERNS: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    (
        Intent.ERASE_DATA,
        re.compile(
            rf"^/delete(@\w+)?\s*$|\b(delete|erase|remove|wipe|clear)\s+(all\s+)?{_MY}\b"
            r"|^\s*forget\s+(about\s+)?me\b"
            r"|删除我的(个人)?(资料|数据|信息|记录)|删掉我的(资料|数据|信息)|清除我的(资料|数据|信息)"
            r"|\b(padam|padamkan|hapus|hapuskan|buang)\s+(semua\s+)?(data|maklumat|butiran)\s+"
            r"(peribadi\s+)?saya\b"
            r"|என்\s*(தரவை|தகவலை|விவரங்களை)\s*(அழி|நீக்கு)",
            re.IGNORECASE,
        ),
    ),
    (
        Intent.MY_DATA,
        re.compile(
            rf"^/mydata(@\w+)?\s*$|^\s*(export|show|send|see|view|get|download)\s+(me\s+)?(all\s+)?{_MY}"
            r"|^\s*my\s+data\s*[?.!]*$"
            r"|\bwhat\s+(data|info|information|details)\s+(do|did)\s+you\s+(have|hold|keep|store)"
            r"|\bwhat\s+do\s+you\s+(know|have|keep|store|hold)\s+(about|on)\s+me\b"
            r"|我的(个人)?(资料|数据|信息)|你们(有|保存了?|存了?)我(的)?(什么|哪些)"
            r"|\b(data|maklumat)\s+(peribadi\s+)?saya\b|apa\s+(yang\s+)?(anda|awak|kamu)\s+"
            r"(tahu|simpan)\s+tentang\s+saya"
            r"|என்\s*(தரவு|தகவல்)|என்னைப்\s*பற்றி",
            re.IGNORECASE,
        ),
    ),
    (
        Intent.HUMAN,
        re.compile(
            r"^/human\b"
            # English and Singlish
            r"|\b(talk|speak|chat)\s+(to|with)\s+(a\s+|the\s+|your\s+)?(real\s+|actual\s+)?"
            r"(person|human|staff|someone|somebody|agent|boss|owner|manager)"
            r"|\b(real|live|actual)\s+(person|human|agent|staff)\b|\bhuman\s+(please|pls|leh)\b"
            r"|\bcustomer\s+service\b|\bgot\s+(real\s+)?(person|human|staff)\b"
            r"|\bcall\s+me\s+back\b"
            # Mandarin
            r"|人工客服|人工服务|转人工|找人工|要人工|真人|转客服|找客服|联系客服|跟人说|找老板|找负责人"
            # Malay
            r"|\b(cakap|bercakap|berbual)\s+(dengan|dgn)\s+(orang|manusia|staf|pekerja|kakitangan)"
            r"|\bnak\s+(orang|manusia|staf)\b|\bkhidmat\s+pelanggan\b"
            # Tamil
            r"|மனித|ஊழிய|வாடிக்கையாளர்\s*சேவை|யாரிடமாவது\s*பேச",
            re.IGNORECASE,
        ),
    ),
    (
        Intent.THANKS,
        re.compile(
            r"^\s*(thanks?|thank\s+you|thx|ty|tq)( (so|very) much)?[\s!.]*(lah|ah)?[\s!.]*$", re.I
        ),
    ),
    (
        Intent.GREETING,
        re.compile(
            r"^\s*(/start|/help|help|hi+|hello+|hey+|hiya|good\s+(morning|afternoon|evening))"
            r"( there)?[\s!.,]*(lah|ah)?[\s!.]*$",
            re.IGNORECASE,
        ),
    ),
)


def classify(text: str) -> Intent | None:
    """Return the intent of a message the knowledge base should not answer, or None."""
    for intent, pattern in _PATTERNS:
        if pattern.search(text.strip()):
            return intent
    return None
