import re

from core.knowledge import ChunkKind
from knowledge_base.chunking import (
    MAX_ENTRY_ID_LENGTH,
    MAX_WORDS,
    Section,
    chunk_sections,
    markdown_sections,
    searched_heading,
    slugify,
    split_passage,
    text_sections,
)

WORDS = ["kaya", "toast", "soft", "boiled", "eggs", "kopi", "peng", "teh", "tarik", "roti", "prata"]


def sentence(index: int, length: int = 12) -> str:
    words = [WORDS[(index + n) % len(WORDS)] for n in range(length - 1)]
    return f"Sentence{index} " + " ".join(words) + "."


def paragraph(first: int, sentences: int) -> str:
    return " ".join(sentence(first + n) for n in range(sentences))


def test_short_section_is_one_chunk_titled_by_its_heading_path() -> None:
    sections = [Section(("Delivery", "Fees"), ("Zone A costs $6.", "Zone B costs $10."))]

    (chunk,) = chunk_sections("kb/shop.md", sections, title="Shop")

    assert chunk.title == "Delivery > Fees"
    assert chunk.answer == "Zone A costs $6.\n\nZone B costs $10."
    assert chunk.text == "Shop > Delivery > Fees\nZone A costs $6.\n\nZone B costs $10."
    assert chunk.kind is ChunkKind.PASSAGE
    assert chunk.document == "kb/shop.md"
    assert chunk.position == 0
    assert re.fullmatch(r"shop-[0-9a-f]{4}:delivery/fees", chunk.entry_id)


def test_a_section_is_searched_under_its_document_title_once() -> None:
    assert searched_heading("Shop", ("Delivery", "Fees")) == "Shop > Delivery > Fees"
    assert searched_heading("Delivery", ("delivery", "Fees")) == "delivery > Fees"
    assert searched_heading("Notes", ()) == "Notes"


def test_text_without_headings_takes_the_document_title() -> None:
    chunks = chunk_sections(
        "notes.txt", text_sections("We deliver.\n\n\nWe also bake."), title="Notes"
    )

    assert [(c.title, c.answer) for c in chunks] == [("Notes", "We deliver.\n\nWe also bake.")]


def test_long_section_splits_between_paragraphs_below_the_limit() -> None:
    paragraphs = tuple(paragraph(n * 10, 5) for n in range(6))  # 6 x 60 words
    chunks = chunk_sections("kb/policy.md", [Section(("Refunds",), paragraphs)], title="Policy")

    assert len(chunks) == 3
    assert all(len(c.text.split()) <= MAX_WORDS for c in chunks)
    for chunk in chunks:
        assert all(part in paragraphs for part in chunk.answer.split("\n\n"))
    assert "\n\n".join(c.answer for c in chunks) == "\n\n".join(paragraphs)
    assert {c.title for c in chunks} == {"Refunds"}
    assert [c.entry_id[-2:] for c in chunks] == ["#1", "#2", "#3"]
    assert [c.position for c in chunks] == [0, 1, 2]


def test_long_paragraph_splits_between_sentences() -> None:
    text = paragraph(0, 40)  # 480 words, one paragraph

    parts = split_passage([text], max_words=100)

    assert all(len(part.split()) <= 100 for part in parts)
    assert all(re.fullmatch(r"Sentence\d+ [^.]*\.( Sentence\d+ [^.]*\.)*", p) for p in parts)
    assert " ".join(parts) == text


def test_a_sentence_longer_than_the_limit_splits_between_words() -> None:
    text = " ".join(f"word{n}" for n in range(250))

    parts = split_passage([text], max_words=100)

    assert all(len(part.split()) <= 100 for part in parts)
    assert " ".join(parts).split() == text.split()  # no word cut in two, none lost


def test_lines_of_a_long_list_stay_whole() -> None:
    lines = [f"- Item {n}: " + " ".join(WORDS) for n in range(20)]  # 20 x 12 words

    parts = split_passage(["\n".join(lines)], max_words=100)

    assert all(len(part.split()) <= 100 for part in parts)
    assert [line for part in parts for line in part.split("\n")] == lines


