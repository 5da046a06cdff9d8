"""Fetching a Telegram voice note's audio: getFile, then the download, within a size."""

from __future__ import annotations

from telegram import Bot
from telegram.error import TelegramError

from channels.plug import AudioFetchFailed, VoiceNoteRefused
from core.messages import Attachment


def telegram_file_url(api_url: str) -> str:
    """The Bot API file URL beside an API URL ("https://api.telegram.org/bot" -> ".../file/bot")."""
    return api_url.rstrip("/").removesuffix("/bot") + "/file/bot"


class TelegramAudio:
    """Telegram: getFile, then the file download, through the channel's Bot."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def fetch(self, note: Attachment, max_bytes: int) -> bytes:
        """The voice note's bytes; Telegram says the size first, so a large one is not fetched."""
        if not note.source:
            raise VoiceNoteRefused("no file_id")
        try:
            file = await self._bot.get_file(note.source)
            if file.file_size is not None and file.file_size > max_bytes:
                raise VoiceNoteRefused(f"{file.file_size} bytes, over {max_bytes}")
            data = bytes(await file.download_as_bytearray())
        except TelegramError as error:
            raise AudioFetchFailed(f"Telegram: {type(error).__name__}") from error
        if len(data) > max_bytes:
            raise VoiceNoteRefused(f"{len(data)} bytes, over {max_bytes}")
        return data
