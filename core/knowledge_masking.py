"""Personal data replaced by readable placeholders, for text kept as shared knowledge."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Final

from phonenumbers import (
    Leniency,
    NumberParseException,
    PhoneNumberFormat,
    PhoneNumberMatcher,
    format_number,
    is_valid_number,
    parse,
)

from core.redaction import is_valid_nric

NRIC: Final = "[NRIC]"
EMAIL: Final = "[email]"
PHONE: Final = "[phone]"
CARD: Final = "[card no.]"
ORDER: Final = "[order no.]"
NUMBER: Final = "[number]"
NAME: Final = "[name]"

_EMAIL: Final = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_NRIC_SHAPE: Final = re.compile(r"(?<![A-Za-z0-9])[STFGMstfgm][0-9]{7}[A-Za-z](?![A-Za-z0-9])")
# What core.redaction leaves of an NRIC/FIN in stored messages: its last three digits and letter.
_NRIC_TAIL: Final = re.compile(r"\*{5}[0-9]{3}[A-Za-z](?![A-Za-z0-9])")
# 13 to 19 digits with single spaces or dashes, the length of payment card numbers.
_CARD: Final = re.compile(r"(?<![0-9])[2-6](?:[ -]?[0-9]){12,18}(?![ -]?[0-9])")
# "order 55123", "booking ref: AB1234", "invoice no. 2024-001": a keyword, then a code with
# digits. Codes without letters need 5 digits so "order 100 boxes" keeps its quantity.
_KEYWORD_REF: Final = re.compile(
    r"\b((?:order|booking|reservation|reference|ref|invoice|receipt|tracking|transaction|"
    r"confirmation|ticket|case|policy|account|acct|member(?:ship)?)\b"
    r"(?:\s*(?:no\.?|number|num|nr|id|code|#))?\s*[:#.]?\s*)"
    r"((?=(?:[^0-9\s]*[0-9]){5}|[0-9-]*[A-Za-z][A-Za-z0-9-]*[0-9]|[A-Za-z0-9]*[0-9][A-Za-z0-9]*[A-Za-z])"
    r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)(?![A-Za-z0-9])",
    re.IGNORECASE,
)
# Codes like PL-10234 or INV2024001: a few letters, then at least three digits.
_CODE: Final = re.compile(
    r"(?<![A-Za-z0-9$])([A-Za-z]{1,5})-?[0-9]{3,}(?:-[A-Za-z0-9]+)*(?![A-Za-z0-9])"
)
# Prices written with a currency code ("SGD120") are not codes.
_CURRENCIES: Final = frozenset({"sgd", "usd", "myr", "rm", "rmb", "idr", "eur", "gbp", "aud"})
# "#4821" but not a unit number like "#02-15" (a unit alone identifies nobody; the shop's own is
# useful in answers).
_HASH_REF: Final = re.compile(r"#[0-9]{3,}(?![0-9-])")
_LONG_DIGITS: Final = re.compile(r"(?<![0-9])[0-9]{7,}(?![0-9])")
# A possible phone number: a run of at least 7 digits with short separators.
_PHONE_HINT: Final = re.compile(r"[+(]?[0-9](?:[ ().\-]{0,2}[0-9]){6,}")

_TITLE: Final = r"(?:(?:Mr|Mrs|Ms|Mdm|Miss|Dr|Madam|Mister|Sir|Auntie|Aunty|Uncle)\.?\s+)?"
_CAP_WORD: Final = r"[A-Z][a-z'’-]+"
# Up to three capitalised words, e.g. "Wei Ming" or "Siti Nurhaliza".
_CAP_NAME: Final = rf"{_CAP_WORD}(?:[ \t]+{_CAP_WORD}){{0,2}}"
_MY_NAME: Final = re.compile(
    rf"\b((?:my|My|MY)\s+name\s+is\s+)({_CAP_NAME}|[^\W\d_]+(?:[ \t]+[^\W\d_]+)?)"
)
_CALL_ME: Final = re.compile(rf"\b([Cc]all\s+me\s+)({_CAP_NAME})")
_I_AM: Final = re.compile(rf"\b(I\s+am\s+|I'm\s+|I’m\s+|Im\s+)({_CAP_NAME})")
_GREETING: Final = re.compile(
    rf"(?m)^(\s*(?:Hi|Hello|Hey|Dear|Good\s+(?:morning|afternoon|evening))\s+{_TITLE})"
    rf"({_CAP_NAME})(?=\s*[,!.:\n]|\s*$)"
)
_SIGN_OFF_WORDS: Final = (
    r"(?:(?:best|kind|warm|warmest)\s+regards|regards|rgds|thanks|thank\s+you|many\s+thanks|"
    r"cheers|sincerely|yours\s+sincerely|yours\s+faithfully|best|warmly|br)"
)
# "Regards,\nWei Ming" (any short line after a sign-off) and "Thanks, Wei Ming" (end of line).
_SIGN_OFF_LINE: Final = re.compile(
    rf"(?im)^(\s*{_SIGN_OFF_WORDS}\s*[,.!-]?[ \t]*\n\s*)((?!\[)[^\n]{{1,40}}?)[ \t]*$"
)
_SIGN_OFF_SAME_LINE: Final = re.compile(
    rf"(?im)\b({_SIGN_OFF_WORDS}\s*,[ \t]*{_TITLE})([A-Z][a-z'’-]+(?:[ \t]+[A-Z][a-z'’-]+){{0,2}})"
    r"[ \t]*[.!]?[ \t]*$"
)

# Capitalised words that follow "I'm", "Hi" or a sign-off without being a name.
_COMMON_TEXT: Final = """
    a an and the this that these those there here it its i me my we our you your he she they
    is am are was were be been being have has had do does did will would can could shall should
    may might must not no yes ok okay so very just also too only still already again now then
    sorry glad happy sure afraid unable able not interested looking calling writing emailing
    messaging asking wondering trying hoping planning going coming leaving back new a customer
    member regular visitor tourist student parent mother father owner manager staff team
    all everyone everybody guys folks there sir madam mdm boss friend friends dear
    singaporean malaysian chinese malay indian eurasian muslim christian buddhist hindu
    vegetarian vegan halal allergic pregnant diabetic see talk hope let let's speak meet
    in on at from with about for to of by as near outside inside downstairs upstairs
    good great fine well ill sick free busy available late early ready done home away
    morning afternoon evening night today tomorrow yesterday
    monday tuesday wednesday thursday friday saturday sunday weekend weekday
    january february march april may june july august september october november december
    regards thanks thank cheers best warm kind sincerely warmly rgds br
    please pls kindly hi hello hey what when where why how which who whom whose
    can could would is are do does did any some
    customer service support sales admin reception front desk
