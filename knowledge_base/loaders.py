"""Knowledge file loaders: read one file by its extension into a Document of chunks."""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import docx
from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning
from bs4.element import NavigableString, Tag
from docx.table import Table, _Cell
from pypdf import PdfReader

from core.knowledge import Chunk, Document
from knowledge_base.chunking import (
    CHUNKING_VERSION,
    DocumentError,
    Event,
    Section,
    chunk_sections,
    fold_sections,
    markdown_sections,
    text_sections,
    title_from_path,
)
from knowledge_base.faq import faq_chunks, parse_csv_faq, parse_yaml_faq

__all__ = ["SUPPORTED_SUFFIXES", "DocumentError", "load_document"]

_HEADING_TAGS = {f"h{level}": level for level in range(1, 7)}
_BLOCK_TAGS = frozenset(
    {*_HEADING_TAGS, "p", "div", "section", "article", "main", "aside", "header", "footer"}
    | {"li", "ul", "ol", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "pre"}
    | {"blockquote", "figure", "figcaption", "caption", "address", "form", "fieldset", "body"}
)
_DROPPED_TAGS = ("script", "style", "nav", "noscript", "template", "svg", "iframe", "head")
_LINE_BREAK = "\ue000"
_LIST_LINE = re.compile(r"^\s*(?:[*\-\u2013\u2022\u25aa\u25e6\u25cf]|\d{1,3}[.)])\s")
_DOCX_LIST = object()
"""Groups consecutive Word list paragraphs into one block."""
_DOCX_HEADING = re.compile(r"^heading (\d)$", re.IGNORECASE)

_Loader = Callable[[str, bytes], tuple[Chunk, ...]]


