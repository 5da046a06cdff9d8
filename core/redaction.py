"""Masking of personal data (PDPA): NRIC/FIN everywhere, phones, emails and cards in logs."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Final

from phonenumbers import Leniency, PhoneNumberMatcher

from core.messages import InboundMessage

# Singapore NRIC/FIN: prefix letter, 7 digits, check letter. The check letter is
#   table[(offset + sum(w * d for w, d in zip((2, 7, 6, 5, 4, 3, 2), digits))) % 11]
# S/T: NRIC (citizens and PRs; T for those registered from 2000), table "JZIHGFEDCBA".
# F/G: FIN (foreigners; G from 2000), table "XWUTRQPNMLK". T and G add an offset of 4.
# M: FIN series issued from 1 January 2022: offset 3 and its own table. GovTech's FormSG
#   (isMFinSeriesValid, shared/utils/nric-validation.ts) states the rule as "S1 = weighted
#   sum + 3; R1 = S1 mod 11; P = 11 - R1; check = 'KLJNPQRTUWX'[P - 1]", which is
#   "XWUTRQPNJLK"[R1]: the F/G table with J in place of M. Its test vector is M1234567K.
_WEIGHTS: Final = (2, 7, 6, 5, 4, 3, 2)
_RULES: Final[dict[str, tuple[int, str]]] = {
    "S": (0, "JZIHGFEDCBA"),
    "T": (4, "JZIHGFEDCBA"),
    "F": (0, "XWUTRQPNMLK"),
    "G": (4, "XWUTRQPNMLK"),
    "M": (3, "XWUTRQPNJLK"),
}

# Nine contiguous characters, not touching another ASCII letter or digit (CJK text may touch).
_NRIC: Final = re.compile(r"(?<![A-Za-z0-9])[STFGMstfgm][0-9]{7}[A-Za-z](?![A-Za-z0-9])")
_EMAIL: Final = re.compile(
    r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*"
    r"@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
)
# 13 to 19 digits, single spaces or dashes allowed between them, first digit 2-6 (the card
# networks in use here), not part of a longer run of digits.
_CARD: Final = re.compile(r"(?<![0-9])(?<![0-9][ -])[2-6](?:[ -]?[0-9]){12,18}(?![ -]?[0-9])")
# A run of at least 7 digits with short separators: only such runs go to PhoneNumberMatcher.
_PHONE_HINT: Final = re.compile(r"[+(]?[0-9](?:[ ().\-]{0,2}[0-9]){6,}")
_NOT_DIGIT: Final = re.compile(r"[^0-9]")
# Chinese and Japanese input methods can type full-width letters and digits (U+FF10 onwards).
_FULL_WIDTH: Final = str.maketrans(
    {0xFF10 + i: 0x30 + i for i in range(10)}
    | {0xFF21 + i: 0x41 + i for i in range(26)}
    | {0xFF41 + i: 0x61 + i for i in range(26)}
)
_DIGITS: Final = "0123456789"

NRIC_NOTICE: Final = (
    "For your security, please don't send your NRIC or FIN number here: "
    "we have hidden it, and we never need it to answer your question."
)


def is_valid_nric(s: str) -> bool:
    """Whether s is exactly one Singapore NRIC/FIN (S, T, F, G or M) with a correct check letter."""
    if len(s) != 9:
        return False
    s = s.translate(_FULL_WIDTH).upper()
    if not s.isascii():
        return False
    rule = _RULES.get(s[0])
    digits = s[1:8]
    if rule is None or not digits.isdigit():
        return False
    offset, table = rule
    total = offset + sum(w * int(d) for w, d in zip(_WEIGHTS, digits, strict=True))
    return s[8] == table[total % 11]


def mask_nric(text: str) -> tuple[str, int]:
    """Replace each valid NRIC/FIN with its last 3 digits and check letter ("*****567D")."""
    probe = text if text.isascii() else text.translate(_FULL_WIDTH)
    pieces: list[str] = []
    done = 0
    for found in _NRIC.finditer(probe):
        if is_valid_nric(found.group()):
            start = found.start()
            pieces += (text[done:start], "*****", text[start + 5 : found.end()])
            done = found.end()
    if not pieces:
        return text, 0
    pieces.append(text[done:])
    return "".join(pieces), len(pieces) // 3


def mask_for_logs(text: str) -> str:
    """Mask NRIC/FIN, phone numbers, email addresses and card numbers in one log string."""
    has_at = "@" in text
    if not has_at and (len(text) < 7 or sum(map(text.count, _DIGITS)) < 7):
        return text
    if has_at:
        text = _EMAIL.sub(_mask_email, text)
    # An NRIC, a card or a phone number each needs a run of 7 digits: one search rules all out.
    if _PHONE_HINT.search(text) is None:
        return text
    text, _ = mask_nric(text)
    text = _CARD.sub(_mask_card, text)
    return _mask_phones(text)


def _mask_email(match: re.Match[str]) -> str:
    """First character of the local part and the whole domain."""
    return f"{match.group(1)}***@{match.group(2)}"


def _mask_card(match: re.Match[str]) -> str:
    """A Luhn-valid card number keeps its last four digits."""
    digits = _NOT_DIGIT.sub("", match.group())
    return f"**** **** **** {digits[-4:]}" if _luhn_ok(digits) else match.group()


def _luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check used by payment card numbers."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _mask_phones(text: str) -> str:
    """Phone numbers valid for Singapore, or in + form for any country, keep 4 digits."""
    pieces: list[str] = []
    done = 0
    for hint in _PHONE_HINT.finditer(text):
        # One character of context each side lets the matcher reject numbers inside words.
        start = max(hint.start() - 1, done)
        window = text[start : hint.end() + 1]
        for found in PhoneNumberMatcher(window, "SG", leniency=Leniency.VALID):
            raw = found.raw_string
            last4 = _NOT_DIGIT.sub("", raw)[-4:]
            lead = f"+{found.number.country_code} " if raw.startswith("+") else ""
            pieces.append(text[done : start + found.start])
            pieces.append(f"{lead}****{last4}")
            done = start + found.end
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def hide_ids(message: InboundMessage) -> InboundMessage:
    """The message with NRIC/FIN numbers masked, counting those in the text (idempotent).

    The sender's display name is masked too: it is stored and shown to staff as well.
    """
    text, count = mask_nric(message.text)
    name, in_name = mask_nric(message.display_name) if message.display_name else (None, 0)
    if count == 0 and in_name == 0:
        return message
    return replace(message, text=text, display_name=name, ids_masked=message.ids_masked + count)
