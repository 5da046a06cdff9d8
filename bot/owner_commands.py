"""The owner's commands in a reply to a report: approve 1 3, approve all, edit 2: ..., reject 4."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from core.suggestion_store import Decision

Action = Literal["approve", "reject", "edit"]

_COMMAND: Final = re.compile(
    r"^\s*(?:[-*•]\s*)?(approve|approved|accept|reject|rejected|decline|edit)\b[\s:.]*(.*)$",
    re.IGNORECASE,
)
_EDIT: Final = re.compile(r"^#?(\d+)\s*[:.)\-–—]?\s*(.*)$", re.DOTALL)
_NUMBER_LIST: Final = re.compile(r"^(?:#?\d+(?:\s*[-–]\s*\d+)?|all|and|&|[,;\s])+[.!]?$", re.I)
_RANGE: Final = re.compile(r"#?(\d+)(?:\s*[-–]\s*(\d+))?")
_ACTIONS: Final[dict[str, Action]] = {
    "approve": "approve",
    "approved": "approve",
    "accept": "approve",
    "reject": "reject",
    "rejected": "reject",
    "decline": "reject",
    "edit": "edit",
}
_MAX_RANGE: Final = 200


@dataclass(frozen=True, slots=True)
class Command:
    """One command line: numbers from the report (empty with `everything`), an edited answer."""

    action: Action
    numbers: tuple[int, ...] = ()
    everything: bool = False
    answer: str | None = None


@dataclass
class ParsedReply:
    """The commands found in a reply and the lines that looked like commands but were not."""

    commands: list[Command] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_commands(text: str) -> ParsedReply:
    """Read commands line by line; other lines (greetings, quoted text) are ignored.

    An edit's answer is the rest of its line and the lines after it, up to a blank line or the
    next command.
    """
    parsed = ParsedReply()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith(">")]
    i = 0
    while i < len(lines):
        match = _COMMAND.match(lines[i])
        i += 1
        if match is None:
            continue
        action, rest = _ACTIONS[match.group(1).lower()], match.group(2).strip()
        if action == "edit":
            following: list[str] = []
            while i < len(lines) and lines[i].strip() and not _COMMAND.match(lines[i]):
                following.append(lines[i].strip())
                i += 1
            _add_edit(parsed, "\n".join([rest, *following]).strip())
            continue
        _add_numbers(parsed, action, rest)
    return parsed


def _add_edit(parsed: ParsedReply, rest: str) -> None:
    """`edit 2: better answer`."""
    match = _EDIT.match(rest)
    if match is None or not match.group(2).strip():
        parsed.errors.append(f"edit {rest[:40]}: write it as 'edit NUMBER: the better answer'")
        return
    parsed.commands.append(Command("edit", (int(match.group(1)),), answer=match.group(2).strip()))


def _add_numbers(parsed: ParsedReply, action: Action, rest: str) -> None:
    """`approve 1 3`, `approve 1, 3 and 5`, `reject 2-4`, `approve all`."""
    if not rest or _NUMBER_LIST.match(rest) is None:
        parsed.errors.append(f"{action} {rest[:40]}: which numbers? e.g. '{action} 1 3'")
        return
    if re.search(r"\ball\b", rest, re.IGNORECASE):
        parsed.commands.append(Command(action, everything=True))
        return
    numbers: list[int] = []
    for start, end in _RANGE.findall(rest):
        first, last = int(start), int(end or start)
        if last < first or last - first > _MAX_RANGE:
            parsed.errors.append(f"{action} {start}-{end}: not a range of numbers")
            continue
        numbers.extend(range(first, last + 1))
    parsed.commands.append(Command(action, tuple(dict.fromkeys(numbers))))


def decisions_for(
    commands: Sequence[Command], suggestion_ids: Sequence[int]
) -> tuple[list[Decision], list[str]]:
    """The decisions the commands make on a report's suggestions, and numbers not in it."""
    decisions: list[Decision] = []
    errors: list[str] = []
    count = len(suggestion_ids)
    for command in commands:
        action: Literal["approve", "reject"] = "reject" if command.action == "reject" else "approve"
        numbers = range(1, count + 1) if command.everything else command.numbers
        for number in numbers:
            if not 1 <= number <= count:
                where = f"1-{count}" if count else "it lists no suggestions"
                errors.append(
                    f"{command.action} {number}: there is no {number} in the report ({where})"
                )
                continue
            decisions.append(Decision(suggestion_ids[number - 1], action, command.answer))
    return decisions, errors
