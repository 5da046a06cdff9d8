"""Structure-aware chunking: sections of a document become passage chunks sized for the embedder."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from core.knowledge import Chunk, ChunkKind
from knowledge_base.passages import MAX_WORDS, split_passage, word_count

CHUNKING_VERSION = 2
"""Raised whenever chunk texts change, so that unchanged files are indexed again (loaders).

2: a section's chunks are searched under its document's title as well as its own headings.
"""

MAX_ENTRY_ID_LENGTH = 64
"""Longest entry id: fits Telegram's 64-byte callback data, so a quick reply can carry it."""

_NAME_SLUG_LENGTH = 20
_HEADING_SLUG_LENGTH = 24
_NON_SLUG = re.compile(r"[^a-z0-9]+")
_BLANK_LINES = re.compile(r"\n\s*\n")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n.*?\n---[ \t]*(?:\n|\Z)", re.DOTALL)


class DocumentError(Exception):
    """A knowledge file that cannot be loaded: its path and the reason, fit to show its owner."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


Event = tuple[int, str, object | None]
"""One step through a structured document: heading level (0 for body text), text, and the list
or table the text belongs to (None when it stands alone)."""


@dataclass(frozen=True, slots=True)
class Section:
    """A run of text blocks under one heading path; an empty path means no heading."""

    headings: tuple[str, ...]
    blocks: tuple[str, ...]


def slugify(text: str) -> str:
    """Return a lowercase ASCII slug of ``text``; a short hash when no ASCII letter survives."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _NON_SLUG.sub("-", ascii_text.lower()).strip("-")
    return slug or "h-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def document_slug(document: str) -> str:
    """Short stable slug of a document path: its file name's start and a hash of the whole path."""
    name = document.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    digest = hashlib.sha256(document.encode("utf-8")).hexdigest()[:4]
    return f"{shorten(slugify(name), _NAME_SLUG_LENGTH)}-{digest}"


def shorten(slug: str, limit: int) -> str:
    """Cut a slug to at most ``limit`` characters, at a hyphen when there is one."""
    if len(slug) <= limit:
        return slug
    cut = slug[:limit]
    if slug[limit] == "-" or "-" not in cut:
        return cut.rstrip("-")
    return cut.rsplit("-", 1)[0]


def cap_entry_id(entry_id: str) -> str:
    """Shorten an id beyond ``MAX_ENTRY_ID_LENGTH`` to a readable prefix plus a stable hash."""
    if len(entry_id) <= MAX_ENTRY_ID_LENGTH:
        return entry_id
    digest = hashlib.sha256(entry_id.encode("utf-8")).hexdigest()[:8]
    return f"{entry_id[: MAX_ENTRY_ID_LENGTH - 9].rstrip('-/:#~')}-{digest}"


def unique_ids(ids: Iterable[str]) -> list[str]:
    """Suffix repeated ids with ``~2``, ``~3``... in order, so equal inputs give equal outputs."""
    seen: dict[str, int] = {}
    result: list[str] = []
    for entry_id in ids:
        seen[entry_id] = seen.get(entry_id, 0) + 1
        result.append(entry_id if seen[entry_id] == 1 else f"{entry_id}~{seen[entry_id]}")
    return result


