"""WhatsApp buttons through the real twilio Client: contents created once (PostgreSQL keeps
them), sent by ContentSid, and numbered text whenever the Content API or WhatsApp refuses."""

from __future__ import annotations

import uuid

import pytest
from twilio.rest import Client

from bot.services import Services
from channels.numbered_choices import render_choices
from channels.whatsapp.content import ContentTemplates, PostgresContentStore
from channels.whatsapp.twilio import WhatsAppSender
from core.language import Language
from core.messages import Choice
from core.ratings import rating_question
from tests.providers.twilio_api import FakeTwilioApi

pytestmark = pytest.mark.filterwarnings(
    "ignore:(BasicAuth|The 'auth' parameter) is deprecated:DeprecationWarning:twilio.*"
)
TO = "whatsapp:+6591234567"


def sender(client: Client, services: Services) -> WhatsAppSender:
    contents = ContentTemplates(client, PostgresContentStore(services.storage.pool))
    return WhatsAppSender(client, "+6531591234", None, rate_per_second=100, contents=contents)


def choices() -> tuple[Choice, ...]:
    # Unique per test run: the session's database keeps contents other tests created.
    tag = uuid.uuid4().hex[:6]
    return (Choice(f"Hours {tag}", f"faq:hours:{tag}"), Choice("Halal?", f"faq:halal:{tag}"))


async def test_choices_go_as_buttons_created_once_and_reused(
    twilio_client: Client, twilio_api: FakeTwilioApi, services: Services
) -> None:
    twilio_api.content_api = True
    options = choices()
    first = await sender(twilio_client, services).send(TO, "Did you mean:", options)
    [content] = twilio_api.contents
    assert [a["id"] for a in content["types"]["twilio/quick-reply"]["actions"]] == [
        c.entry_id for c in options
    ]
    assert twilio_api.calls[-1].form["ContentSid"] == content["sid"]
    assert "Body" not in twilio_api.calls[-1].form
    # The same choices again, even from a new process: no new content, the same ContentSid.
    second = await sender(twilio_client, services).send(TO, "Did you mean:", options)
    assert len(twilio_api.contents) == 1 and len(first) == len(second) == 1
    assert twilio_api.calls[-1].form["ContentSid"] == content["sid"]


async def test_a_rating_request_is_a_list(
    twilio_client: Client, twilio_api: FakeTwilioApi, services: Services
) -> None:
    twilio_api.content_api = True
    text, options = rating_question(Language.MS)
    await sender(twilio_client, services).send(TO, text, options)
    if twilio_api.contents:  # created now, or by an earlier run on this database
        picker = twilio_api.contents[-1]["types"]["twilio/list-picker"]
        assert [i["id"] for i in picker["items"]] == [c.entry_id for c in options]
    assert twilio_api.calls[-1].form["ContentSid"].startswith("HX")


async def test_a_list_opens_with_a_button_in_the_customers_language(
    twilio_client: Client, twilio_api: FakeTwilioApi, services: Services
) -> None:
    twilio_api.content_api = True
    tag = uuid.uuid4().hex[:6]
    options = tuple(Choice(f"选项 {n} {tag}", f"faq:{n}:{tag}") for n in range(5))
    await sender(twilio_client, services).send(TO, "您是指：", options, "zh")
    [content] = twilio_api.contents
    assert content["types"]["twilio/list-picker"]["button"] == "请选择"
    assert "请回复数字：" in content["types"]["twilio/text"]["body"]


async def test_without_the_content_api_choices_are_numbered_text_as_before(
    twilio_client: Client, twilio_api: FakeTwilioApi, services: Services
) -> None:
    options = choices()
    whatsapp = sender(twilio_client, services)
    await whatsapp.send(TO, "Did you mean:", options)
    assert twilio_api.calls[-1].form["Body"] == render_choices("Did you mean:", options)
    assert twilio_api.content_requests == 1
    # Refused once: numbered text without asking again for a while.
    await whatsapp.send(TO, "Did you mean:", options)
    assert twilio_api.content_requests == 1 and len(twilio_api.calls) == 2


async def test_a_refused_button_message_is_sent_again_as_numbered_text(
    twilio_client: Client, twilio_api: FakeTwilioApi, services: Services
) -> None:
    twilio_api.content_api = True
    options = choices()
    twilio_api.fail_next(400, 63013, "This channel does not support the content type")
    [sid] = await sender(twilio_client, services).send(TO, "Did you mean:", options)
    refused, sent = twilio_api.calls[-2:]
    assert "ContentSid" in refused.form
    assert sent.form["Body"] == render_choices("Did you mean:", options)
    assert sid == twilio_api.accepted[-1]["sid"]
