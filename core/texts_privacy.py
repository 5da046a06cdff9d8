"""What the bot says about consent and the customer's personal data."""

from __future__ import annotations

from typing import Final

from core.language import Language

EN, ZH, MS, TA = Language.EN, Language.ZH, Language.MS, Language.TA

PRIVACY: Final[dict[str, dict[Language, str]]] = {
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
}
