"""Every text the bot writes itself, in English, Chinese, Malay and Tamil."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
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

_CATALOG: dict[str, dict[Language, str]] = {
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
    "consent.notice": {
        EN: "Before we start: we keep this conversation to answer you and to improve our "
        "service. How we handle your data: {privacy_url}",
        ZH: "开始之前：我们会保存这段对话，用于回复您和改进服务。"
        "我们如何处理您的资料：{privacy_url}",
        MS: "Sebelum kita mula: kami menyimpan perbualan ini untuk menjawab anda dan "
        "menambah baik perkhidmatan kami. Cara kami mengendalikan data anda: {privacy_url}",
        TA: "தொடங்குவதற்கு முன்: உங்களுக்குப் பதிலளிக்கவும் எங்கள் சேவையை மேம்படுத்தவும் "
        "இந்த உரையாடலைச் சேமித்து வைக்கிறோம். உங்கள் தரவை நாங்கள் கையாளும் விதம்: {privacy_url}",
    },
    "consent.notice_no_link": {
        EN: "Before we start: we keep this conversation to answer you and to improve our "
        "service. Ask us at any time to see or delete what we keep about you.",
        ZH: "开始之前：我们会保存这段对话，用于回复您和改进服务。"
        "您可以随时要求查看或删除我们保存的关于您的资料。",
        MS: "Sebelum kita mula: kami menyimpan perbualan ini untuk menjawab anda dan "
        "menambah baik perkhidmatan kami. Anda boleh meminta untuk melihat atau memadam "
        "data anda yang kami simpan pada bila-bila masa.",
        TA: "தொடங்குவதற்கு முன்: உங்களுக்குப் பதிலளிக்கவும் எங்கள் சேவையை மேம்படுத்தவும் "
        "இந்த உரையாடலைச் சேமித்து வைக்கிறோம். நாங்கள் வைத்திருக்கும் உங்கள் தரவைப் பார்க்கவோ "
        "நீக்கவோ எப்போது வேண்டுமானாலும் கேட்கலாம்.",
    },
    "consent.ask": {
        EN: "Is that all right? Reply YES to agree or NO if you do not.",
        ZH: "您同意吗？同意请回复 YES，不同意请回复 NO。",
        MS: "Adakah anda bersetuju? Balas YES untuk bersetuju atau NO jika tidak.",
        TA: "இதற்குச் சம்மதமா? சம்மதம் என்றால் YES என்றும், இல்லையென்றால் NO என்றும் பதிலளியுங்கள்.",
    },
    "consent.granted": {
        EN: "Thank you! How can I help you today?",
        ZH: "谢谢您！今天有什么可以帮您？",
        MS: "Terima kasih! Apa yang boleh saya bantu hari ini?",
        TA: "நன்றி! இன்று உங்களுக்கு என்ன உதவி வேண்டும்?",
    },
    "consent.declined": {
        EN: "Understood, we have noted that you do not agree. "
        "Reply YES at any time if you change your mind.",
        ZH: "明白了，我们已记录您不同意。如果您改变主意，随时回复 YES 即可。",
        MS: "Baiklah, kami telah mencatat bahawa anda tidak bersetuju. "
        "Balas YES bila-bila masa jika anda berubah fikiran.",
        TA: "புரிந்தது, நீங்கள் சம்மதிக்கவில்லை என்பதைப் பதிவு செய்துள்ளோம். மனம் மாறினால் "
        "எப்போது வேண்டுமானாலும் YES என்று பதிலளியுங்கள்.",
    },
    "privacy.how_to": {
        EN: "Reply EXPORT MY DATA for a copy of your data, "
        "or DELETE MY DATA to erase it, at any time.",
        ZH: "您可以随时回复 EXPORT MY DATA 获取您的资料副本，或回复 DELETE MY DATA 删除您的资料。",
        MS: "Balas EXPORT MY DATA untuk mendapatkan salinan data anda, atau DELETE MY DATA "
        "untuk memadamnya, bila-bila masa.",
        TA: "உங்கள் தரவின் நகலைப் பெற EXPORT MY DATA என்றும், அதை அழிக்க DELETE MY DATA "
        "என்றும் எப்போது வேண்டுமானாலும் பதிலளியுங்கள்.",
    },
    "privacy.export_ready": {
        EN: "Here is a copy of the data we hold about you.",
        ZH: "这是我们保存的关于您的资料副本。",
        MS: "Berikut ialah salinan data yang kami simpan tentang anda.",
        TA: "உங்களைப் பற்றி நாங்கள் வைத்திருக்கும் தரவின் நகல் இதோ.",
    },
    "privacy.summary": {
        EN: "• Name: {name}\n• Language: {lang}\n• Channels: {channels}\n"
        "• Conversations: {conversations} ({messages} messages) since {since}\n"
        "• Privacy notice: {consent}\n• Ratings: {ratings}\n"
        "Reply DELETE MY DATA to erase all of it. Our staff can send you a full copy.",
        ZH: "• 姓名：{name}\n• 语言：{lang}\n• 渠道：{channels}\n"
        "• 对话：自 {since} 起共 {conversations} 次（{messages} 条消息）\n"
        "• 隐私声明：{consent}\n• 评分：{ratings}\n"
        "回复 DELETE MY DATA 即可全部删除。我们的工作人员也可以把完整副本发给您。",
        MS: "• Nama: {name}\n• Bahasa: {lang}\n• Saluran: {channels}\n"
        "• Perbualan: {conversations} ({messages} mesej) sejak {since}\n"
        "• Notis privasi: {consent}\n• Penilaian: {ratings}\n"
        "Balas DELETE MY DATA untuk memadam semuanya. Kakitangan kami boleh menghantar "
        "salinan penuh kepada anda.",
        TA: "• பெயர்: {name}\n• மொழி: {lang}\n• வழிகள்: {channels}\n"
        "• உரையாடல்கள்: {since} முதல் {conversations} ({messages} செய்திகள்)\n"
        "• தனியுரிமை அறிவிப்பு: {consent}\n• மதிப்பீடுகள்: {ratings}\n"
        "அனைத்தையும் அழிக்க DELETE MY DATA என்று பதிலளியுங்கள். எங்கள் ஊழியர்கள் முழு "
        "நகலை உங்களுக்கு அனுப்பலாம்.",
    },
    "privacy.not_given": {EN: "not given", ZH: "未提供", MS: "tiada", TA: "தரப்படவில்லை"},
    "privacy.consent_given": {
        EN: "agreed on {date}",
        ZH: "已于 {date} 同意",
        MS: "dipersetujui pada {date}",
        TA: "{date} அன்று சம்மதித்தீர்கள்",
    },
    "privacy.consent_declined": {
        EN: "declined on {date}",
        ZH: "已于 {date} 拒绝",
        MS: "ditolak pada {date}",
        TA: "{date} அன்று மறுத்தீர்கள்",
    },
    "privacy.consent_none": {
        EN: "no answer recorded",
        ZH: "没有记录",
        MS: "tiada jawapan direkodkan",
        TA: "பதில் எதுவும் பதிவாகவில்லை",
    },
    "privacy.erase_yes": {
        EN: "Yes, delete my data",
        ZH: "是的，删除我的资料",
        MS: "Ya, padam data saya",
        TA: "ஆம், என் தரவை அழியுங்கள்",
    },
    "privacy.erase_no": {
        EN: "No, keep it",
        ZH: "不，保留",
        MS: "Tidak, simpan",
        TA: "இல்லை, வைத்திருங்கள்",
    },
    "privacy.erase_confirm": {
        EN: "Are you sure? Reply YES to delete our conversations and the details we hold "
        "about you. This cannot be undone.",
        ZH: "您确定吗？回复 YES 即删除我们的对话记录和我们保存的关于您的资料。删除后无法恢复。",
        MS: "Adakah anda pasti? Balas YES untuk memadam perbualan kita dan butiran yang kami "
        "simpan tentang anda. Tindakan ini tidak boleh dibatalkan.",
        TA: "உறுதியாகவா? நமது உரையாடல்களையும் உங்களைப் பற்றி நாங்கள் வைத்திருக்கும் "
        "விவரங்களையும் அழிக்க YES என்று பதிலளியுங்கள். இதைத் திரும்பப் பெற முடியாது.",
    },
    "privacy.erased": {
        EN: "Your data has been deleted.",
        ZH: "您的资料已删除。",
        MS: "Data anda telah dipadam.",
        TA: "உங்கள் தரவு அழிக்கப்பட்டது.",
    },
    "privacy.erase_cancelled": {
        EN: "All right, nothing has been deleted.",
        ZH: "好的，没有删除任何资料。",
        MS: "Baiklah, tiada apa-apa yang dipadam.",
        TA: "சரி, எதுவும் அழிக்கப்படவில்லை.",
    },
    "nric_warning": {
        EN: "For your security, please don't send your NRIC or FIN number here: "
        "we have hidden it, and we never need it to answer your question.",
        ZH: "为了您的安全，请不要在这里发送您的 NRIC 或 FIN 号码：我们已将其隐藏，"
        "回答您的问题也从不需要它。",
        MS: "Demi keselamatan anda, sila jangan hantar nombor NRIC atau FIN anda di sini: "
        "kami telah menyembunyikannya, dan kami tidak memerlukannya untuk menjawab soalan anda.",
        TA: "உங்கள் பாதுகாப்பிற்காக, உங்கள் NRIC அல்லது FIN எண்ணை இங்கே அனுப்ப வேண்டாம்: "
        "நாங்கள் அதை மறைத்துவிட்டோம்; உங்கள் கேள்விக்குப் பதிலளிக்க அது ஒருபோதும் தேவையில்லை.",
    },
    "rate_limited": {
        EN: "You're sending messages very quickly; I'll answer again in a moment.",
        ZH: "您发送消息的速度太快了，我稍后再回复您。",
        MS: "Anda menghantar mesej terlalu cepat; saya akan menjawab semula sebentar lagi.",
        TA: "நீங்கள் மிக வேகமாகச் செய்திகளை அனுப்புகிறீர்கள்; சிறிது நேரத்தில் மீண்டும் பதிலளிக்கிறேன்.",
    },
    "unreadable": {
        EN: "Sorry, I couldn't read your last message. Could you send it again, as plain text?",
        ZH: "抱歉，我无法读取您的上一条消息。可以用纯文字再发一次吗？",
        MS: "Maaf, saya tidak dapat membaca mesej anda yang terakhir. Boleh hantar semula "
        "sebagai teks biasa?",
        TA: "மன்னிக்கவும், உங்கள் கடைசிச் செய்தியை என்னால் படிக்க முடியவில்லை. அதை வெறும் "
        "உரையாக மீண்டும் அனுப்ப முடியுமா?",
    },
    "too_long": {
        EN: "Your message is very long, so I have only read the first {limit} characters. "
        "If I missed something, please send it as a shorter message.",
        ZH: "您的消息太长了，我只读取了前{limit}个字符。如有遗漏，请分开简短发送。",
        MS: "Mesej anda terlalu panjang, jadi saya hanya membaca {limit} aksara pertama. "
        "Jika ada yang tertinggal, sila hantar dalam mesej yang lebih pendek.",
        TA: "உங்கள் செய்தி மிக நீளமாக உள்ளது; அதனால் முதல் {limit} எழுத்துகளை மட்டுமே "
        "படித்தேன். ஏதாவது விடுபட்டிருந்தால், சுருக்கமான செய்தியாக அனுப்புங்கள்.",
    },
    "email.too_large": {
        EN: "Sorry, your email is too large for us to read ({size}; we accept up to {limit}). "
        "Please send your question again in a smaller email: without attachments, or with "
        "smaller photos or files.",
        ZH: "抱歉，您的邮件太大（{size}，上限为{limit}），我们无法读取。"
        "请重新发送一封较小的邮件：不带附件，或附上较小的照片或文件。",
        MS: "Maaf, e-mel anda terlalu besar untuk kami baca ({size}; had kami {limit}). "
        "Sila hantar soalan anda semula dalam e-mel yang lebih kecil: tanpa lampiran, atau "
        "dengan foto atau fail yang lebih kecil.",
        TA: "மன்னிக்கவும், உங்கள் மின்னஞ்சல் மிகப் பெரியதாக இருப்பதால் எங்களால் அதைப் படிக்க "
        "முடியவில்லை ({size}; வரம்பு {limit}). இணைப்புகள் இல்லாமல், அல்லது சிறிய புகைப்படங்கள் "
        "அல்லது கோப்புகளுடன், உங்கள் கேள்வியைச் சிறிய மின்னஞ்சலாக மீண்டும் அனுப்புங்கள்.",
    },
    "email.attachments_dropped": {
        EN: "Your email had {count} attachments and we keep at most {limit} per email, so the "
        "last {dropped} were not kept. If they matter, please send them in another email.",
        ZH: "您的邮件有{count}个附件，每封邮件我们最多保留{limit}个，因此最后{dropped}个没有保留。"
        "如有需要，请另发一封邮件。",
        MS: "E-mel anda mengandungi {count} lampiran dan kami menyimpan paling banyak {limit} "
        "bagi setiap e-mel, jadi {dropped} lampiran terakhir tidak disimpan. Jika lampiran "
        "itu penting, sila hantarkannya dalam e-mel lain.",
        TA: "உங்கள் மின்னஞ்சலில் {count} இணைப்புகள் இருந்தன; ஒரு மின்னஞ்சலுக்கு அதிகபட்சம் "
        "{limit} இணைப்புகளை மட்டுமே வைத்திருப்போம், எனவே கடைசி {dropped} இணைப்புகள் "
        "வைக்கப்படவில்லை. அவை முக்கியமானவை என்றால், வேறொரு மின்னஞ்சலில் அனுப்புங்கள்.",
    },
    "rating.ask": {
        EN: "How did we do? Please rate this conversation from 1 (very poor) to 5 (excellent).",
        ZH: "我们的服务如何？请为这次对话打分，从 1（很差）到 5（非常好）。",
        MS: "Bagaimana layanan kami? Sila nilai perbualan ini dari 1 (sangat lemah) "
        "hingga 5 (cemerlang).",
        TA: "எங்கள் சேவை எப்படி இருந்தது? இந்த உரையாடலை 1 (மிக மோசம்) முதல் 5 (மிகச் சிறப்பு) "
        "வரை மதிப்பிடுங்கள்.",
    },
    "rating.thanks": {
        EN: "Thank you for your rating! If you'd like to tell us more, just write it here.",
        ZH: "谢谢您的评分！如果还有什么想告诉我们的，直接在这里留言即可。",
        MS: "Terima kasih atas penilaian anda! Jika ada apa-apa lagi yang ingin anda "
        "kongsikan, tulis sahaja di sini.",
        TA: "உங்கள் மதிப்பீட்டிற்கு நன்றி! மேலும் ஏதாவது சொல்ல விரும்பினால், இங்கே எழுதுங்கள்.",
    },
    "rating.comment_thanks": {
        EN: "Thank you, we have passed your comment on to our team.",
        ZH: "谢谢，您的意见已转达给我们的团队。",
        MS: "Terima kasih, komen anda telah kami sampaikan kepada pasukan kami.",
        TA: "நன்றி, உங்கள் கருத்தை எங்கள் குழுவிடம் தெரிவித்துள்ளோம்.",
    },
    "privacy.rating": {
        EN: "{score}/5 on {date}",
        ZH: "{date} 评 {score}/5",
        MS: "{score}/5 pada {date}",
        TA: "{date} அன்று {score}/5",
    },
    "privacy.ratings_none": {EN: "none", ZH: "无", MS: "tiada", TA: "இல்லை"},
}


def _words(key: str, suffixes: Sequence[object], names: Mapping[Language, Sequence[str]]) -> None:
    """Add a series of single words (weekdays, months, attachment kinds) as key.suffix."""
    for index, suffix in enumerate(suffixes):
        _CATALOG[f"{key}.{suffix}"] = {language: names[language][index] for language in names}


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

CATALOG: Final[Mapping[str, Mapping[Language, str]]] = MappingProxyType(
    {key: MappingProxyType(by_language) for key, by_language in _CATALOG.items()}
)

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
_ANNOTATION: Final = re.compile(r"\s*\((?:observed|estimated)(?:,\s*(?:observed|estimated))*\)")
_AND: Final = {EN: " and ", ZH: "和", MS: " dan ", TA: " மற்றும் "}

# (first hour, format) per part of the day; the clock itself is 12-hour, "9:00".
_DAY_PARTS: Final[Mapping[Language, tuple[tuple[int, str], ...]]] = {
    EN: ((0, "{clock} am"), (12, "{clock} pm")),
    ZH: (
        (0, "凌晨{clock}"),
        (6, "上午{clock}"),
        (12, "中午{clock}"),
        (13, "下午{clock}"),
        (18, "晚上{clock}"),
    ),
    MS: (
        (0, "{clock} tengah malam"),
        (1, "{clock} pagi"),
        (12, "{clock} tengah hari"),
        (14, "{clock} petang"),
        (19, "{clock} malam"),
    ),
    TA: (
        (0, "இரவு {clock} மணி"),
        (5, "காலை {clock} மணி"),
        (12, "மதியம் {clock} மணி"),
        (15, "மாலை {clock} மணி"),
        (19, "இரவு {clock} மணி"),
    ),
}


def text(key: str, language: Language, **values: str) -> str:
    """The text for a key in a language, its placeholders filled; KeyError for unknown keys."""
    try:
        template = CATALOG[key][language]
    except KeyError:
        raise KeyError(f"no text {key!r} in {language!r}") from None
    return template.format_map(values)


def greeting(business: str, name: str | None, returning: bool, language: Language) -> str:
    """Hello, with the customer's name when known and 'again' for a returning customer."""
    key = f"greeting.{'returning' if returning else 'new'}{'_named' if name else ''}"
    return text(key, language, business=business, name=name or "")


