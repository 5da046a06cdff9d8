"""Conversation core: channel-neutral pipeline, storage, retrieval and answers."""