def title_from_path(document: str) -> str:
    """Make a human title from a file name: ``opening_hours.txt`` gives ``Opening hours``."""
    stem = document.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    words = re.sub(r"[_\-\s]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else document


def chunk_sections(
    document: str, sections: Iterable[Section], *, title: str, max_words: int = MAX_WORDS
) -> tuple[Chunk, ...]:
    """Turn a document's sections into passage chunks, one entry per section or part of one."""
    passages: list[tuple[str, str, str, str]] = []
    for section in sections:
        section_title = " > ".join(section.headings) or title
        context = searched_heading(title, section.headings)
        budget = max(max_words - word_count(context), max_words // 2)
        parts = split_passage(section.blocks, budget)
        path_slug = "/".join(
            shorten(slugify(heading), _HEADING_SLUG_LENGTH) for heading in section.headings
        )
        base = f"{document_slug(document)}:{path_slug}" if path_slug else document_slug(document)
        for index, part in enumerate(parts, start=1):
            entry_id = f"{base}#{index}" if len(parts) > 1 else base
            passages.append((entry_id, section_title, context, part))
    ids = unique_ids(entry_id for entry_id, _, _, _ in passages)
    return tuple(
        Chunk(
            document=document,
            entry_id=cap_entry_id(entry_id),
            title=section_title,
            text=f"{context}\n{passage}",
            answer=passage,
            kind=ChunkKind.PASSAGE,
            position=position,
        )
        for position, (entry_id, (_, section_title, context, passage)) in enumerate(
            zip(ids, passages, strict=True)
        )
    )


def searched_heading(title: str, headings: tuple[str, ...]) -> str:
    """The heading path a section's chunks are searched by: the document's title, then its own.

    A section heading alone is often generic ("Fees", "Answer 2"); the title says what it is about.
    """
    if headings and headings[0].casefold() != title.casefold():
        return " > ".join((title, *headings))
    return " > ".join(headings) or title


def text_sections(text: str) -> list[Section]:
    """Read plain text as one heading-less section of blank-line-separated paragraphs."""
    blocks = tuple(block.strip() for block in _BLANK_LINES.split(text) if block.strip())
    return [Section((), blocks)] if blocks else []


def fold_sections(
    events: Iterable[Event], *, lone_h1_is_title: bool = True
) -> tuple[str | None, list[Section]]:
    """Fold heading and text events into sections; a lone H1 leading the headings is the title.

    Consecutive text events of the same group (a list, a table) join into one block.
    """
    items = list(events)
    heading_levels = [level for level, _, _ in items if level]
    title: str | None = None
    if lone_h1_is_title and heading_levels[:1] == [1] and heading_levels.count(1) == 1:
        first = next(index for index, (level, _, _) in enumerate(items) if level)
        title = items.pop(first)[1]
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    blocks: list[str] = []
    last_group: object | None = None
    for level, text, group in items:
        if level:
            if blocks:
                sections.append(Section(tuple(h for _, h in stack), tuple(blocks)))
                blocks = []
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, text))
        elif group is not None and group is last_group and blocks:
            blocks[-1] += "\n" + text
        elif text:
            blocks.append(text)
        last_group = group
    if blocks:
        sections.append(Section(tuple(h for _, h in stack), tuple(blocks)))
    return title, sections


def markdown_sections(text: str) -> tuple[str | None, list[Section]]:
    """Parse Markdown into its title (a lone leading H1) and sections keyed by heading path.

    A leading YAML front-matter block (between ``---`` lines) is skipped.
    """
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    root = SyntaxTreeNode(parser.parse(_FRONT_MATTER.sub("", text, count=1)))
    events: list[Event] = []
    for node in root.children:
        if node.type == "heading":
            heading = _inline(node.children[0]).strip() if node.children else ""
            events.append((int(node.tag[1:]), " ".join(heading.split()), None))
        elif rendered := _block(node).strip():
            events.append((0, rendered, None))
    return fold_sections(events)


def _block(node: SyntaxTreeNode) -> str:
    """Render a Markdown block node as readable plain text."""
    if node.type == "paragraph":
        return _inline(node.children[0]) if node.children else ""
    if node.type in ("bullet_list", "ordered_list"):
        start = int(str(node.attrs.get("start", 1)))
        lines: list[str] = []
        for index, item in enumerate(node.children):
            marker = f"{start + index}. " if node.type == "ordered_list" else "- "
            body = "\n".join(text for child in item.children if (text := _block(child)))
            item_lines = body.splitlines() or [""]
            lines.append(marker + item_lines[0])
            lines.extend("  " + line for line in item_lines[1:])
        return "\n".join(lines)
    if node.type == "table":
        rows = [row for part in node.children for row in part.children]
        return "\n".join(
            " | ".join(
                _inline(cell.children[0]).strip() if cell.children else "" for cell in row.children
            )
            for row in rows
        )
    if node.type in ("fence", "code_block"):
        return node.content.rstrip()
    if node.type == "blockquote":
        return "\n".join(text for child in node.children if (text := _block(child)))
    if node.type == "html_block":
        return re.sub(r"<[^>]*>", "", node.content).strip()
    return ""


def _inline(node: SyntaxTreeNode) -> str:
    """Render inline Markdown as text; links keep their web address after the link text."""
    out: list[str] = []
    for child in node.children:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type == "softbreak":
            out.append(" ")
        elif child.type == "hardbreak":
            out.append("\n")
        elif child.type == "link":
            label = _inline(child)
            href = str(child.attrs.get("href", ""))
            web = href.startswith(("http://", "https://")) and href not in label
            out.append(f"{label} ({href})" if web else label)
        elif child.type not in ("html_inline",):
            out.append(_inline(child))
    return "".join(out)
