"""Email: a mailbox read over IMAP, replies and handoffs sent over SMTP."""

from core.messages import ChannelName

NAME = ChannelName.define("email", "email")
"""The channel's name in messages, storage and logs."""
