"""Telegram: Bot API updates in (webhook or long polling), messages out."""

from core.messages import ChannelName

NAME = ChannelName.define("telegram", "Telegram")
"""The channel's name in messages, storage and logs."""
