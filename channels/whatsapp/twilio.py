"""WhatsApp through Twilio: parse webhook forms, check their signature, send replies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiolimiter import AsyncLimiter
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from channels.base import (
    DeliveryStatus,
    Ignored,
    Parsed,
    PayloadError,
    ProviderAlert,
    SendError,
)
from channels.numbered_choices import render_choices
from channels.text import split_text
from channels.whatsapp import NAME
from channels.whatsapp.content import ContentTemplates, content_types
from core import texts
from core.messages import Attachment, ChannelName, Choice, InboundMessage

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
"""The answer to an inbound webhook: the reply is sent later through the REST API."""

MAX_BODY = 1600
"""Twilio rejects a message body longer than this (error 21617)."""

_PREFIX = "whatsapp:"
_MAX_MEDIA = 10  # Twilio delivers at most 10 media items per message.
_MEDIA_KINDS = ("image", "audio", "video")


def parse_inbound(params: Mapping[str, str]) -> Parsed:
    """Turn the form Twilio POSTs for an incoming message into an InboundMessage.

    We only configure a WhatsApp sender, so `From` is normally "whatsapp:+<number>". A plain
    phone number (an SMS to the same Twilio number) is still accepted and kept as given; the
    channel stays WHATSAPP. `From` is kept with its prefix so the reply goes back the same way.
    """
    # Older integrations (and the SMS-era API) send only SmsSid; it is the same id.
    sid = _first(params, "MessageSid", "SmsMessageSid", "SmsSid")
    if sid is None:
        raise PayloadError("Twilio inbound form has no MessageSid, SmsMessageSid or SmsSid")
    sender = _first(params, "From")
    if sender is None:
        raise PayloadError(f"Twilio inbound form {sid} has no From")
    text = params.get("Body") or ""
    attachments = _media(params, sid) + _location(params)
    # A quick-reply tap carries ButtonPayload, a list pick ListId: the chosen entry either way.
    choice = params.get("ButtonPayload") or params.get("ListId") or None
    button_text = params.get("ButtonText") or params.get("ListTitle")
    if button_text:
        text = button_text
    if not text.strip() and not attachments and choice is None:
        return Ignored("empty message", f"Twilio message {sid} has no text, media or location")
    return InboundMessage(
        channel=NAME,
        external_user_id=sender,
        provider_message_id=sid,
        text=text,
        received_at=datetime.now(UTC),
        display_name=params.get("ProfileName") or None,
        attachments=attachments,
        choice_entry_id=choice,
    )


def parse_status(params: Mapping[str, str]) -> Parsed:
    """Turn a Twilio status callback form into a DeliveryStatus (unknown statuses pass through)."""
    sid = _first(params, "MessageSid", "SmsSid")
    if sid is None:
        raise PayloadError("Twilio status callback has no MessageSid or SmsSid")
    status = _first(params, "MessageStatus", "SmsStatus")
    if status is None:
        raise PayloadError(f"Twilio status callback for {sid} has no MessageStatus or SmsStatus")
    return DeliveryStatus(
        channel=NAME,
        provider_message_id=sid,
        status=status.lower(),
        error_code=params.get("ErrorCode") or None,
        error_message=params.get("ErrorMessage") or None,
    )


def parse_debugger_event(params: Mapping[str, str]) -> Parsed:
    """Turn a Twilio debugger webhook (an error or warning on Twilio's side) into an alert."""
    level = params.get("Level")
    payload = params.get("Payload")
    if not level or payload is None:
        raise PayloadError("Twilio debugger event has no Level or Payload")
    try:
        decoded: Any = json.loads(payload)
    except ValueError:
        decoded = None
    details: dict[str, Any] = decoded if isinstance(decoded, dict) else {}
    more: Any = details.get("more_info")
    info: dict[str, Any] = more if isinstance(more, dict) else {}
    code = details.get("error_code") or info.get("ErrorCode")
    message = info.get("Msg") or payload
    return ProviderAlert(
        channel=NAME,
        level=level.lower(),
        code=str(code) if code is not None else None,
        message=str(message)[:500],
    )


def is_valid_signature(
    auth_token: str, url: str, params: Mapping[str, str], signature: str | None
) -> bool:
    """Check X-Twilio-Signature against the public URL Twilio called (base URL + path + query).

    Pass the configured public URL, not the one the proxied request arrived on: behind a reverse
    proxy the scheme, host and port differ, and Twilio signed the public one.
    """
    if not signature or not auth_token:
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))


