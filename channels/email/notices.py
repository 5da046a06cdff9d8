"""Notices the email channel sends itself: a mail too large to read, attachments not kept.

They go out through the same sender as every reply (threaded under the customer's mail, marked
Auto-Submitted), once per mail: a mail read again after a restart gets no second notice. The
language is the one the mail's script shows (Chinese, Tamil), English otherwise.
"""

from __future__ import annotations

import re
from typing import Final

import structlog
from redis.asyncio import Redis

from channels.base import ChannelSender
from channels.email.parsing import ParsedEmail
from channels.email.sending import reply_route
from core import texts
from core.language import Language

log = structlog.get_logger(__name__)
_HAN: Final = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_TAMIL: Final = re.compile(r"[\u0b80-\u0bff]")
_REMEMBER_SECONDS: Final = 14 * 24 * 3600


def notice_language(text: str) -> Language:
    """Chinese or Tamil when the text is written in that script; English otherwise."""
    han, tamil = len(_HAN.findall(text)), len(_TAMIL.findall(text))
    if not han and not tamil:
        return Language.EN
    return Language.ZH if han >= tamil else Language.TA


def size_text(size: int) -> str:
    """A mail size as people read it: '10 MB', '12.4 MB', '600 KB'."""
    if size < 1024 * 1024:
        return f"{-(-size // 1024)} KB"
    megabytes = f"{size / (1024 * 1024):.1f}".removesuffix(".0")
    return f"{megabytes} MB"


class EmailNotices:
    """Sends the email channel's own notices, each at most once per mail."""

    def __init__(self, sender: ChannelSender, redis: Redis) -> None:
        self._sender = sender
        self._redis = redis

    async def send(self, parsed: ParsedEmail, mail_id: str, key: str, **values: str) -> bool:
        """Send the text `key` as a reply to the mail; False when it was sent before.

        Raises SendError when the mail server refuses it; it may then be sent again later.
        """
        mark = f"email:notice:{key}:{mail_id}"
        if not await self._redis.set(mark, "1", nx=True, ex=_REMEMBER_SECONDS):
            log.info("email_notice_already_sent", notice=key, mail=mail_id)
            return False
        language = notice_language(f"{parsed.subject}\n{parsed.text}")
        try:
            await self._sender.send(reply_route(parsed), texts.text(key, language, **values), ())
        except BaseException:
            await self._redis.delete(mark)
            raise
        log.info("email_notice_sent", notice=key, mail=mail_id, language=language.value)
        return True
