"""Days of the week a question asks about, and knowledge that speaks only of other days.

Sentence embeddings place "What time do you open on Saturday?" next to "... on Sunday?": the
day is one word among many. For a shop, answering Sunday's question with Saturday's hours is
the worst kind of wrong answer, so entries that name days, none of them the asked one, lose
rank before the composer decides (the question's English words: Singlish is spelt out and
other languages carry English glosses by then, core.search_question).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Final

from core.ranking import RankedEntry, Ranking

DAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PENALTY: Final = 0.12
"""Subtracted from an entry that names other days only: enough to drop below a right entry."""
_CHECKED: Final = 10
_DAY: Final = (
    r"(monday|mon|tuesday|tues|tue|wednesday|wed|thursday|thurs|thur|thu|friday|fri|"
    r"saturday|sat|sunday|sun)\b"
)
_RANGE: Final = re.compile(rf"\b{_DAY}\s*(?:-|–|—|to|until|till|through)\s*{_DAY}", re.I)
_ONE: Final = re.compile(rf"\b{_DAY}", re.I)
_WEEKDAYS: Final = re.compile(r"\bweekdays?\b", re.I)
_WEEKEND: Final = re.compile(r"\bweekends?\b", re.I)
_EVERY_DAY: Final = re.compile(r"\b(daily|every\s*day|7 days a week|all week)\b", re.I)


def _index(name: str) -> int:
    """0 for Monday ... 6 for Sunday, from any abbreviation _DAY accepts."""
    return next(n for n, day in enumerate(DAYS) if day.startswith(name.lower()[:3]))


def days_named(text: str) -> frozenset[int]:
    """The days a text names: single days, ranges ("Tue-Fri"), weekdays, weekends, daily."""
    found: set[int] = set()
    for start, end in _RANGE.findall(text):
        first, last = _index(start), _index(end)
        span = (last - first) % 7
        found.update((first + n) % 7 for n in range(span + 1))
    found.update(_index(day) for day in _ONE.findall(_RANGE.sub(" ", text)))
    if _WEEKDAYS.search(text):
        found.update(range(5))
    if _WEEKEND.search(text):
        found.update((5, 6))
    if _EVERY_DAY.search(text):
        found.update(range(7))
    return frozenset(found)


def check_days(question: str, ranking: Ranking) -> Ranking:
    """The ranking with entries about other days only moved down; unchanged without a day."""
    asked = days_named(question)
    if not asked or not ranking.entries:
        return ranking
    checked = [_checked(entry, asked) for entry in ranking.entries[:_CHECKED]]
    entries = sorted(checked, key=lambda e: (-e.score, e.entry_id)) + list(
        ranking.entries[_CHECKED:]
    )
    if entries == list(ranking.entries):
        return ranking
    margin = entries[0].score - entries[1].score if len(entries) > 1 else ranking.margin
    return replace(ranking, entries=tuple(entries), confidence=entries[0].score, margin=margin)


def _checked(entry: RankedEntry, asked: frozenset[int]) -> RankedEntry:
    """The entry, penalised when it names days and none of the asked ones."""
    chunk = entry.best
    named = days_named(f"{chunk.title}\n{chunk.text}\n{chunk.answer}")
    if named and not named & asked:
        return replace(entry, score=entry.score - PENALTY)
    return entry
