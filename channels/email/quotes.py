"""Email bodies as plain text: HTML rendered, then cut to what the sender just wrote."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from typing import Final

from bs4 import BeautifulSoup, UnusualUsageWarning
from bs4.element import NavigableString, PageElement, PreformattedString, Tag
from bs4.exceptions import ParserRejectedMarkup

_MAX_LINES: Final = 5_000  # past this a body is history, not a new message: only its head is read

_VERBS: Final = (
    r"(wrote|schrieb|a écrit|escribió|schreef|ha scritto|escreveu|skrev|menulis|napisał|написал\w*)"
)
# "On Mon, 2 Apr 2012 at 18:26, Megan <m@x.com> wrote:" and its translations; Gmail wraps it.
_ON_WROTE: Final = re.compile(
    r"^(on|am|le|el|op|il|em|den|dne|pada|w dniu)\s.{0,300}?"
    rf"{_VERBS}\s*:?\s*$",
    re.IGNORECASE,
)
_OPENER: Final = re.compile(
    r"^((on|am|le|el|op|il|em|den|dne|pada|w dniu)\s|在|於|于|\d{1,4}[./-]\d{1,2}[./-]\d{1,4})",
    re.I,
)
_CJK_WROTE: Final = re.compile(r"^(在|於|于)?.{0,300}(写道|寫道)\s*[:\uff1a]?\s*$")
# "02.04.2012 14:20 user <a@b> написал:"; "2014-06-26 14:41 GMT+04:00 Al <a@b>:" before a quote
_DATED_WROTE: Final = re.compile(
    r"^.{0,200}\d{1,4}[./-]\d{1,2}[./-]\d{1,4}.{0,200}"
    rf"{_VERBS}\s*:\s*$",
    re.I,
)
_WEAK_WROTE: Final = re.compile(
    r"^.{0,300}(@|\d{1,2}:\d{2}|\bwrote|schrieb|написал|写道|寫道).{0,300}[:\uff1a]\s*$", re.I
)
_SEPARATOR: Final = re.compile(
    r"^[-=_*\s]*(original message|forwarded message|begin forwarded message|原始邮件|原始郵件|"
    r"转发邮件|轉寄郵件|ursprüngliche nachricht|weitergeleitete nachricht|message d'origine|"
    r"message transféré|mensaje original|mensaje reenviado|oorspronkelijk bericht|"
    r"исходное сообщение|пересылаемое сообщение)\s*:?[-=_*\s]*$",
    re.IGNORECASE,
)
_FORWARD: Final = re.compile(
    r"forward|\bfwd?\s*[:\uff1a]|转发|轉寄|weitergeleitet|transféré|reenviado|пересыл", re.I
)
_HEADER: Final = re.compile(
    r"^\*?(from|sent|date|to|cc|subject|reply-to|de|von|van|da|envoyé|gesendet|datum|an|à|para|"
    r"betreff|objet|asunto|onderwerp|oggetto|от|отправлено|кому|тема|дата|发件人|發件人|寄件者|"
    r"发送时间|發送時間|寄件日期|时间|日期|收件人|收件者|抄送|副本|主题|主題|主旨)\s*\*?\s*[:\uff1a]",
    re.IGNORECASE,
)
_FROM_HEADER: Final = re.compile(
    r"^\*?(from|de|von|van|da|от|发件人|發件人|寄件者)\s*\*?\s*[:\uff1a]", re.I
)
_SENT_OR_SUBJECT: Final = re.compile(
    r"^\*?(sent|subject|gesendet|betreff|envoyé|objet|enviado|asunto|onderwerp|oggetto|отправлено|"
    r"тема|发送时间|發送時間|寄件日期|主题|主題|主旨)\s*\*?\s*[:\uff1a]",
    re.IGNORECASE,
)
_QUOTE: Final = re.compile(r"^\s*>")
_RULE: Final = re.compile(r"^[-_=*~\s]*$")
_DASH_SIGNATURE: Final = re.compile(r"^--\s?$")
_DEVICE_SIGNATURE: Final = re.compile(
    r"^(sent (from|with|via|using) |sent on the go|get outlook for |envoyé de |enviado (desde|de) |"
    r"von meinem |gesendet von |verzonden (met|vanaf) |dikirim dari |dihantar dari |"
    r"发自|從我的|从我的|發自|寄自我的|이 메일은)",
    re.IGNORECASE,
)
_SIGN_OFF: Final = re.compile(
    r"^(thanks|thank you|many thanks|thanks again|thanks (and|&) (best |kind )?regards|regards|"
    r"best regards|kind regards|warm regards|warmest regards|best wishes|best|cheers|sincerely|"
    r"yours sincerely|yours truly|yours faithfully|rgds|br|thx|tks|tq|mit freundlichen grüßen|"
    r"cordialement|saludos|salam|谢谢|謝謝|多谢|多謝|此致|祝好|敬上|此致敬礼)[\s,.!。\uff01\uff0c]*$",
    re.IGNORECASE,
)

_BLOCKS: Final = (
    "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt", "fieldset",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
    "nav", "ol", "p", "pre", "section", "table", "tr", "ul",
)  # fmt: skip
_SKIPPED_TAGS: Final = frozenset({"script", "style", "head", "title", "noscript", "template"})
_MAX_HTML_CHARS: Final = 300_000  # beyond this HTML is a newsletter or a long thread's history
_SIGNATURE_LINES: Final = 12  # what may follow "-- " or a device line
_SIGN_OFF_LINES: Final = 4  # what may follow a sign-off: a name, a title, a phone number
_SIGNATURE_LINE_CHARS: Final = 80
_QUESTION: Final = re.compile("[?\uff1f]")
_LINK: Final = re.compile(r"\S+://\S+")
_SPACES: Final = re.compile(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE: Final = dict.fromkeys(  # zero-width characters and control codes but tab and newline
    [*range(0x09), *range(0x0B, 0x20), 0x7F, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF]
)


def normalise_whitespace(text: str) -> str:
    """Collapse spaces within lines, trim every line, keep at most one blank line in a row."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.translate(_INVISIBLE).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: no scripts or styles, blocks on their own lines, links kept.

    Blockquotes come out as "> " lines, so quoted history is stripped like in plain-text mail.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusualUsageWarning)
        try:
            soup = BeautifulSoup(html[:_MAX_HTML_CHARS], "html.parser")
        except ParserRejectedMarkup:  # "<![foo ...]>", a marked section html.parser refuses
            soup = BeautifulSoup(html[:_MAX_HTML_CHARS].replace("<![", "&lt;!["), "html.parser")
    lines: list[tuple[int, list[str]]] = [(0, [])]  # (quote depth, pieces of text) per line
    depth = 0
    for event, value in _html_events(soup):
        current = lines[-1][1]
        said = any(piece.strip() for piece in current)
        if event == "text" and not said and value.strip() == "" and "\xa0" in value:
            lines.append((depth, []))  # Outlook's &nbsp; paragraph: a blank line
        elif event == "text":
            current.append(value)
        elif event == "break":
            lines.append((depth, []))
        else:  # the edge of a block, a paragraph or a quote
            depth = max(0, depth + {"open": 1, "close": -1}.get(event, 0))
            if said:
                lines.append((depth, []))
            else:
                lines[-1] = (depth, [])
            before = lines[-2] if len(lines) > 1 else (-1, [])
            if event == "paragraph" and before[0] == depth and any(p.strip() for p in before[1]):
                lines.append((depth, []))
    text = "\n".join(
        "> " * level + " ".join("".join(pieces).split()) if any(pieces) else ""
        for level, pieces in lines
    )
    return normalise_whitespace(text)


