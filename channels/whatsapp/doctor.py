"""`bot doctor` for WhatsApp: Twilio accepts the credentials and the account is active."""

from __future__ import annotations

from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from channels.plug import Check
from channels.whatsapp.settings import WhatsAppSettings


async def check_twilio(s: WhatsAppSettings) -> Check:
    """Fetch the account with the configured credentials."""
    assert s.twilio_account_sid and s.twilio_auth_token
    http_client = AsyncTwilioHttpClient()
    client = Client(
        s.twilio_account_sid, s.twilio_auth_token.get_secret_value(), http_client=http_client
    )
    if s.twilio_api_url:
        client.api.base_url = s.twilio_api_url
    try:
        account = await client.api.v2010.accounts(s.twilio_account_sid).fetch_async()
    except TwilioRestException as error:
        if error.status in (401, 403, 404):
            return Check(
                "WhatsApp (Twilio)",
                False,
                f"Twilio refused the credentials ({error.status})",
                "copy TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN from the Twilio console",
            )
        return Check(
            "WhatsApp (Twilio)",
            False,
            f"Twilio error {error.status}: {error.msg}",
            "try again later; see status.twilio.com",
        )
    except (OSError, TimeoutError) as error:
        return Check(
            "WhatsApp (Twilio)",
            False,
            f"cannot reach Twilio: {error!r}",
            "check the network and TWILIO_API_URL",
        )
    finally:
        await http_client.close()
    if account.status != "active":
        return Check(
            "WhatsApp (Twilio)",
            False,
            f"account is {account.status}",
            "reactivate the account in the Twilio console",
        )
    return Check(
        "WhatsApp (Twilio)", True, f"account active; sending from {s.twilio_whatsapp_from}"
    )