def load_document(path: Path) -> Document:
    """Load one knowledge file; raise DocumentError naming the file and why it cannot be used."""
    document = path.as_posix()
    if not path.exists():  # a mistyped path is not a file of an unsupported type
        raise DocumentError(document, "no such file or folder")
    suffix = path.suffix.lower()
    loader = _LOADERS.get(suffix)
    if loader is None:
        supported = ", ".join(sorted(_LOADERS))
        raise DocumentError(
            document, f"unsupported file type '{suffix or path.name}' (supported: {supported})"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(document, f"cannot read the file: {exc.strerror or exc}") from exc
    return Document(document, content_hash(data), loader(document, data))


def content_hash(data: bytes) -> str:
    """Fingerprint a file's bytes together with the chunking that reads them.

    A new chunking changes every fingerprint, so the next ingest re-indexes (and recalibrates)
    knowledge that was chunked the old way, although its files did not change.
    """
    return hashlib.sha256(f"chunking {CHUNKING_VERSION}\n".encode() + data).hexdigest()


def _decode(document: str, data: bytes) -> str:
    """Decode UTF-8 text (with or without a byte-order mark), or say how to fix the file."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            document, f"not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8"
        ) from exc


def _load_markdown(document: str, data: bytes) -> tuple[Chunk, ...]:
    """Markdown: sections by heading path, titled by a lone leading H1 or the file name."""
    lone_h1, sections = markdown_sections(_decode(document, data))
    return chunk_sections(document, sections, title=lone_h1 or title_from_path(document))


def _load_text(document: str, data: bytes) -> tuple[Chunk, ...]:
    """Plain text: paragraphs under the file name as title."""
    sections = text_sections(_decode(document, data))
    return chunk_sections(document, sections, title=title_from_path(document))


def _load_csv_faq(document: str, data: bytes) -> tuple[Chunk, ...]:
    """FAQ as CSV."""
    return faq_chunks(document, parse_csv_faq(document, _decode(document, data)))


def _load_yaml_faq(document: str, data: bytes) -> tuple[Chunk, ...]:
    """FAQ as YAML."""
    return faq_chunks(document, parse_yaml_faq(document, _decode(document, data)))


def _load_html(document: str, data: bytes) -> tuple[Chunk, ...]:
    """HTML: visible text by heading, without scripts, styles and navigation."""
    with warnings.catch_warnings():  # we always pass file contents, never a file name or URL
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(data, "lxml")
    page_title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup.find_all(_DROPPED_TAGS):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with(_LINE_BREAK)
    root = soup.body or soup
    lone_h1, sections = fold_sections(_html_events(root))
    title = lone_h1 or page_title or title_from_path(document)
    return chunk_sections(document, sections, title=title)


def _html_events(root: Tag) -> Iterator[Event]:
    """Walk the page's text in order, grouping it by its nearest block-level element."""
    current: Tag | None = None
    parts: list[str] = []
    cell: Tag | None = None
    for node in root.descendants:
        if type(node) is not NavigableString:
            continue
        block = next((p for p in node.parents if p.name in _BLOCK_TAGS), root)
        if block is not current:
            if current is not None:
                yield from _html_block(current, parts)
            current, parts, cell = block, [], None
        node_cell = node.find_parent(["td", "th"]) if block.name == "tr" else None
        if node_cell is not None and cell is not None and node_cell is not cell:
            parts.append(" | ")
        cell = node_cell or cell
        parts.append(str(node))
    if current is not None:
        yield from _html_block(current, parts)


def _html_block(block: Tag, parts: list[str]) -> Iterator[Event]:
    """Turn one block element's collected text into a heading or body-text event."""
    if block.name in _HEADING_TAGS:
        yield _HEADING_TAGS[block.name], " ".join(block.get_text(" ").split()), None
        return
    text = re.sub(r"\s+", " ", "".join(parts)).replace(_LINE_BREAK, "\n")
    text = "\n".join(line.strip() for line in text.splitlines() if line.strip())
    if not text:
        return
    group: object | None = None
    if block.name in ("li", "dt", "dd"):
        group = block.parent
        text = f"- {text}" if block.name == "li" else text
    elif block.name == "tr":
        group = block.find_parent("table")
    yield 0, text, group


def _load_pdf(document: str, data: bytes) -> tuple[Chunk, ...]:
    """PDF: the pages' text split into paragraphs; PDFs carry no headings we can trust."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(document, "the PDF is password-protected")
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files
        raise DocumentError(document, f"not a readable PDF: {exc}") from exc
    blocks = tuple(block for page in pages for block in _pdf_paragraphs(page))
    if pages and not blocks:
        raise DocumentError(
            document, f"the PDF has {len(pages)} page(s) but no text (a scanned image?)"
        )
    return chunk_sections(document, [Section((), blocks)], title=title_from_path(document))


def _pdf_paragraphs(page: str) -> Iterator[str]:
    """Rebuild a page's paragraphs: a short line ends one, wrapped lines join, list lines stay."""
    lines = [line.strip() for line in page.splitlines()]
    short = 0.7 * max((len(line) for line in lines), default=0)
    current = ""
    previous = ""
    for line in lines:
        if not line or (current and len(previous) < short and not _LIST_LINE.match(line)):
            if current:
                yield current
            current = line
        elif not current:
            current = line
        elif _LIST_LINE.match(line):
            current += "\n" + line
        elif re.search(r"\w-$", current):
            current += line
        else:
            current += " " + line
        previous = line
    if current:
        yield current


def _load_docx(document: str, data: bytes) -> tuple[Chunk, ...]:
    """Word: Heading 1-9 styles give the heading path; list paragraphs and tables stay readable."""
    try:
        word = docx.Document(io.BytesIO(data))
        title = (word.core_properties.title or "").strip()
        events: list[Event] = []
        for item in word.iter_inner_content():
            if isinstance(item, Table):
                rows = [" | ".join(_unique_cells(row.cells)) for row in item.rows]
                events.append((0, "\n".join(row for row in rows if row.strip(" |")), item))
                continue
            style = item.style.name if item.style is not None and item.style.name else ""
            text = item.text.strip()
            heading = _DOCX_HEADING.match(style)
            if style == "Title":
                title = title or text
            elif heading and text:
                events.append((int(heading.group(1)), " ".join(text.split()), None))
            elif text and style.startswith("List"):
                events.append((0, f"- {text}", _DOCX_LIST))
            elif text:
                events.append((0, text, None))
    except Exception as exc:  # python-docx raises zip, XML and key errors on damaged files
        raise DocumentError(document, f"not a readable Word (.docx) file: {exc}") from exc
    lone_h1, sections = fold_sections(events, lone_h1_is_title=not title)
    return chunk_sections(document, sections, title=title or lone_h1 or title_from_path(document))


def _unique_cells(cells: list[_Cell]) -> list[str]:
    """Cell texts of one table row, each merged cell once."""
    seen: list[object] = []
    texts: list[str] = []
    for cell in cells:
        if any(cell._tc is other for other in seen):
            continue
        seen.append(cell._tc)
        texts.append(" ".join(cell.text.split()))
    return texts


_LOADERS: dict[str, _Loader] = {
    ".md": _load_markdown,
    ".markdown": _load_markdown,
    ".txt": _load_text,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
    ".docx": _load_docx,
    ".csv": _load_csv_faq,
    ".yaml": _load_yaml_faq,
    ".yml": _load_yaml_faq,
}

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_LOADERS)
"""File extensions load_document understands (lowercase, with the dot)."""
