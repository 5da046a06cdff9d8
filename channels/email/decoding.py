"""Mail text and headers decoded whatever their charset claims: declared, corrected or detected."""

from __future__ import annotations

import codecs
import email
import email.errors
import email.header
import email.policy
import email.utils
import re
from typing import Final

from charset_normalizer import from_bytes

# Labels that mean a superset in practice (WHATWG encoding standard), tried in this order.
_CODECS: Final = {
    "gb2312": ("gb18030",), "gbk": ("gb18030",), "x-gbk": ("gb18030",), "cp936": ("gb18030",),
    "euc-cn": ("gb18030",), "big5": ("cp950", "big5hkscs"), "iso-8859-1": ("cp1252", "latin-1"),
    "latin-1": ("cp1252", "latin-1"), "ks_c_5601-1987": ("cp949",), "euc-kr": ("cp949",),
    "shift_jis": ("cp932",), "tis-620": ("cp874",), "iso-8859-11": ("cp874",), "us-ascii": (),
    "ascii": (), "unknown-8bit": (), "x-unknown": (), "utf8": ("utf-8",),
}  # fmt: skip

_NOT_UTF8_FIRST: Final = ("utf", "iso-2022", "iso2022", "hz")  # UTF-8 itself, or not ASCII-based

_ASCII: Final = bytes(range(128))

_UNSAFE_CODECS: Final = frozenset({"unicode-escape", "raw-unicode-escape", "idna", "punycode"})

# Undeclared or wrongly declared 8-bit text: GB2312-range and Big5 byte pairs throughout first,
# then detection among the charsets Singapore mail is written in.
_LEGACY: Final = (
    (re.compile(rb"([\x00-\x7f]|[\xa1-\xf7][\xa1-\xfe])*"), "gb18030"),
    (re.compile(rb"([\x00-\x7f]|[\xa1-\xf9][\x40-\x7e\xa1-\xfe])*"), "cp950"),
)

_DETECT_MIN: Final = 16  # non-ASCII bytes

_DETECTED: Final = ["gb18030", "big5", "cp1252", "cp1251", "cp874", "shift_jis", "euc_kr"]

_CONTROLS: Final = dict.fromkeys([*range(0x20), 0x7F], " ")  # PostgreSQL refuses NUL in text


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode text in its declared charset; if that is wrong or missing, detect; never raise."""
    if not data:
        return ""
    label = (charset or "").strip().strip("\"'").lower()
    candidates = list(_CODECS.get(label, (label,) if label else ()))
    if candidates and not data.isascii() and not candidates[0].startswith(_NOT_UTF8_FIRST):
        candidates.insert(0, "utf-8")  # valid UTF-8 is almost never legacy text by accident
    for name in [*candidates, "utf-8"]:
        try:
            if codecs.lookup(name).name not in _UNSAFE_CODECS:  # text codecs that unescape
                return data.decode(name)
        except (LookupError, UnicodeError, ValueError):
            continue
    utf8 = data.decode("utf-8", errors="replace")
    high = len(data.translate(None, _ASCII))
    if utf8.count("\ufffd") * 20 <= high:
        return utf8  # UTF-8 with a few broken bytes (a header cut mid-character, say)
    for pattern, codec in _LEGACY:
        if pattern.fullmatch(data):
            return data.decode(codec, errors="replace")
    if high < _DETECT_MIN:  # too little to detect from; Western names and words, mostly
        return data.decode("cp1252", errors="replace")
    best = from_bytes(data[:200_000], cp_isolation=_DETECTED).best()
    return data.decode(best.encoding, errors="replace") if best is not None else utf8


def decode_header(value: str, charset: str | None = None) -> str:
    """Decode a raw header value: raw 8-bit bytes and RFC 2047 words, malformed ones as is."""
    value = unescape_header(value, charset)
    try:
        chunks = email.header.decode_header(value)
    except (email.errors.HeaderParseError, ValueError, LookupError):
        return one_line(value)
    text = "".join(
        chunk if isinstance(chunk, str)
        else decode_bytes(chunk, chunk_charset) if chunk_charset
        else _unencoded(chunk)
        for chunk, chunk_charset in chunks
    )  # fmt: skip
    return one_line(text)


def one_line(text: str) -> str:
    """Header text on one line: whitespace and control codes (NUL too) as single spaces."""
    return " ".join(text.translate(_CONTROLS).split())


def _unencoded(chunk: bytes) -> str:
    """Text between encoded words, which email.header hands back as raw-unicode-escape bytes."""
    try:
        return chunk.decode("raw-unicode-escape")
    except UnicodeDecodeError:  # a literal backslash-u: the text was Latin-1 all along
        return chunk.decode("latin-1")


def unescape_header(value: str, charset: str | None) -> str:
    """Header text with raw 8-bit bytes (escaped by the email package) decoded."""
    if any("\udc80" <= char <= "\udcff" for char in value):
        return decode_bytes(value.encode("utf-8", "surrogateescape"), charset)
    return value
