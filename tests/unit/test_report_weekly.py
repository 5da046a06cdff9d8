"""The weekly report's mail: sent again while the server says later, never after a refusal."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from bot.report.weekly import send_with_retries
from channels.base import SendError


class FlakyMailer:
    """Refuses with the given errors first, then accepts."""

    def __init__(self, *errors: SendError) -> None:
        self.errors = list(errors)
        self.sent: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(message)


async def test_a_report_mail_is_sent_again_while_the_server_says_later() -> None:
    mailer = FlakyMailer(SendError("451 greylisted", retryable=True))
    await send_with_retries(mailer, EmailMessage(), pause=0)
    assert len(mailer.sent) == 1


@pytest.mark.parametrize(
    "errors",
    [
        [SendError("550 no such user", retryable=False)],
        [SendError("451 later", retryable=True)] * 3,
    ],
)
async def test_a_report_mail_gives_up_on_a_refusal_or_after_three_tries(
    errors: list[SendError],
) -> None:
    mailer = FlakyMailer(*errors)
    with pytest.raises(SendError):
        await send_with_retries(mailer, EmailMessage(), pause=0)
    assert mailer.sent == []
