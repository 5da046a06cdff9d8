"""Splitting long replies for providers' length limits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from channels.text import split_text


def test_short_text_is_one_part_and_empty_text_none() -> None:
    assert split_text("  Hello!  ", 4096) == ["Hello!"]
    assert split_text(" \n ", 10) == []


def test_paragraphs_stay_whole_when_they_fit() -> None:
    first, second, third = "a" * 30, "b" * 30, "c" * 30
    assert split_text(f"{first}\n\n{second}\n\n{third}", 65) == [
        f"{first}\n\n{second}",
        third,
    ]


def test_a_long_paragraph_breaks_at_lines_then_sentences_then_words() -> None:
    lines = "line one is here\nline two is here"
    assert split_text(lines, 20) == ["line one is here", "line two is here"]
    sentences = "First sentence here. Second one here! Third?"
    assert split_text(sentences, 25) == ["First sentence here.", "Second one here! Third?"]
    assert split_text("aaaa bbbb cccc", 9) == ["aaaa bbbb", "cccc"]


def test_a_word_longer_than_the_limit_is_cut() -> None:
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_chinese_sentences_break_after_their_full_stops() -> None:
    text = "我们星期六早上八点开门。 星期一休息。"
    assert split_text(text, 12) == ["我们星期六早上八点开门。", "星期一休息。"]


@given(
    st.lists(
        st.text(alphabet=st.sampled_from("ab .!\n"), min_size=0, max_size=80), max_size=12
    ).map("\n\n".join),
    st.integers(min_value=1, max_value=60),
)
def test_every_part_fits_and_no_word_is_lost(text: str, limit: int) -> None:
    parts = split_text(text, limit)
    assert all(0 < len(part) <= limit for part in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())
