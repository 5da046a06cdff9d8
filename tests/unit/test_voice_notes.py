"""Voice notes: which messages are transcribed, the limits, and the fallback to the text reply."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from openai import AsyncOpenAI

from bot.voice_notes import OpenAITranscriber, VoiceLimits, file_name
from channels.plug import AudioSource, VoiceNoteRefused
from channels.telegram.audio import telegram_file_url
from channels.telegram.updates import parse_update
from channels.whatsapp.twilio import parse_inbound
from core.compose import OfflineComposer, Thresholds
from core.conversation import MAX_TEXT_CHARS, ConversationCore, Greetings
from core.messages import Attachment, ChannelName, InboundMessage
from core.voice import transcribed, voice_note
from tests.fakes import FakeMemory, FakeRetrieval, FakeStore, ranking

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
VOICE = Attachment("voice", None, "audio/ogg", source="AwACAgUA", seconds=4)


def voice_message(note: Attachment = VOICE, text: str = "", pid: str = "v1") -> InboundMessage:
    return InboundMessage(
        channel=ChannelName("telegram"),
        external_user_id="u1",
        provider_message_id=pid,
        text=text,
        received_at=datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
        attachments=(note,),
    )


@dataclass
class Words:
    """A transcriber that says the same words for every note (None: it could not read it)."""

    words: str | None
    heard: list[Attachment] = field(default_factory=list)

    async def transcribe(self, message: InboundMessage, note: Attachment) -> str | None:
        self.heard.append(note)
        return self.words


@dataclass
class Audio:
    """An audio source that returns bytes, raises, or takes its time."""

    data: bytes = b"OggS"
    error: Exception | None = None
    delay: float = 0.0
    asked: list[tuple[Attachment, int]] = field(default_factory=list)

    async def fetch(self, note: Attachment, max_bytes: int) -> bytes:
        self.asked.append((note, max_bytes))
        await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return self.data


def test_the_channels_say_where_the_audio_is_and_how_long_it_lasts() -> None:
    update = json.loads((FIXTURES / "telegram" / "voice.json").read_text())
    telegram = parse_update(update, "ShopHelperBot", 1)
    assert isinstance(telegram, InboundMessage)
    [note] = telegram.attachments
    assert note.source == update["message"]["voice"]["file_id"]
    assert note.seconds == update["message"]["voice"]["duration"]
    form = json.loads((FIXTURES / "twilio" / "audio.json").read_text())
    whatsapp = parse_inbound(form)
    assert isinstance(whatsapp, InboundMessage)
    [audio] = whatsapp.attachments
    assert audio.kind == "audio" and audio.source == form["MediaUrl0"] and audio.seconds is None


def test_only_a_lone_voice_note_without_text_is_transcribed() -> None:
    assert voice_note(voice_message()) == VOICE
    assert voice_note(voice_message(replace(VOICE, kind="audio"))) is not None
    assert voice_note(voice_message(text="see this")) is None
    assert voice_note(voice_message(Attachment("photo", None, "image/jpeg", source="x"))) is None
    assert voice_note(voice_message(replace(VOICE, source=None))) is None
    two = replace(voice_message(), attachments=(VOICE, VOICE))
    assert voice_note(two) is None
    assert voice_note(replace(voice_message(), flooding=True)) is None


async def test_the_words_become_the_text_with_nric_numbers_hidden() -> None:
    said = await transcribed(voice_message(), Words(" My IC is S1234567D\x00 "), MAX_TEXT_CHARS)
    assert said.text == "My IC is *****567D" and said.ids_masked == 1
    assert said.attachments == (VOICE,)
    assert await transcribed(voice_message(), Words(None), MAX_TEXT_CHARS) == voice_message()
    assert await transcribed(voice_message(), Words("  "), MAX_TEXT_CHARS) == voice_message()
    assert await transcribed(voice_message(), None, MAX_TEXT_CHARS) == voice_message()
    long = await transcribed(voice_message(), Words("a" * 50), 10)
    assert long.text == "a" * 10


def make_core() -> tuple[ConversationCore, FakeMemory, FakeRetrieval]:
    memory = FakeMemory()
    retrieval = FakeRetrieval(ranking(0.9, ("hours-sat", "Sat 9-1")))
    composer = OfflineComposer(Thresholds(0.6, 0.3))
    core = ConversationCore(FakeStore(), memory, retrieval, composer, Greetings("Kopi Co"))
    return core, memory, retrieval


async def test_the_core_answers_the_words_and_remembers_them_not_the_audio() -> None:
    core, memory, retrieval = make_core()
    words = Words("what time do you open on saturday")
    reply = await core.handle(voice_message(), voice=words)
    assert reply is not None and reply.text == "Sat 9-1"
    assert retrieval.questions == ["what time do you open on saturday"]
    customer = memory.turns[reply.conversation_id][0]
    assert customer.text == "what time do you open on saturday"
    # Delivered again: already handled, so not transcribed (nor paid for) a second time.
    assert await core.handle(voice_message(), voice=words) is None
    assert len(words.heard) == 1


async def test_a_note_that_cannot_be_read_gets_the_text_only_reply() -> None:
    core, _, retrieval = make_core()
    reply = await core.handle(voice_message(), voice=Words(None))
    assert reply is not None and "voice messages" in reply.text and "only read text" in reply.text
    assert retrieval.questions == []
    plain = await core.handle(voice_message(pid="v2"))
    assert plain is not None and plain.text == reply.text


@pytest.fixture
async def client() -> AsyncIterator[AsyncOpenAI]:
    """A real client that these tests never let reach its endpoint (nothing listens there)."""
    client = AsyncOpenAI(api_key="k", base_url="http://127.0.0.1:9/v1", max_retries=0)
    yield client
    await client.close()


def transcriber(
    client: AsyncOpenAI, audio: AudioSource, limits: VoiceLimits | None = None
) -> OpenAITranscriber:
    return OpenAITranscriber(client, "whisper-1", {ChannelName("telegram"): audio}, limits)


async def test_a_note_over_the_length_limit_is_not_even_fetched(client: AsyncOpenAI) -> None:
    audio = Audio()
    voice = transcriber(client, audio, VoiceLimits(max_seconds=60))
    assert await voice.transcribe(voice_message(), replace(VOICE, seconds=61)) is None
    assert audio.asked == []


@pytest.mark.parametrize(
    "error",
    [VoiceNoteRefused("too large"), aiohttp.ClientResponseError(None, (), status=404)],  # type: ignore[arg-type]
    ids=["too-large", "http-404"],
)
async def test_a_fetch_refused_or_failed_gives_none(client: AsyncOpenAI, error: Exception) -> None:
    audio = Audio(error=error)
    voice = transcriber(client, audio, VoiceLimits(max_bytes=1000))
    assert await voice.transcribe(voice_message(), VOICE) is None
    assert audio.asked == [(VOICE, 1000)]


async def test_fetching_and_transcribing_share_one_timeout(client: AsyncOpenAI) -> None:
    voice = transcriber(client, Audio(delay=5.0), VoiceLimits(timeout_seconds=0.05))
    assert await asyncio.wait_for(voice.transcribe(voice_message(), VOICE), 2.0) is None


async def test_the_endpoint_unreachable_gives_none(client: AsyncOpenAI) -> None:
    assert await transcriber(client, Audio()).transcribe(voice_message(), VOICE) is None


async def test_a_channel_without_an_audio_source_gives_none(client: AsyncOpenAI) -> None:
    voice = OpenAITranscriber(client, "whisper-1", {})
    assert await voice.transcribe(voice_message(), VOICE) is None


def test_file_names_tell_the_endpoint_the_format() -> None:
    assert file_name(VOICE) == "voice.ogg"
    assert file_name(replace(VOICE, mime_type="audio/ogg; codecs=opus")) == "voice.ogg"
    assert file_name(Attachment("audio", None, "audio/mpeg")) == "audio.mp3"
    assert file_name(Attachment("audio", None, None)) == "audio.ogg"


def test_the_telegram_file_url_sits_beside_the_api_url() -> None:
    assert telegram_file_url("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert telegram_file_url("http://127.0.0.1:8081/bot/") == "http://127.0.0.1:8081/file/bot"
