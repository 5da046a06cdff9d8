"""What the bot says in a conversation: greetings, not knowing, handing over, choices."""

from __future__ import annotations

from typing import Final

from core.language import Language

EN, ZH, MS, TA = Language.EN, Language.ZH, Language.MS, Language.TA

_ASK_EN = "Ask me anything about our hours, prices, delivery or bookings."
_ASK_ZH = "营业时间、价格、送货或预订，有什么问题都可以问我。"
_ASK_MS = "Tanyalah apa-apa sahaja tentang waktu operasi, harga, penghantaran atau tempahan kami."
_ASK_TA = "எங்கள் நேரம், விலைகள், டெலிவரி அல்லது முன்பதிவு பற்றி எதுவானாலும் என்னிடம் கேளுங்கள்."
_REPLY_EN = "a member of our team will reply to you here from {when}."
_REPLY_ZH = "{when}起，我们的团队成员会在这里回复您。"
_REPLY_MS = "seorang ahli pasukan kami akan membalas anda di sini mulai {when}."
_REPLY_TA = "{when} முதல் எங்கள் குழுவைச் சேர்ந்த ஒருவர் இங்கே உங்களுக்குப் பதிலளிப்பார்."
_DONT_KNOW_EN = "Sorry, I don't know the answer to that."
_DONT_KNOW_ZH = "抱歉，这个问题我还不知道答案。"
_DONT_KNOW_MS = "Maaf, saya tidak tahu jawapannya."
_DONT_KNOW_TA = "மன்னிக்கவும், இதற்கான பதில் எனக்குத் தெரியவில்லை."

