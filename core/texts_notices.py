"""What the bot says about how a message was handled: IDs hidden, limits, ratings."""

from __future__ import annotations

from typing import Final

from core.language import Language

EN, ZH, MS, TA = Language.EN, Language.ZH, Language.MS, Language.TA

NOTICES: Final[dict[str, dict[Language, str]]] = {
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
