from pathlib import Path

import pytest

from core.knowledge import Chunk, ChunkKind
from knowledge_base.faq import FaqEntry, faq_chunks, parse_csv_faq, parse_yaml_faq
from knowledge_base.loaders import DocumentError, load_document

FIXTURES = Path(__file__).parent.parent / "fixtures" / "kb"


def entry(chunks: tuple[Chunk, ...], entry_id: str) -> list[tuple[ChunkKind, str]]:
    return [(c.kind, c.text) for c in chunks if c.entry_id == entry_id]


def test_csv_question_and_alternatives_share_one_entry() -> None:
    chunks = load_document(FIXTURES / "faq.csv").chunks

    assert entry(chunks, "hours-sat") == [
        (ChunkKind.FAQ_QUESTION, "What time do you open on Saturday?"),
        (ChunkKind.FAQ_QUESTION, "Sat open what time?"),
        (ChunkKind.FAQ_QUESTION, "Saturday hours?"),
        (
            ChunkKind.FAQ_ANSWER,
            "What time do you open on Saturday? We open at 9:00 am on Saturday, until 1:00 pm.",
        ),
    ]
    saturday = [c for c in chunks if c.entry_id == "hours-sat"]
    assert {c.answer for c in saturday} == {"We open at 9:00 am on Saturday, until 1:00 pm."}
    assert {c.title for c in saturday} == {"What time do you open on Saturday?"}
    assert [c.position for c in chunks] == list(range(len(chunks)))


def test_csv_without_id_gets_a_stable_slug_and_skips_blank_rows() -> None:
    first = load_document(FIXTURES / "faq.csv").chunks
    again = load_document(FIXTURES / "faq.csv").chunks

    assert first == again
    ids = list(dict.fromkeys(c.entry_id for c in first))
    assert len(ids) == 3  # the blank row is no entry
    assert ids[1].endswith(":got-delivery-or-not")
    assert entry(first, ids[1]) == [
        (ChunkKind.FAQ_QUESTION, "Got delivery or not?"),
        (ChunkKind.FAQ_ANSWER, "Got delivery or not? Yes, we deliver from Tuesday to Sunday."),
    ]


def test_blank_and_repeated_alternatives_are_dropped() -> None:
    chunks = load_document(FIXTURES / "faq.csv").chunks
    paynow = [c for c in chunks if c.title == "Can I pay by PayNow?"]

    assert [c.text for c in paynow if c.kind is ChunkKind.FAQ_QUESTION] == [
        "Can I pay by PayNow?",
        "PayNow can?",
    ]


def test_yaml_gives_the_same_entries_as_csv() -> None:
    from_yaml = load_document(FIXTURES / "faq.yaml").chunks
    from_csv = load_document(FIXTURES / "faq.csv").chunks

    assert entry(from_yaml, "hours-sat") == entry(from_csv, "hours-sat")
    delivery = [c for c in from_yaml if c.title == "Got delivery or not?"]
    assert [c.kind for c in delivery] == [ChunkKind.FAQ_QUESTION, ChunkKind.FAQ_ANSWER]
    assert delivery[0].answer == "Yes, we deliver from Tuesday to Sunday."


def test_yaml_plain_list_equals_faqs_mapping() -> None:
    items = "- question: Halal?\n  answer: Not certified.\n  alternatives:\n    - Got pork?\n"
    as_list = parse_yaml_faq("faq.yaml", items)
    as_mapping = parse_yaml_faq(
        "faq.yaml", "faqs:\n" + "".join(f"  {line}\n" for line in items.splitlines())
    )

    assert as_list == as_mapping == [FaqEntry("Halal?", "Not certified.", ("Got pork?",))]


def test_missing_answer_names_the_csv_row() -> None:
    with pytest.raises(DocumentError) as caught:
        load_document(FIXTURES / "faq-missing-answer.csv")

    assert caught.value.path.endswith("faq-missing-answer.csv")
    assert caught.value.reason == "row 3: missing answer (question: 'Are you halal?')"


def test_missing_question_names_the_yaml_entry() -> None:
    text = "- question: Halal?\n  answer: Not certified.\n- answer: Orphan answer.\n"

    with pytest.raises(DocumentError, match="entry 2: missing question"):
        parse_yaml_faq("faq.yaml", text)


def test_missing_column_is_named() -> None:
    with pytest.raises(
        DocumentError, match=r"missing column 'answer' \(columns found: question, reply\)"
    ):
        parse_csv_faq("faq.csv", "question,reply\nHalal?,No.\n")


def test_unquoted_commas_are_caught_not_truncated() -> None:
    text = "question,answer\nOpen Sunday?,Yes, 8 am to 3 pm\n"

    with pytest.raises(DocumentError, match="row 2: more cells than the header"):
        parse_csv_faq("faq.csv", text)


def test_yaml_values_that_are_not_text_must_be_quoted() -> None:
    with pytest.raises(DocumentError, match="entry 1: answer must be text; put it in quotes"):
        parse_yaml_faq("faq.yaml", "- question: Open at?\n  answer: 10:30\n")


def test_invalid_yaml_is_a_document_error() -> None:
    with pytest.raises(DocumentError, match="not valid YAML at line 2, column 1: expected"):
        parse_yaml_faq("faq.yaml", "- question: [unclosed\n")


def test_yaml_that_is_not_a_list_is_a_document_error() -> None:
    with pytest.raises(DocumentError, match="expected a list of FAQ entries"):
        parse_yaml_faq("faq.yaml", "question: Halal?\nanswer: No.\n")


def test_an_id_used_twice_is_a_document_error() -> None:
    text = "id,question,answer\nx,Halal?,No.\nx,Pork?,No.\n"

    with pytest.raises(DocumentError, match="row 3: id 'x' is already used by row 2"):
        parse_csv_faq("faq.csv", text)


def test_same_question_twice_gets_distinct_stable_ids() -> None:
    entries = [FaqEntry("Halal?", "No."), FaqEntry("Halal?", "Still no.")]

    chunks = faq_chunks("kb/faq.csv", entries)

    ids = list(dict.fromkeys(c.entry_id for c in chunks))
    assert ids == [ids[0], ids[0] + "~2"]
    assert faq_chunks("kb/faq.csv", entries) == chunks