REPLIES: Final[dict[str, dict[Language, str]]] = {
    "greeting.new": {
        EN: f"Hello, welcome to {{business}}! {_ASK_EN}",
        ZH: f"您好，欢迎光临{{business}}！{_ASK_ZH}",
        MS: f"Helo, selamat datang ke {{business}}! {_ASK_MS}",
        TA: f"வணக்கம், {{business}} உங்களை வரவேற்கிறது! {_ASK_TA}",
    },
    "greeting.new_named": {
        EN: f"Hello {{name}}, welcome to {{business}}! {_ASK_EN}",
        ZH: f"{{name}}，您好！欢迎光临{{business}}！{_ASK_ZH}",
        MS: f"Helo {{name}}, selamat datang ke {{business}}! {_ASK_MS}",
        TA: f"வணக்கம் {{name}}, {{business}} உங்களை வரவேற்கிறது! {_ASK_TA}",
    },
    "greeting.returning": {
        EN: f"Hello, welcome again to {{business}}! {_ASK_EN}",
        ZH: f"您好，欢迎再次光临{{business}}！{_ASK_ZH}",
        MS: f"Helo, selamat kembali ke {{business}}! {_ASK_MS}",
        TA: f"வணக்கம், {{business}} உங்களை மீண்டும் வரவேற்கிறது! {_ASK_TA}",
    },
    "greeting.returning_named": {
        EN: f"Hello {{name}}, welcome again to {{business}}! {_ASK_EN}",
        ZH: f"{{name}}，您好！欢迎再次光临{{business}}！{_ASK_ZH}",
        MS: f"Helo {{name}}, selamat kembali ke {{business}}! {_ASK_MS}",
        TA: f"வணக்கம் {{name}}, {{business}} உங்களை மீண்டும் வரவேற்கிறது! {_ASK_TA}",
    },
    "thanks": {
        EN: "You're welcome! Anything else I can help with?",
        ZH: "不客气！还有什么可以帮您的吗？",
        MS: "Sama-sama! Ada apa-apa lagi yang boleh saya bantu?",
        TA: "மகிழ்ச்சி! வேறு ஏதாவது உதவி தேவையா?",
    },
    "rephrase": {
        EN: f"{_DONT_KNOW_EN} Could you put it another way? "
        "Or ask to talk to a person and I'll pass you to our team.",
        ZH: f"{_DONT_KNOW_ZH}您可以换个方式再问一次吗？"
        "或者回复“转人工”，我会请我们的同事来回复您。",
        MS: f"{_DONT_KNOW_MS} Boleh tanya dengan cara lain? Atau minta untuk bercakap dengan "
        "staf dan saya akan sambungkan anda kepada pasukan kami.",
        TA: f"{_DONT_KNOW_TA} வேறு விதமாகக் கேட்க முடியுமா? அல்லது ஊழியருடன் பேச "
        "வேண்டும் என்று சொல்லுங்கள், உங்களை எங்கள் குழுவிடம் இணைக்கிறேன்.",
    },
    "not_known": {
        EN: f"{_DONT_KNOW_EN} I've passed your question to our team "
        "and a person will get back to you.",
        ZH: f"{_DONT_KNOW_ZH}我已经把您的问题转给我们的团队，会有同事回复您。",
        MS: f"{_DONT_KNOW_MS} Saya telah menghantar soalan anda kepada pasukan kami "
        "dan seorang staf akan menghubungi anda.",
        TA: f"{_DONT_KNOW_TA} உங்கள் கேள்வியை எங்கள் குழுவிடம் அனுப்பியுள்ளேன்; ஒருவர் உங்களைத் தொடர்புகொள்வார்.",
    },
    "sorry.complaint": {
        EN: "I'm sorry about this.",
        ZH: "非常抱歉给您带来不便。",
        MS: "Kami mohon maaf atas perkara ini.",
        TA: "இதற்காக மிகவும் வருந்துகிறோம்.",
    },
    "sorry.no_answer_twice": {
        EN: "Sorry, I still can't answer that.",
        ZH: "抱歉，这个问题我还是无法回答。",
        MS: "Maaf, saya masih tidak dapat menjawab soalan itu.",
        TA: "மன்னிக்கவும், இதற்கு என்னால் இன்னும் பதிலளிக்க முடியவில்லை.",
    },
    "handoff.open": {
        EN: "I've asked a member of our team to reply to you here. Please hold on.",
        ZH: "我已请我们的团队成员在这里回复您，请稍候。",
        MS: "Saya telah meminta seorang ahli pasukan kami untuk membalas anda di sini. "
        "Sila tunggu sebentar.",
        TA: "எங்கள் குழுவைச் சேர்ந்த ஒருவரை இங்கே உங்களுக்குப் பதிலளிக்கக் கேட்டுள்ளேன். சற்றுப் பொறுத்திருங்கள்.",
    },
    "handoff.closed_for": {
        EN: f"We are closed for {{reason}}; {_REPLY_EN}",
        ZH: f"我们因{{reason}}休息，{_REPLY_ZH}",
        MS: f"Kami tutup kerana {{reason}}; {_REPLY_MS}",
        TA: f"{{reason}} காரணமாக நாங்கள் இப்போது மூடியுள்ளோம்; {_REPLY_TA}",
    },
    "handoff.closed": {
        EN: f"We are closed now; {_REPLY_EN}",
        ZH: f"我们现在休息中，{_REPLY_ZH}",
        MS: f"Kami tutup sekarang; {_REPLY_MS}",
        TA: f"நாங்கள் இப்போது மூடியுள்ளோம்; {_REPLY_TA}",
    },
    "when.today": {EN: "{time} today", ZH: "今天{time}", MS: "{time} hari ini", TA: "இன்று {time}"},
    "when.tomorrow": {
        EN: "tomorrow {time}",
        ZH: "明天{time}",
        MS: "{time} esok",
        TA: "நாளை {time}",
    },
    "when.later": {
        EN: "{weekday} {day} {month}, {time}",
        ZH: "{month}{day}日{weekday}{time}",
        MS: "{weekday}, {day} {month}, {time}",
        TA: "{month} {day}, {weekday}, {time}",
    },
    "text_only": {
        EN: "Sorry, I can't open {things} yet; I can only read text. Please type your question.",
        ZH: "抱歉，我暂时还无法打开{things}，只能读取文字。请直接输入您的问题。",
        MS: "Maaf, saya belum boleh membuka {things}; saya hanya boleh membaca teks. "
        "Sila taip soalan anda.",
        TA: "மன்னிக்கவும், என்னால் இன்னும் {things} திறக்க முடியாது; எழுத்துச் செய்திகளை "
        "மட்டுமே படிக்க முடியும். உங்கள் கேள்வியைத் தட்டச்சு செய்யுங்கள்.",
    },
    "choices.did_you_mean": {
        EN: "I want to be sure I answer the right question. Did you mean: {options}?",
        ZH: "我想确认一下您的问题。您是指：{options}？",
        MS: "Saya ingin pastikan saya menjawab soalan yang betul. Adakah maksud anda: {options}?",
        TA: "சரியான கேள்விக்குப் பதிலளிக்க விரும்புகிறேன். நீங்கள் கேட்பது இதைப் பற்றியா: {options}?",
    },
    "choices.reply_with_number": {
        EN: "Reply with a number:",
        ZH: "请回复数字：",
        MS: "Balas dengan nombor:",
        TA: "ஒரு எண்ணைப் பதிலாக அனுப்புங்கள்:",
    },
    "choices.choose": {  # the button that opens a WhatsApp list (at most 20 characters)
        EN: "Choose",
        ZH: "请选择",
        MS: "Pilih",
        TA: "தேர்வு செய்க",
    },
}