def test_split_parts_are_balanced() -> None:
    text = paragraph(0, 16)  # 192 words: two parts of about 96, not 180 + 12

    parts = split_passage([text], max_words=MAX_WORDS)

    assert [len(p.split()) for p in parts] == [96, 96]


def test_entry_ids_are_stable_and_distinct() -> None:
    source = (
        "# Shop\n\n## Hours\n\nOpen 9 am.\n\n## Delivery\n\nIslandwide.\n\n## Hours\n\nSundays too."
    )
    first = chunk_sections("kb/shop.md", markdown_sections(source)[1], title="Shop")
    again = chunk_sections("kb/shop.md", markdown_sections(source)[1], title="Shop")
    other = chunk_sections("kb/other.md", markdown_sections(source)[1], title="Shop")

    assert first == again
    ids = [c.entry_id for c in first]
    assert len(set(ids)) == 3
    assert ids[2] == ids[0] + "~2"  # the same heading twice stays distinct, in order
    assert not set(ids) & {c.entry_id for c in other}


def test_entry_ids_stay_short_enough_for_quick_replies() -> None:
    long_heading = (
        "Delivery to condominiums, landed houses and offices in the central business area"
    )
    sections = [
        Section((long_heading, f"{long_heading} part {n}"), (f"Text {n}.",)) for n in range(3)
    ]

    chunks = chunk_sections(
        "knowledge/very/deep/folder/delivery-and-collection.md", sections, title=""
    )

    ids = [c.entry_id for c in chunks]
    assert all(len(entry_id) <= MAX_ENTRY_ID_LENGTH for entry_id in ids)
    assert len(set(ids)) == 3
    assert ids[0].startswith("delivery-and-")  # the file name, cut at a word


def test_slugs_are_ascii_and_stable() -> None:
    assert slugify("Café Opening Hours!") == "cafe-opening-hours"
    assert slugify("营业时间") == slugify("营业时间")
    assert re.fullmatch(r"h-[0-9a-f]{8}", slugify("营业时间"))
    assert slugify("营业时间") != slugify("送货")


def test_markdown_heading_levels_nest_and_unwind() -> None:
    title, sections = markdown_sections(
        "Intro line.\n\n## Hours\n\nA.\n\n### Saturday\n\nB.\n\n"
        "#### Lunch\n\nC.\n\n## Delivery\n\nD."
    )

    assert title is None
    assert [(s.headings, s.blocks) for s in sections] == [
        ((), ("Intro line.",)),
        (("Hours",), ("A.",)),
        (("Hours", "Saturday"), ("B.",)),
        (("Hours", "Saturday", "Lunch"), ("C.",)),
        (("Delivery",), ("D.",)),
    ]


def test_a_lone_leading_h1_is_the_title_but_several_h1s_are_headings() -> None:
    lone_title, lone = markdown_sections("# Shop\n\nHello.\n\n## Hours\n\n9 am.")
    many_title, many = markdown_sections("# Shop\n\nHello.\n\n# Cafe\n\nHi.")

    assert lone_title == "Shop"
    assert [s.headings for s in lone] == [(), ("Hours",)]
    assert many_title is None
    assert [s.headings for s in many] == [("Shop",), ("Cafe",)]


def test_markdown_code_quotes_and_emphasis_render_as_plain_text() -> None:
    _, sections = markdown_sections(
        "## Pay\n\n> Use **PayNow** to `201912345A`.\n\n```\nUEN 201912345A\n```\n\n---\n"
    )

    assert sections == [Section(("Pay",), ("Use PayNow to 201912345A.", "UEN 201912345A"))]


def test_markdown_front_matter_is_not_content() -> None:
    title, sections = markdown_sections("---\nlayout: page\ntitle: Hours\n---\n# Hours\n\n9 am.\n")

    assert title == "Hours"
    assert sections == [Section((), ("9 am.",))]


def test_nested_list_lines_keep_their_indent_when_split() -> None:
    lines = [f"- Zone {n}: " + " ".join(WORDS) for n in range(10)]
    lines.insert(5, "  - Zone 4 also covers Sentosa Cove")

    parts = split_passage(["\n".join(lines)], max_words=70)

    assert len(parts) > 1
    assert "  - Zone 4 also covers Sentosa Cove" in "\n".join(parts).split("\n")
