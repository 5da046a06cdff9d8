"""Voice notes transcribed on an OpenAI-compatible endpoint, fetched through their channel."""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass

import aiohttp
import structlog
from openai import AsyncOpenAI, OpenAIError

from bot.config import Settings
from channels.plug import AudioFetchFailed, AudioSource, VoiceNoteRefused
from core.messages import Attachment, ChannelName, InboundMessage

log = structlog.get_logger(__name__)

# What the transcription endpoint names formats by; a name without one is refused by OpenAI.
_EXTENSIONS = {"audio/ogg": ".ogg", "audio/opus": ".ogg", "audio/mpeg": ".mp3", "audio/mp4": ".m4a"}
FAILURES = (OpenAIError, AudioFetchFailed, aiohttp.ClientError, TimeoutError, OSError)
"""What a fetch or a transcription may fail with: the customer gets the text-only reply."""


@dataclass(frozen=True, slots=True)
class VoiceLimits:
    """What is transcribed at most, and how long fetching and transcribing may take together."""

    max_bytes: int = 20 * 1024 * 1024
    max_seconds: int = 300
    timeout_seconds: float = 30.0


class OpenAITranscriber:
    """Fetches a voice note through its channel and asks `audio.transcriptions` for its words."""

    def __init__(
        self,
        client: AsyncOpenAI,
        model: str,
        sources: Mapping[ChannelName, AudioSource],
        limits: VoiceLimits | None = None,
    ) -> None:
        self._client = client
        self._model = model
        self._sources = dict(sources)
        self._limits = limits or VoiceLimits()

    async def transcribe(self, message: InboundMessage, note: Attachment) -> str | None:
        """The words of the note; None (logged) when over a limit or when anything fails."""
        cid, limits = message.correlation_id, self._limits
        source = self._sources.get(message.channel)
        try:
            if source is None:
                raise VoiceNoteRefused(f"no audio source for {message.channel.value}")
            if note.seconds is not None and note.seconds > limits.max_seconds:
                raise VoiceNoteRefused(f"{note.seconds} s, over {limits.max_seconds}")
            async with asyncio.timeout(limits.timeout_seconds):
                audio = await source.fetch(note, limits.max_bytes)
                result = await self._client.audio.transcriptions.create(
                    model=self._model, file=(file_name(note), audio, note.mime_type)
                )
        except VoiceNoteRefused as refused:
            log.info("voice_note_refused", cid=cid, reason=str(refused))
            return None
        except FAILURES as error:
            log.warning("voice_note_failed", cid=cid, error=type(error).__name__)
            return None
        # Never the words themselves: they may carry personal data.
        log.info("voice_note_transcribed", cid=cid, bytes=len(audio), chars=len(result.text))
        return result.text


def file_name(note: Attachment) -> str:
    """A file name whose extension tells the endpoint the audio format."""
    mime = (note.mime_type or "").partition(";")[0].strip()
    extension = _EXTENSIONS.get(mime) or mimetypes.guess_extension(mime) or ".ogg"
    return f"{note.kind}{extension}"


def open_voice_notes(
    settings: Settings, stack: AsyncExitStack, sources: Mapping[ChannelName, AudioSource]
) -> OpenAITranscriber | None:
    """The transcriber for the channels' voice notes, or None when voice notes stay unread."""
    s = settings
    if not s.voice_enabled or s.openai_api_key is None:
        return None
    limits = VoiceLimits(
        s.transcribe_max_bytes, s.transcribe_max_seconds, s.transcribe_timeout_seconds
    )
    client = AsyncOpenAI(
        api_key=s.openai_api_key.get_secret_value(),
        base_url=s.openai_base_url,
        timeout=s.transcribe_timeout_seconds,
        max_retries=0,  # a retry would outlast the time the customer's lock allows
    )
    stack.push_async_callback(client.close)
    return OpenAITranscriber(client, s.transcription_model, sources, limits)
