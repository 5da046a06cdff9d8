"""The registered channel plugs: the built-in four, and any a deployment or test adds."""

from __future__ import annotations

import importlib

from channels.plug import ChannelPlug

BUILT_IN = (
    "channels.whatsapp.plug",
    "channels.telegram.plug",
    "channels.email.plug",
    "channels.webchat.plug",
)
"""Modules whose `PLUG` is registered first; a new channel adds its module here."""

_plugs: dict[str, ChannelPlug] = {}
_loaded = False


def register(plug: ChannelPlug) -> ChannelPlug:
    """Add a channel (or replace one of the same name); returns it for chaining."""
    _load_built_in()
    _plugs[plug.name.value] = plug
    return plug


def unregister(name: str) -> None:
    """Remove a channel registered before (tests that add a fake one)."""
    _plugs.pop(name, None)


def plugs() -> tuple[ChannelPlug, ...]:
    """Every registered channel, built-in ones first (the most specific contact ids first)."""
    _load_built_in()
    return tuple(_plugs.values())


def plug_for(name: str) -> ChannelPlug | None:
    """The registered channel of that name, if any."""
    _load_built_in()
    return _plugs.get(name)


def _load_built_in() -> None:
    """Import the built-in plugs once; lazily, so importing a channel never imports them all."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in BUILT_IN:
        plug: ChannelPlug = importlib.import_module(module).PLUG
        _plugs.setdefault(plug.name.value, plug)
