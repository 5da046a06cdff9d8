"""Choices written out as a numbered list, for messages that cannot carry buttons."""

from __future__ import annotations

from core import texts
from core.messages import Choice


def render_choices(text: str, choices: tuple[Choice, ...], language: str = "en") -> str:
    """Append choices as a numbered list under "Reply with a number:" in the customer's language."""
    if not choices:
        return text
    lines = "\n".join(f"{number}. {choice.label}" for number, choice in enumerate(choices, 1))
    prompt = texts.in_language("choices.reply_with_number", language)
    return f"{text.rstrip()}\n\n{prompt}\n{lines}".lstrip()
