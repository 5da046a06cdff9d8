"""Choices in an email reply: numbered, under a prompt in the customer's language."""

from __future__ import annotations

import json
from email.message import EmailMessage

from channels.email.sending import EmailSender
from core.messages import Choice

CHOICES = (Choice("Opening hours", "faq-hours"), Choice("Delivery", "faq-delivery"))
ROUTE = json.dumps({"to": "mei@example.com", "subject": "Question"})


class KeptMail:
    """Keeps the messages it is asked to send."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


async def test_choices_are_numbered_under_a_prompt_in_the_customers_language() -> None:
    mail = KeptMail()
    sender = EmailSender(mail, "hello@bakery.example", "Bakery")  # type: ignore[arg-type]
    await sender.send(ROUTE, "Maksud anda?", CHOICES, "ms")
    await sender.send(ROUTE, "Did you mean?", CHOICES)
    malay, english = (_text(m) for m in mail.sent)
    assert "Maksud anda?\n\nBalas dengan nombor:\n1. Opening hours\n2. Delivery" in malay
    assert "Did you mean?\n\nReply with a number:\n1. Opening hours\n2. Delivery" in english
