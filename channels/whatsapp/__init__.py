"""WhatsApp through Twilio: signed webhooks in, the REST API out."""

from core.messages import ChannelName

NAME = ChannelName.define("whatsapp", "WhatsApp")
"""The channel's name in messages, storage and logs."""
