"""Sending on Telegram: replies (split, with inline buttons), paced to the Bot API's limits."""

from __future__ import annotations

import html
import warnings
from collections import OrderedDict
from datetime import timedelta
from typing import Final

import structlog
from aiolimiter import AsyncLimiter
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from channels.base import SendError
from channels.telegram import NAME
from channels.text import split_text
from core.messages import Choice, InboundMessage

log = structlog.get_logger(__name__)
MAX_MESSAGE_CHARS: Final = 4096
_MAX_CHAT_LIMITERS: Final = 10_000


class TelegramSender:
    """Sends replies through PTB's async Bot, rate-limited globally and per chat; never retries."""

    channel = NAME

    def __init__(self, bot: Bot, per_chat_interval: float = 1.0, global_rate: float = 30.0) -> None:
        if per_chat_interval <= 0 or global_rate <= 0:
            raise ValueError("per_chat_interval and global_rate must be positive")
        self._bot = bot
        self._interval = per_chat_interval
        self._global = AsyncLimiter(global_rate, 1.0)
        self._chats: OrderedDict[int | str, AsyncLimiter] = OrderedDict()

    async def send(
        self, address: str, text: str, choices: tuple[Choice, ...], language: str = "en"
    ) -> list[str]:
        """Send HTML-escaped parts, buttons on the last; return "chat_id:message_id" per part."""
        chat_id, reply_to = _address(address)
        parts = split_text(text, MAX_MESSAGE_CHARS)
        if not parts:
            raise SendError("empty reply", retryable=False)
        quote = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        ids: list[str] = []
        for number, part in enumerate(parts, start=1):
            markup = _keyboard(choices) if number == len(parts) else None
            try:
                async with self._limiter(chat_id), self._global:
                    sent = await self._bot.send_message(
                        chat_id,
                        html.escape(part, quote=False),
                        parse_mode=ParseMode.HTML,
                        reply_markup=markup,
                        reply_parameters=quote,
                    )
            except TelegramError as exc:
                error = _send_error(exc)
                if ids:
                    reason = f"{error.reason} (after {len(ids)} of {len(parts)} parts were sent)"
                    raise SendError(reason, retryable=False, parts_sent=len(ids)) from exc
                raise error from exc
            ids.append(f"{sent.chat.id}:{sent.message_id}")
        return ids

    async def acknowledge(self, message: InboundMessage) -> None:
        """Stop the spinner of a pressed inline button; other messages need nothing."""
        if not message.provider_message_id.startswith("cb:"):
            return
        query_id = message.provider_message_id.removeprefix("cb:")
        try:
            await self._bot.answer_callback_query(query_id)
        except TelegramError as exc:
            log.warning("telegram.ack_failed", callback_query_id=query_id, error=repr(exc))

    def _limiter(self, chat_id: int | str) -> AsyncLimiter:
        """The chat's own limiter; the least recently used ones are forgotten past a bound."""
        limiter = self._chats.pop(chat_id, None) or AsyncLimiter(1, self._interval)
        self._chats[chat_id] = limiter
        if len(self._chats) > _MAX_CHAT_LIMITERS:
            self._chats.popitem(last=False)
        return limiter


def _address(address: str) -> tuple[int | str, int | None]:
    """Split "chat_id" or "chat_id/reply_to_message_id"; "@channel" names pass through."""
    chat, _, reply = address.partition("/")
    try:
        chat_id: int | str = chat if chat.startswith("@") else int(chat)
        return chat_id, int(reply) if reply else None
    except ValueError:
        raise SendError(f"bad Telegram address {address!r}", retryable=False) from None


def _keyboard(choices: tuple[Choice, ...]) -> InlineKeyboardMarkup | None:
    """One button per row and choice; choices whose id exceeds 64 bytes are dropped."""
    rows = []
    for choice in choices:
        if len(choice.entry_id.encode()) > 64:
            log.warning("telegram.choice_dropped", entry_id=choice.entry_id, why="callback_data")
            continue
        rows.append([InlineKeyboardButton(choice.label[:64], callback_data=choice.entry_id)])
    return InlineKeyboardMarkup(rows) if rows else None


def _send_error(exc: TelegramError) -> SendError:
    """Map PTB's errors to SendError: flood and network trouble can be retried, the rest not."""
    if isinstance(exc, RetryAfter):
        with warnings.catch_warnings():  # PTB 22 warns on `retry_after` unless PTB_TIMEDELTA=1
            warnings.simplefilter("ignore", PTBDeprecationWarning)
            wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        return SendError(f"telegram flood control: {exc.message}", True, seconds)
    if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
        return SendError(f"telegram network error: {exc.message}", retryable=True)
    return SendError(f"telegram {type(exc).__name__}: {exc.message}", retryable=False)
