import re
from pathlib import Path

import docx
import pytest

from core.knowledge import ChunkKind, Document
from knowledge_base.chunking import MAX_ENTRY_ID_LENGTH, MAX_WORDS
from knowledge_base.loaders import (
    SUPPORTED_SUFFIXES,
    DocumentError,
    content_hash,
    load_document,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "kb"
SAMPLE = Path(__file__).parent.parent.parent / "knowledge_base" / "sample"


def make_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with one Helvetica text line per item, offsets computed by hand."""
    ops = ["BT", "/F1 11 Tf", "14 TL", "72 760 Td"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"({escaped}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def by_title(document: Document) -> dict[str, str]:
    return {chunk.title: chunk.answer for chunk in document.chunks}


def test_markdown_sections_follow_the_heading_path() -> None:
    path = FIXTURES / "guide.md"
    document = load_document(path)

    assert document.path == path.as_posix()
    assert document.content_hash == content_hash(path.read_bytes())
    assert [c.title for c in document.chunks] == [
        "Kopi Corner Guide",
        "Opening hours",
        "Opening hours > Public holidays",
        "Delivery",
    ]
    assert [c.position for c in document.chunks] == [0, 1, 2, 3]
    assert {c.kind for c in document.chunks} == {ChunkKind.PASSAGE}
    assert {c.document for c in document.chunks} == {path.as_posix()}
    hours = document.chunks[1]
    assert hours.answer == "We open at 9:00 am on Saturday and close at 1:00 pm."
    assert hours.text == (  # searched under the document's title, shown under its own heading
        "Kopi Corner Guide > Opening hours\nWe open at 9:00 am on Saturday and close at 1:00 pm."
    )


def test_markdown_keeps_links_lists_and_tables_readable() -> None:
    sections = by_title(load_document(FIXTURES / "guide.md"))

    assert sections["Kopi Corner Guide"] == (
        "Kopi Corner is a test café in Toa Payoh. "
        "See our website (https://kopi-corner.example.com)."
    )
    assert sections["Opening hours > Public holidays"] == (
        "- Closed on Deepavali\n  - and on Christmas Day\n- Open on National Day"
    )
    assert (
        sections["Delivery"]
        == "Zone | Fee\nA | $5.00\nB | $8.00\n\n1. Order online\n2. Pay by PayNow"
    )


def test_relative_path_stays_relative(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)
    document = load_document(Path("guide.md"))

    assert document.path == "guide.md"
    assert {c.document for c in document.chunks} == {"guide.md"}


def test_plain_text_is_paragraphs_under_the_file_name() -> None:
    document = load_document(FIXTURES / "delivery-notes.txt")

    assert len(document.chunks) == 1
    chunk = document.chunks[0]
    assert chunk.title == "Delivery notes"
    assert chunk.answer == (
        "We deliver from Tuesday to Sunday.\nOrders close at 8 pm the day before.\n\n"
        "Self-collection is free at the counter."
    )
    assert chunk.text.startswith("Delivery notes\nWe deliver")


def test_html_keeps_headings_and_drops_scripts_styles_and_navigation() -> None:
    document = load_document(FIXTURES / "page.html")
    sections = by_title(document)

    assert list(sections) == ["Kopi Corner", "Payment", "Hours"]
    assert sections["Kopi Corner"] == "Payment options for our customers.\nPrices include 9% GST."
    assert sections["Payment"] == "- PayNow to UEN 201912345A\n- Visa and Mastercard"
    assert sections["Hours"] == "Day | Hours\nSat | 9 am \u2013 1 pm\n\nClosed on Deepavali."
    everything = " ".join(c.text for c in document.chunks)
    for hidden in ("tracking", "color", "Home", "Menu", "comment", "console"):
        assert hidden not in everything


def test_html_that_looks_like_a_file_name_is_still_read_as_html(tmp_path: Path) -> None:
    path = tmp_path / "tiny.html"
    path.write_text("menu.html", encoding="utf-8")

    (chunk,) = load_document(path).chunks

    assert (chunk.title, chunk.answer) == ("Tiny", "menu.html")


def test_docx_heading_styles_give_the_structure(tmp_path: Path) -> None:
    word = docx.Document()
    word.add_heading("Kopi Corner handbook", level=0)
    word.add_paragraph("Everything about paying us.")
    word.add_heading("Payment", level=1)
    word.add_paragraph("We accept these methods:")
    word.add_paragraph("PayNow to UEN 201912345A", style="List Bullet")
    word.add_paragraph("NETS and cash", style="List Bullet")
    word.add_heading("Refunds", level=2)
    word.add_paragraph("Refunds take 3 working days.")
    table = word.add_table(rows=2, cols=2)
    for row, (day, hours) in zip(
        table.rows, [("Day", "Hours"), ("Sat", "9 am - 1 pm")], strict=True
    ):
        row.cells[0].text, row.cells[1].text = day, hours
    path = tmp_path / "handbook.docx"
    word.save(str(path))

    document = load_document(path)

    assert by_title(document) == {
        "Kopi Corner handbook": "Everything about paying us.",
        "Payment": "We accept these methods:\n\n- PayNow to UEN 201912345A\n- NETS and cash",
        "Payment > Refunds": "Refunds take 3 working days.\n\nDay | Hours\nSat | 9 am - 1 pm",
    }


def test_pdf_text_becomes_paragraph_passages(tmp_path: Path) -> None:
    path = tmp_path / "delivery_policy.pdf"
    path.write_bytes(
        make_pdf(
            [
                "Delivery",
                "We deliver from Tuesday to Sunday in two slots, between 10 am and",
                "5 pm, to every part of mainland Singapore except Sentosa.",
                "- Zone A: $6",
                "- Zone B: $10",
            ]
        )
    )

    document = load_document(path)

    assert len(document.chunks) == 1
    chunk = document.chunks[0]
    assert chunk.title == "Delivery policy"
    assert chunk.answer == (
        "Delivery\n\nWe deliver from Tuesday to Sunday in two slots, between 10 am and 5 pm, "
        "to every part of mainland Singapore except Sentosa.\n- Zone A: $6\n- Zone B: $10"
    )


def test_corrupt_pdf_is_a_document_error(tmp_path: Path) -> None:
    path = tmp_path / "menu.pdf"
    path.write_bytes(b"%PDF-1.4\nthis is not really a PDF")

    with pytest.raises(DocumentError) as caught:
        load_document(path)

    assert caught.value.path == path.as_posix()
    assert "not a readable PDF" in caught.value.reason
    assert str(caught.value).startswith(path.as_posix())


def test_pdf_without_text_is_a_document_error(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(make_pdf([]))

    with pytest.raises(DocumentError, match="no text"):
        load_document(path)


def test_corrupt_docx_is_a_document_error(tmp_path: Path) -> None:
    path = tmp_path / "menu.docx"
    path.write_bytes(b"PK\x03\x04 broken zip")

    with pytest.raises(DocumentError, match=r"not a readable Word \(\.docx\) file"):
        load_document(path)


def test_unsupported_extension_is_a_document_error(tmp_path: Path) -> None:
    path = tmp_path / "prices.xlsx"
    path.write_bytes(b"whatever")

    with pytest.raises(DocumentError) as caught:
        load_document(path)

    assert "unsupported file type '.xlsx'" in caught.value.reason
    assert ".md" in caught.value.reason


@pytest.mark.parametrize("name", ["gone.md", "sample", "prices.xlsx"])
def test_a_missing_path_is_said_to_be_missing_whatever_its_name(tmp_path: Path, name: str) -> None:
    with pytest.raises(DocumentError) as caught:
        load_document(tmp_path / name)

    assert caught.value.reason == "no such file or folder"


def test_a_file_that_cannot_be_read_is_a_document_error(tmp_path: Path) -> None:
    folder = tmp_path / "faq.md"  # a folder named like a file: it exists, but is no file
    folder.mkdir()

    with pytest.raises(DocumentError, match="cannot read the file"):
        load_document(folder)


def test_text_that_is_not_utf8_is_a_document_error(tmp_path: Path) -> None:
    path = tmp_path / "menu.txt"
    path.write_bytes("Café".encode("latin-1"))

    with pytest.raises(DocumentError, match="not UTF-8"):
        load_document(path)


@pytest.mark.parametrize("name", ["empty.md", "empty.txt", "empty.csv", "empty.yaml", "e.html"])
def test_empty_file_has_no_chunks(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")

    document = load_document(path)

    assert document.chunks == ()
    assert document.content_hash == content_hash(b"")


def test_faq_files_dispatch_to_the_faq_reader() -> None:
    csv_document = load_document(FIXTURES / "faq.csv")
    yaml_document = load_document(FIXTURES / "faq.yaml")

    assert csv_document.chunks[0].entry_id == yaml_document.chunks[0].entry_id == "hours-sat"
    assert csv_document.chunks[0].kind is ChunkKind.FAQ_QUESTION


def sample_documents() -> list[Document]:
    files = sorted(p for p in SAMPLE.iterdir() if p.suffix in SUPPORTED_SUFFIXES)
    return [load_document(path) for path in files]


def test_sample_knowledge_base_loads_every_format() -> None:
    documents = sample_documents()

    suffixes = {Path(d.path).suffix for d in documents}
    assert {".md", ".yaml", ".csv"} <= suffixes
    assert all(d.chunks for d in documents)
    yaml_faq = next(d for d in documents if d.path.endswith(".yaml"))
    entries = {c.entry_id for c in yaml_faq.chunks}
    assert 25 <= len(entries) <= 40
    for entry_id in entries:
        kinds = [c.kind for c in yaml_faq.chunks if c.entry_id == entry_id]
        assert kinds.count(ChunkKind.FAQ_ANSWER) == 1
        assert 2 <= kinds.count(ChunkKind.FAQ_QUESTION) <= 4  # the question and 1-3 alternatives
    assert any(c.text == "Got delivery or not?" for c in yaml_faq.chunks)


def test_sample_knowledge_base_answers_saturday_opening_hours() -> None:
    chunks = [c for d in sample_documents() for c in d.chunks]

    faq = [c for c in chunks if c.text == "What time do you open on Saturday?"]
    assert len(faq) == 1
    assert "8:00 am" in faq[0].answer and "6:00 pm" in faq[0].answer
    passage = [c for c in chunks if c.kind is ChunkKind.PASSAGE and c.title == "Opening hours"]
    assert "Saturday | 8:00 am \u2013 6:00 pm" in passage[0].answer


def test_sample_knowledge_base_ids_and_sizes_suit_retrieval() -> None:
    documents = sample_documents()

    ids_by_document = [{c.entry_id for c in d.chunks} for d in documents]
    all_ids = [entry_id for ids in ids_by_document for entry_id in ids]
    assert len(all_ids) == len(set(all_ids))  # no entry spans two documents
    assert max(len(entry_id) for entry_id in all_ids) <= MAX_ENTRY_ID_LENGTH
    passages = [c for d in documents for c in d.chunks if c.kind is ChunkKind.PASSAGE]
    assert max(len(c.text.split()) for c in passages) <= MAX_WORDS


def test_sample_knowledge_base_facts_agree_across_files() -> None:
    text = "\n".join(path.read_text(encoding="utf-8") for path in SAMPLE.iterdir())

    assert set(re.findall(r"\+65 \d{4} \d{4}", text)) == {"+65 6123 4567", "+65 8123 4567"}
    assert set(re.findall(r"[\w.-]+@[\w.-]+\w", text)) == {"hello@pandan-lantern.example.com"}
    assert set(re.findall(r"\b\d{9}[A-Z]\b", text)) == {"202412345K"}
    assert "9% GST" in text
    for holiday in (
        "Chinese New Year",
        "Hari Raya Puasa",
        "Deepavali",
        "Christmas",
        "National Day",
    ):
        assert holiday in text
