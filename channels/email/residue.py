"""What no person wrote, taken out of a decoded email body: encoded residue, MIME lines, binary.

A lost or broken MIME boundary leaves a body holding the next part undecoded: base64 lines,
quoted-printable escapes, part headers, or a file's raw bytes. None of it is the customer's
words, and a reply to it answers nothing, so it is removed before the text is used.
"""

from __future__ import annotations

import re
from typing import Final

# Boundary lines and part headers (with their folded lines) left in the text of broken MIME.
_BCHARS: Final = r"[^\s<>]"  # broken mail breaks RFC 2046 too, but "-->" ends an HTML comment
_MIME_LINES: Final = re.compile(
    rf"^(--{_BCHARS}{{6,}}|(content-[\w-]+|mime-version):.*(\r?\n[ \t].*)*)\r?$\n?", re.I | re.M
)
_BASE64_LINE: Final = re.compile(r"[A-Za-z0-9+/]+={0,2}")
# Base64 is written in lines of one length (76 in MIME) and a shorter last one, or unwrapped.
# Below this many letters it may be a code or a key a customer pasted, and is left alone.
_ENCODED_MIN: Final = 150
_UPPER: Final = re.compile(r"[A-Z]")
_LOWER: Final = re.compile(r"[a-z]")
# After residue, any "--boundary" line is residue too, however short the boundary.
_BOUNDARY: Final = re.compile(rf"^--{_BCHARS}+\r?$\n?", re.M)
_QP_ESCAPE: Final = re.compile(r"=[0-9A-F]{2}")
_QP_MIN: Final = 4  # escapes per line; "=20" or "=3D" here and there is English read as is
# Never in text a person wrote: C0 controls but tab and line breaks, DEL, C1 controls, lone
# surrogates, the replacement character and non-characters. Binary read as text is full of them.
# Private use stays: Japanese carriers' emoji decode there.
_JUNK: Final = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffd-\uffff]")
_JUNK_MIN: Final = 2
_JUNK_SHARE: Final = 0.05


def without_mime_lines(text: str) -> str:
    """The text without boundary lines and part headers a broken multipart left in it."""
    return _MIME_LINES.sub("", text)


def readable(text: str) -> str:
    """The text without encoded residue or binary; empty when nothing a person wrote is left."""
    cleaned = _without_binary(_without_quoted_printable(_without_base64(text)))
    if cleaned != text:  # residue means broken MIME: its part headers are residue too
        cleaned = _BOUNDARY.sub("", without_mime_lines(cleaned))
    return cleaned if cleaned.strip() else ""


def _without_base64(text: str) -> str:
    """Runs of base64 lines out, once they are longer than a pasted code or key."""
    lines = text.split("\n")
    kept: list[str] = []
    run: list[str] = []
    for line in [*lines, ""]:  # the empty line closes the last run
        if _BASE64_LINE.fullmatch(line.rstrip()):
            run.append(line)
            continue
        if not _encoded(run):
            kept.extend(run)
        kept.append(line)
        run = []
    return "\n".join(kept[:-1])


def _encoded(run: list[str]) -> bool:
    """Whether consecutive lines of the base64 alphabet are an encoded part."""
    lengths = [len(line.rstrip()) for line in run]
    joined = "".join(run)
    return (
        sum(lengths) >= _ENCODED_MIN
        and len(set(lengths[:-1])) <= 1
        and lengths[-1] <= lengths[0]
        # Base64 of a file has both cases; hex digests and codes in capitals have one.
        and _UPPER.search(joined) is not None
        and _LOWER.search(joined) is not None
    )


def _without_quoted_printable(text: str) -> str:
    """Lines that are mostly quoted-printable escapes (non-Latin text never decoded) out."""
    if len(_QP_ESCAPE.findall(text)) < _QP_MIN:
        return text
    return "\n".join(line for line in text.split("\n") if not _mostly_escapes(line))


def _mostly_escapes(line: str) -> bool:
    escapes = len(_QP_ESCAPE.findall(line))
    return escapes >= _QP_MIN and escapes * 3 * 2 >= len("".join(line.split()))


def _without_binary(text: str) -> str:
    """The text before the paragraph where binary starts: a file's bytes run to the part's end.

    A lost part's content begins after a blank line (its headers end there), so what comes
    before that line is kept and the rest, half-readable bytes around the junk too, is not.
    """
    if len(_JUNK.findall(text)) < _JUNK_MIN:
        return text
    lines = text.split("\n")  # not splitlines(): binary is full of the other breaks it knows
    for index, line in enumerate(lines):
        junk = len(_JUNK.findall(line))
        if junk >= _JUNK_MIN and junk >= _JUNK_SHARE * len("".join(line.split())):
            blank = max((i for i in range(index) if not lines[i].strip()), default=0)
            return "\n".join(lines[:blank])
    return text
