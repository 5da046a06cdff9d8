from pathlib import Path

from knowledge_base.faq import FaqEntry, parse_yaml_faq
from knowledge_base.learned_faq import learned_faq_yaml, write_learned_faq
from knowledge_base.loaders import load_document

ENTRIES = [
    FaqEntry(
        "Do you have parking?",
        "Yes: 40 lots at B2, $2.50 per hour.\nFree after 6:00 pm.",
        ("Got parking or not?", "Where can I park?"),
        "learned-1",
    ),
    FaqEntry("Corporate gift boxes?", "Yes: from 20 boxes, order 3 days ahead.", (), "learned-2"),
    # Text YAML would read as something else: a time, a boolean, a number, a comment.
    FaqEntry("yes", "8:00", ("no", "# not a comment", "12"), "learned-3"),
    FaqEntry("Halal? 清真吗？", "我们的厨房没有猪肉。", (), "learned-4"),
]


def test_round_trips_through_the_faq_reader() -> None:
    assert parse_yaml_faq("learned-faq.yaml", learned_faq_yaml(ENTRIES)) == ENTRIES


def test_writes_a_file_the_ingestion_loads(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "learned-faq.yaml"
    write_learned_faq(path, ENTRIES[:2])
    write_learned_faq(path, ENTRIES)  # written again, whole
    assert list(path.parent.iterdir()) == [path]
    document = load_document(path)
    parking = [c for c in document.chunks if c.entry_id == "learned-1"]
    assert [c.text for c in parking][:3] == [
        "Do you have parking?",
        "Got parking or not?",
        "Where can I park?",
    ]
    assert {c.entry_id for c in document.chunks} == {f"learned-{n}" for n in range(1, 5)}
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Learned FAQ")
    assert "answer: |-\n    Yes: 40 lots at B2, $2.50 per hour.\n    Free after 6:00 pm.\n" in text