def _html_events(root: Tag) -> Iterator[tuple[str, str]]:
    """Text, line breaks, block edges and quote edges in document order; no recursion."""
    stack: list[tuple[PageElement, bool]] = [(root, False)]
    in_pre = 0
    while stack:
        node, closing = stack.pop()
        if isinstance(node, NavigableString):
            if isinstance(node, PreformattedString):  # comments, CDATA, doctypes
                continue
            for number, piece in enumerate(str(node).split("\n") if in_pre else [str(node)]):
                if number:
                    yield "break", ""
                yield "text", piece
            continue
        if not isinstance(node, Tag) or node.name in _SKIPPED_TAGS:
            continue
        name = node.name
        if name == "br" and not closing:
            yield "break", ""
        elif name in ("td", "th") and closing:
            yield "text", " "
        elif name == "blockquote":
            yield ("close" if closing else "open"), ""
        elif name == "p" and "MsoNormal" not in node.get_attribute_list("class"):
            yield "paragraph", ""
        elif name in _BLOCKS:  # Outlook's "MsoNormal" paragraphs are mere lines
            yield "block", ""
        if name == "pre":
            in_pre += -1 if closing else 1
        if not closing:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))


def strip_quotes(text: str) -> str:
    """Remove quoted history: attribution lines, quoted blocks, forwarded and Outlook headers."""
    lines = normalise_whitespace(text).split("\n")[:_MAX_LINES]
    while (split := _find_split(lines)) is not None:
        begin, end, attribution = split
        if _has_text(lines[:begin]):
            return _tidy([line for line in lines[:begin] if not _QUOTE.match(line)])
        if _FORWARD.search("\n".join(lines[begin:end])):
            lines = lines[end:]  # a bare forward: what was forwarded is the message
        elif attribution:  # the history comes first (bottom posting): keep what follows it
            lines = lines[end:]
            while lines and (not lines[0] or _QUOTE.match(lines[0])):
                lines = lines[1:]
        else:  # an Outlook-style header block on top: nothing new was written
            return ""
    return _tidy([line for line in lines if not _QUOTE.match(line)])


