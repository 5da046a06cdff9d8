"""Fetching a WhatsApp voice note's audio from Twilio's MediaUrl, within a size."""

from __future__ import annotations

from urllib.parse import urlsplit

import aiohttp

from channels.plug import VoiceNoteRefused
from core.messages import Attachment

TWILIO_API = "https://api.twilio.com"
_CHUNK = 64 * 1024


class TwilioAudio:
    """WhatsApp through Twilio: the MediaUrl, with the account's credentials (HTTP basic auth)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        account_sid: str,
        auth_token: str,
        api_url: str | None = None,
    ) -> None:
        self._session = session
        # aiohttp drops this header when a redirect leaves the origin (Twilio redirects to a CDN).
        self._auth = {"Authorization": aiohttp.encode_basic_auth(account_sid, auth_token)}
        # Credentials go only to Twilio's own host: a MediaUrl elsewhere is fetched without.
        self._api_host = urlsplit(api_url or TWILIO_API).hostname

    async def fetch(self, note: Attachment, max_bytes: int) -> bytes:
        """The media's bytes, read in chunks and given up as soon as they pass max_bytes."""
        if not note.source:
            raise VoiceNoteRefused("no MediaUrl")
        auth = self._auth if urlsplit(note.source).hostname == self._api_host else {}
        async with self._session.get(note.source, headers=auth) as response:
            response.raise_for_status()
            declared = response.content_length
            if declared is not None and declared > max_bytes:
                raise VoiceNoteRefused(f"{declared} bytes, over {max_bytes}")
            data = bytearray()
            async for chunk in response.content.iter_chunked(_CHUNK):
                data += chunk
                if len(data) > max_bytes:
                    raise VoiceNoteRefused(f"over {max_bytes} bytes")
        return bytes(data)