class WhatsAppSender:
    """Sends replies as free-form WhatsApp messages through Twilio's async REST client."""

    def __init__(
        self,
        client: Client,
        sender: str,
        status_callback_url: str | None,
        rate_per_second: float = 10.0,
        template_sid: str | None = None,
        contents: ContentTemplates | None = None,
    ) -> None:
        """Use a Client built with `http_client=AsyncTwilioHttpClient()`; the caller closes it.

        With `contents`, choices go out as WhatsApp buttons or a list when the API allows.
        """
        self.channel: ChannelName = NAME
        self._client = client
        self._sender = sender if sender.startswith(_PREFIX) else f"{_PREFIX}{sender}"
        self._status_callback_url = status_callback_url
        self._limiter = AsyncLimiter(rate_per_second, 1)
        self._template_sid = template_sid
        self._contents = contents

    async def send(
        self, address: str, text: str, choices: tuple[Choice, ...], language: str = "en"
    ) -> list[str]:
        """Send one reply, split into parts of at most 1600 characters; return their SIDs.

        Choices go as buttons (one message) when possible, else numbered in the text.
        """
        numbered = render_choices(text, choices, language)
        if choices:
            sid = await self._send_buttons(address, text, choices, numbered, language)
            if sid:
                return [sid]
        parts = split_text(numbered, MAX_BODY)
        sids: list[str] = []
        for part in parts:
            try:
                sids.append(await self._send_part(address, part))
            except SendError as error:
                if not sids:
                    raise
                reason = f"sent {len(sids)} of {len(parts)} parts, then failed: {error.reason}"
                raise SendError(reason, retryable=False, parts_sent=len(sids)) from error
        return sids

    async def _send_buttons(
        self, address: str, text: str, choices: tuple[Choice, ...], numbered: str, language: str
    ) -> str | None:
        """Send the reply as buttons; None when it goes as numbered text instead."""
        if self._contents is None or not self._contents.available():
            return None
        button = texts.in_language("choices.choose", language)
        types = content_types(text, choices, numbered, button)
        if types is None:
            return None
        content_sid = await self._contents.sid_for(types)
        if content_sid is None:
            return None
        try:
            return await self._send_part(address, None, content_sid=content_sid)
        except SendError as error:
            if error.retryable:
                raise
            self._contents.refused(f"send: {error.reason}")
            return None

    async def acknowledge(self, message: InboundMessage) -> None:
        """Do nothing: Twilio needs no acknowledgement beyond the webhook's 200."""

    async def send_template(self, address: str) -> list[str]:
        """Send the approved template (ContentSid) that invites the customer to write back."""
        if self._template_sid is None:
            raise SendError(
                "outside WhatsApp's 24-hour window and TWILIO_REOPEN_TEMPLATE_SID is not set",
                retryable=False,
            )
        return [await self._send_part(address, None)]

    async def _send_part(
        self, address: str, body: str | None, content_sid: str | None = None
    ) -> str:
        """Send one message (a content, by default the template, when body is None)."""
        extra: dict[str, str] = (
            {"status_callback": self._status_callback_url} if self._status_callback_url else {}
        )
        if body is None:
            content_sid = content_sid or self._template_sid
            assert content_sid is not None
            extra["content_sid"] = content_sid
        else:
            extra["body"] = body
        async with self._limiter:
            try:
                message = await self._client.messages.create_async(
                    from_=self._sender, to=address, **extra
                )
            except (TwilioRestException, TwilioServiceException) as error:
                raise _http_error(error) from error
            except (TimeoutError, aiohttp.ClientError, TwilioException) as error:
                raise SendError(f"Twilio unreachable: {error!r}", retryable=True) from error
        sid = getattr(message, "sid", None)
        if not isinstance(sid, str) or not sid:
            raise SendError("Twilio accepted the message but returned no SID", retryable=False)
        return sid


def _http_error(error: TwilioRestException | TwilioServiceException) -> SendError:
    """Map a Twilio HTTP error: 429 and 5xx may pass, other 4xx (e.g. 63016) will not."""
    status = int(error.status)
    if isinstance(error, TwilioRestException):
        message = str(error.msg)
    else:
        message = f"{error.title}: {error.detail}" if error.detail else str(error.title)
    reason = f"Twilio HTTP {status}, error {error.code}: {message}"
    return SendError(reason, retryable=status == 429 or status >= 500)


def _first(params: Mapping[str, str], *names: str) -> str | None:
    """The first non-blank value among the named fields, stripped."""
    for name in names:
        value = (params.get(name) or "").strip()
        if value:
            return value
    return None


def _media(params: Mapping[str, str], sid: str) -> tuple[Attachment, ...]:
    """Attachments for NumMedia media items, kinded by their MIME major type."""
    raw = (params.get("NumMedia") or "0").strip()
    try:
        count = int(raw)
    except ValueError:
        raise PayloadError(f"Twilio message {sid} has a non-numeric NumMedia {raw!r}") from None
    if not 0 <= count <= _MAX_MEDIA:
        raise PayloadError(f"Twilio message {sid} has NumMedia {count} outside 0..{_MAX_MEDIA}")
    attachments = []
    for index in range(count):
        mime = (params.get(f"MediaContentType{index}") or "").strip().lower() or None
        major = mime.partition("/")[0] if mime else ""
        kind = major if major in _MEDIA_KINDS else "document"
        url = (params.get(f"MediaUrl{index}") or "").strip() or None
        attachments.append(Attachment(kind=kind, mime_type=mime, source=url))
    return tuple(attachments)


def _location(params: Mapping[str, str]) -> tuple[Attachment, ...]:
    """A location attachment when the form carries Latitude and Longitude."""
    if _first(params, "Latitude") is None or _first(params, "Longitude") is None:
        return ()
    return (Attachment(kind="location", name=_first(params, "Label", "Address")),)