def strip_signature(text: str) -> str:
    """Remove a trailing signature: after "-- ", a "Sent from my ..." line, or a short sign-off."""
    lines = text.split("\n")
    filled = [index for index, line in enumerate(lines) if line.strip()]
    first_text = next((index for index in filled if _has_text([lines[index]])), len(lines))
    for rank, index in enumerate(filled):
        after = [lines[later] for later in filled[rank + 1 :]]
        if index <= first_text or len(after) > _SIGNATURE_LINES or not _asks_nothing(after):
            continue
        line = lines[index]
        if _DASH_SIGNATURE.match(line) or _DEVICE_SIGNATURE.match(line):
            return _tidy(lines[:index])
        if _SIGN_OFF.match(line) and len(after) <= _SIGN_OFF_LINES:
            return _tidy(lines[:index])
    return _tidy(lines)


def extract_reply(text: str) -> str:
    """What the sender just wrote: quotes removed first, then the signature."""
    return strip_signature(strip_quotes(text))


def _find_split(lines: list[str]) -> tuple[int, int, bool] | None:
    """The first lines [begin, end) opening quoted history, and whether they are an attribution."""
    for index in range(len(lines)):
        line = lines[index]
        if not line or _QUOTE.match(line):
            continue
        if _SEPARATOR.match(line):
            return index, _skip_headers(lines, index + 1), False
        if _header_block(lines, index):
            return index, _skip_headers(lines, index), False
        for span in (1, 2, 3):  # an attribution wrapped over up to three lines
            if span > 1 and (not all(lines[index : index + span]) or not _OPENER.match(line)):
                break
            joined = " ".join(lines[index : index + span])
            if _ON_WROTE.match(joined) or _CJK_WROTE.match(joined) or _DATED_WROTE.match(joined):
                return index, index + span, True
            if _WEAK_WROTE.match(joined) and _quote_follows(lines, index + span):
                return index, index + span, True
    return None


def _header_block(lines: list[str], index: int) -> bool:
    """A From:/Sent:/To:/Subject: block of a quoted or forwarded message starts here."""
    if not _HEADER.match(lines[index]):
        return False
    window = [line for line in lines[index : index + 8] if line][:6]
    headers = [line for line in window if _HEADER.match(line)]
    return (  # "From:/To:/Date:" alone may be a customer's own list: Sent or Subject must be there
        len(headers) >= 3
        and any(_FROM_HEADER.match(line) for line in headers)
        and any(_SENT_OR_SUBJECT.match(line) for line in headers)
    )


def _skip_headers(lines: list[str], index: int) -> int:
    """The index past the header lines (and blank lines) that follow a separator."""
    while index < len(lines) and (not lines[index] or _HEADER.match(lines[index])):
        index += 1
    return index


def _quote_follows(lines: list[str], index: int) -> bool:
    following = [line for line in lines[index : index + 3] if line]
    return bool(following) and _QUOTE.match(following[0]) is not None


def _has_text(lines: list[str]) -> bool:
    """Whether any line outside quotes says something."""
    return any(line and not _RULE.match(line) and not _QUOTE.match(line) for line in lines)


def _asks_nothing(lines: list[str]) -> bool:
    """Short lines without a question (outside links): a name, a title, a phone number."""
    return all(
        len(line) <= _SIGNATURE_LINE_CHARS and not _QUESTION.search(_LINK.sub("", line))
        for line in lines
    )


def _tidy(lines: list[str]) -> str:
    """Join lines, dropping the rules and blank lines left at the end by a cut."""
    while lines and _RULE.match(lines[-1]):
        lines = lines[:-1]
    return normalise_whitespace("\n".join(lines))
