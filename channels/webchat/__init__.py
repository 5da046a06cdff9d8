"""Web chat: the widget, its socket and HTTP routes, replies kept for the browser."""

from core.messages import ChannelName

NAME = ChannelName.define("webchat", "web chat")
"""The channel's name in messages, storage and logs."""
