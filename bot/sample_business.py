"""The business the bundled sample knowledge base describes, so the bot presents it consistently."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import knowledge_base

SAMPLE_KNOWLEDGE: Final = Path(knowledge_base.__file__).resolve().parent / "sample"
NAME: Final = "Pandan Lantern Bakehouse"
HOURS: Final = "tue-fri 07:30-14:30,16:00-19:00; sat 08:00-18:00; sun 08:00-15:00"
"""The weekly hours pandan-lantern-bakehouse.md states (closed on Mondays)."""
NOTICE: Final = (
    "Using the sample business's name and hours; set BUSINESS_NAME and BUSINESS_HOURS in .env "
    "for yours."
)


def is_sample_knowledge(path: Path) -> bool:
    """Whether a knowledge path is the bundled sample, however it is written."""
    return path.expanduser().resolve() == SAMPLE_KNOWLEDGE