"""
_COMMON: Final = frozenset(_COMMON_TEXT.split())
# Where a kept public contact waits while the rest is masked (private-use characters).
_HELD: Final = re.compile("\ue000([0-9]+)\ue001")
_NAME_RUN: Final = re.compile(r"\[name\](?:[ \t]+\[name\])+")
_WORD: Final = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def mask_personal(text: str, names: Iterable[str] = (), keep: Iterable[str] = ()) -> str:
    """Replace NRIC/FIN, emails, phones, cards, order numbers and people's names by placeholders.

    `names` are names known to belong to people in the text (the customer's display name, the
    staff member's name); each of their words is masked too, except common words. `keep` lists
    the business's own public phone numbers and email addresses, which stay as written.
    """
    text, held = _hold_public(text, keep)
    text = _EMAIL.sub(EMAIL, text)
    text = _NRIC_SHAPE.sub(_nric_or_code, text)
    text = _NRIC_TAIL.sub(NRIC, text)
    text = _CARD.sub(_card, text)
    text = _KEYWORD_REF.sub(lambda m: m.group(1) + ORDER, text)
    text = _CODE.sub(_code, text)
    text = _mask_phones(text)
    text = _HASH_REF.sub(ORDER, text)
    text = _LONG_DIGITS.sub(NUMBER, text)
    text = _mask_known_names(text, names)
    text = _MY_NAME.sub(_keep_prefix(_not_common), text)
    text = _CALL_ME.sub(_keep_prefix(_looks_like_name), text)
    text = _I_AM.sub(_keep_prefix(_looks_like_name), text)
    text = _GREETING.sub(_keep_prefix(_looks_like_name), text)
    text = _SIGN_OFF_LINE.sub(_keep_prefix(_signature_line), text)
    text = _SIGN_OFF_SAME_LINE.sub(_keep_prefix(_looks_like_name), text)
    text = _NAME_RUN.sub(NAME, text)
    return _HELD.sub(lambda m: held[int(m.group(1))], text) if held else text


def _hold_public(text: str, keep: Iterable[str]) -> tuple[str, list[str]]:
    """The text with the kept contacts set aside as markers no masking step touches."""
    emails: set[str] = set()
    phones: set[str] = set()
    for value in keep:
        value = value.strip().removeprefix("whatsapp:")
        if "@" in value:
            emails.add(value.casefold())
        elif (number := _e164(value)) is not None:
            phones.add(number)
    held: list[str] = []
    if not emails and not phones:
        return text, held

    def hold(value: str) -> str:
        held.append(value)
        return f"\ue000{len(held) - 1}\ue001"

    text = _EMAIL.sub(
        lambda m: hold(m.group()) if m.group().casefold() in emails else m.group(), text
    )
    if phones and _PHONE_HINT.search(text):
        pieces: list[str] = []
        done = 0
        for found in PhoneNumberMatcher(text, "SG", leniency=Leniency.VALID):
            if format_number(found.number, PhoneNumberFormat.E164) in phones:
                pieces += (text[done : found.start], hold(found.raw_string))
                done = found.end
        text = "".join(pieces) + text[done:]
    return text, held


def _e164(value: str) -> str | None:
    """A phone number in E.164 form (Singapore when no country code), or None."""
    try:
        number = parse(value, "SG")
    except NumberParseException:
        return None
    return format_number(number, PhoneNumberFormat.E164) if is_valid_number(number) else None


def _nric_or_code(match: re.Match[str]) -> str:
    """A valid NRIC/FIN is labelled as one; another code of that shape as an order number."""
    return NRIC if is_valid_nric(match.group()) else ORDER


def _card(match: re.Match[str]) -> str:
    """Card-length digit runs: a card when the Luhn check holds, a number otherwise."""
    digits = re.sub(r"[^0-9]", "", match.group())
    return CARD if _luhn_ok(digits) else NUMBER


def _luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check used by payment card numbers."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _code(match: re.Match[str]) -> str:
    """Letter-and-digit codes, except prices written with a currency code."""
    return match.group() if match.group(1).lower() in _CURRENCIES else ORDER


def _mask_phones(text: str) -> str:
    """Numbers valid in Singapore, or in + form for any country."""
    if _PHONE_HINT.search(text) is None:
        return text
    pieces: list[str] = []
    done = 0
    for found in PhoneNumberMatcher(text, "SG", leniency=Leniency.VALID):
        pieces += (text[done : found.start], PHONE)
        done = found.end
    return "".join(pieces) + text[done:] if pieces else text


def _mask_known_names(text: str, names: Iterable[str]) -> str:
    """Each known name in full, then each of its words that is not a common word."""
    words: set[str] = set()
    for name in names:
        name = name.strip()
        if not name:
            continue
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", NAME, text, flags=re.IGNORECASE)
        words.update(
            w for w in _WORD.findall(name) if len(w) > 1 and w.lower() not in _COMMON | _TITLES
        )
    for word in sorted(words, key=len, reverse=True):
        text = re.sub(rf"(?<![\w\[]){re.escape(word)}(?![\w\]])", NAME, text, flags=re.IGNORECASE)
    return text


_TITLES: Final = frozenset({"mr", "mrs", "ms", "mdm", "miss", "dr", "madam", "mister"})


def _not_common(words: str) -> bool:
    """Words that begin with something other than a common word, in any case."""
    return words.split()[0].lower() not in _COMMON


def _looks_like_name(words: str) -> bool:
    """Capitalised words that begin with something other than a common word."""
    first = words.split()[0]
    return first[:1].isupper() and first.lower() not in _COMMON


def _signature_line(line: str) -> bool:
    """A short line after a sign-off: a name or a name with a role, not a sentence or a link."""
    words = line.split()
    return (
        0 < len(words) <= 4
        and not any(ch in line for ch in "@:/?")
        and words[0][:1].isalpha()
        and words[0].lower() not in _COMMON
    )


def _keep_prefix(accept: Callable[[str], bool]) -> Callable[[re.Match[str]], str]:
    """A substitution that keeps group 1 and masks group 2 when `accept` says it is a name."""

    def substitute(match: re.Match[str]) -> str:
        if not accept(match.group(2)):
            return match.group()
        return match.group(1) + _mask_name_run(match.group(2))

    return substitute


def _mask_name_run(words: str) -> str:
    """A run of capitalised words up to the first common word (which stays)."""
    parts = words.split(" ")
    for i, part in enumerate(parts):
        if i and part.lower() in _COMMON:
            return " ".join([NAME, *parts[i:]])
    return NAME
