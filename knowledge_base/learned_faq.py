"""The learned-FAQ file: approved suggestions written as a YAML FAQ that the ingestion reads."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import yaml

from knowledge_base.faq import FaqEntry

HEADER = (
    "# Learned FAQ: staff answers the owner approved (bot kb suggestions, or a reply to the\n"
    "# owner report). Written again after every approval: edit the suggestions, not this file.\n"
)


def learned_faq_yaml(entries: Sequence[FaqEntry]) -> str:
    """The entries as a YAML FAQ (`faqs:` list with id, question, answer, alternatives)."""
    items = []
    for entry in entries:
        item: dict[str, object] = {}
        if entry.entry_id:
            item["id"] = entry.entry_id
        item["question"] = entry.question
        item["answer"] = entry.answer
        if entry.alternatives:
            item["alternatives"] = list(entry.alternatives)
        items.append(item)
    body = yaml.dump(
        {"faqs": items},
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=100,
        default_flow_style=False,
    )
    return HEADER + body


class _Dumper(yaml.SafeDumper):
    """SafeDumper writing multi-line text as literal blocks, so the owner can read the file."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """A literal block for text with line breaks; the usual style otherwise."""
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def write_learned_faq(path: Path, entries: Sequence[FaqEntry]) -> None:
    """Replace the file at once (write beside it, then rename): a reader never sees half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(learned_faq_yaml(entries))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
