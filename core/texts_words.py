"""Single words in four languages: weekdays, months, attachment kinds, scores, holidays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final

from core.language import Language

EN, ZH, MS, TA = Language.EN, Language.ZH, Language.MS, Language.TA

WORDS: Final[dict[str, dict[Language, str]]] = {}
"""Filled below, a series at a time, as key.suffix (e.g. "weekday.0", "attachment.photo")."""


def _words(key: str, suffixes: Sequence[object], names: Mapping[Language, Sequence[str]]) -> None:
    """Add a series of single words (weekdays, months, attachment kinds) as key.suffix."""
    for index, suffix in enumerate(suffixes):
        WORDS[f"{key}.{suffix}"] = {language: names[language][index] for language in names}


# Weekdays as datetime.weekday() counts them (Monday is 0); months from 1.
_words(
    "weekday",
    range(7),
    {
        EN: ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        ZH: ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"),
        MS: ("Isnin", "Selasa", "Rabu", "Khamis", "Jumaat", "Sabtu", "Ahad"),
        TA: ("திங்கட்கிழமை", "செவ்வாய்க்கிழமை", "புதன்கிழமை", "வியாழக்கிழமை",
             "வெள்ளிக்கிழமை", "சனிக்கிழமை", "ஞாயிற்றுக்கிழமை"),
    },
)  # fmt: skip
_words(
    "month",
    range(1, 13),
    {
        EN: ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        ZH: tuple(f"{month}月" for month in range(1, 13)),
        MS: ("Januari", "Februari", "Mac", "April", "Mei", "Jun", "Julai", "Ogos", "September",
             "Oktober", "November", "Disember"),
        TA: ("ஜனவரி", "பிப்ரவரி", "மார்ச்", "ஏப்ரல்", "மே", "ஜூன்", "ஜூலை", "ஆகஸ்ட்",
             "செப்டம்பர்", "அக்டோபர்", "நவம்பர்", "டிசம்பர்"),
    },
)  # fmt: skip
# What the customer sent, by attachment kind, in the form text_only's sentence needs
# (Tamil takes the object case: "புகைப்படங்களை").
ATTACHMENT_KINDS: Final = (
    "photo", "image", "voice", "audio", "video", "sticker", "location", "contact", "document",
    "other",
)  # fmt: skip
_words(
    "attachment",
    ATTACHMENT_KINDS,
    {
        EN: ("photos", "pictures", "voice messages", "audio", "videos", "stickers",
             "locations", "contact cards", "files", "attachments"),
        ZH: ("照片", "图片", "语音消息", "音频", "视频", "贴图", "位置信息", "联系人名片", "文件",
             "附件"),
        MS: ("foto", "gambar", "mesej suara", "audio", "video", "pelekat", "lokasi",
             "kad kenalan", "fail", "lampiran"),
        TA: ("புகைப்படங்களை", "படங்களை", "குரல் செய்திகளை", "ஒலிக் கோப்புகளை", "வீடியோக்களை",
             "ஸ்டிக்கர்களை", "இருப்பிடங்களை", "தொடர்பு அட்டைகளை", "கோப்புகளை", "இணைப்புகளை"),
    },
)  # fmt: skip
# The five answers to "How did we do?", 1 first: WhatsApp numbers them, so "5" is the best.
_words(
    "rating.score",
    range(1, 6),
    {
        EN: ("⭐ Very poor", "⭐⭐ Poor", "⭐⭐⭐ OK", "⭐⭐⭐⭐ Good", "⭐⭐⭐⭐⭐ Excellent"),
        ZH: ("⭐ 很差", "⭐⭐ 较差", "⭐⭐⭐ 一般", "⭐⭐⭐⭐ 好", "⭐⭐⭐⭐⭐ 非常好"),
        MS: ("⭐ Sangat lemah", "⭐⭐ Lemah", "⭐⭐⭐ Sederhana", "⭐⭐⭐⭐ Baik",
             "⭐⭐⭐⭐⭐ Cemerlang"),
        TA: ("⭐ மிக மோசம்", "⭐⭐ மோசம்", "⭐⭐⭐ பரவாயில்லை", "⭐⭐⭐⭐ நன்று",
             "⭐⭐⭐⭐⭐ மிகச் சிறப்பு"),
    },
)  # fmt: skip

# Singapore's public holidays, keyed by the English name the holidays package gives (en_SG).
HOLIDAYS: Final[Mapping[str, Mapping[Language, str]]] = MappingProxyType(
    {
        "New Year's Day": {
            EN: "New Year's Day",
            ZH: "元旦",
            MS: "Hari Tahun Baru",
            TA: "புத்தாண்டு தினம்",
        },
        "Chinese New Year": {
            EN: "Chinese New Year",
            ZH: "农历新年",
            MS: "Tahun Baru Cina",
            TA: "சீனப் புத்தாண்டு",
        },
        "Good Friday": {EN: "Good Friday", ZH: "耶稣受难日", MS: "Jumaat Agung", TA: "புனித வெள்ளி"},
        "Hari Raya Puasa": {
            EN: "Hari Raya Puasa",
            ZH: "开斋节",
            MS: "Hari Raya Puasa",
            TA: "நோன்புப் பெருநாள்",
        },
        "Labour Day": {EN: "Labour Day", ZH: "劳动节", MS: "Hari Buruh", TA: "தொழிலாளர் தினம்"},
        "Vesak Day": {EN: "Vesak Day", ZH: "卫塞节", MS: "Hari Wesak", TA: "விசாக தினம்"},
        "Hari Raya Haji": {
            EN: "Hari Raya Haji",
            ZH: "哈芝节",
            MS: "Hari Raya Haji",
            TA: "ஹஜ்ஜுப் பெருநாள்",
        },
        "National Day": {EN: "National Day", ZH: "国庆日", MS: "Hari Kebangsaan", TA: "தேசிய தினம்"},
        "Deepavali": {EN: "Deepavali", ZH: "屠妖节", MS: "Deepavali", TA: "தீபாவளி"},
        "Christmas Day": {
            EN: "Christmas Day",
            ZH: "圣诞节",
            MS: "Hari Krismas",
            TA: "கிறிஸ்துமஸ் தினம்",
        },
        "Polling Day": {EN: "Polling Day", ZH: "投票日", MS: "Hari Mengundi", TA: "வாக்களிப்பு தினம்"},
        "SG50 Public Holiday": {
            EN: "SG50 Public Holiday",
            ZH: "SG50公共假期",
            MS: "Cuti Umum SG50",
            TA: "SG50 பொது விடுமுறை",
        },
    }
)