def attachment_name(kind: str, language: Language) -> str:
    """What text_only calls an attachment kind ('photo' -> 'photos'); unknown kinds generic."""
    key = f"attachment.{kind}" if kind in ATTACHMENT_KINDS else "attachment.other"
    return text(key, language)


def holiday_name(english: str, language: Language) -> str:
    """A holiday's name in the language, without '(observed)'; unknown names unchanged."""
    names = [_ANNOTATION.sub("", part).strip() for part in english.split(";")]
    localised = [HOLIDAYS[n][language] if n in HOLIDAYS else n for n in names if n]
    return _AND[language].join(localised)


def clock(at: datetime, language: Language) -> str:
    """A wall-clock time the way the language says it: '9:00 am', '上午9:00', '9:00 pagi'."""
    form = next(f for hour, f in reversed(_DAY_PARTS[language]) if at.hour >= hour)
    return form.format(clock=f"{at.hour % 12 or 12}:{at.minute:02d}")


def when_phrase(opens: datetime, now: datetime, language: Language) -> str:
    """'9:00 am today', 'tomorrow 9:00 am' or 'Tuesday 10 Nov, 9:00 am', in the language."""
    time = clock(opens, language)
    days = (opens.date() - now.astimezone(opens.tzinfo).date()).days
    if days == 0:
        return text("when.today", language, time=time)
    if days == 1:
        return text("when.tomorrow", language, time=time)
    return text(
        "when.later",
        language,
        weekday=text(f"weekday.{opens.weekday()}", language),
        day=str(opens.day),
        month=text(f"month.{opens.month}", language),
        time=time,
    )
