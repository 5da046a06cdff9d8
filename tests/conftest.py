"""Shared fixtures: tests never reach a model hub."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# One exported MiniLM for the whole run (and the bot processes tests start), not one per
# test's data folder: the export takes about ten seconds.
os.environ.setdefault(
    "MODEL_CACHE_DIR", str(Path(tempfile.gettempdir()) / "support-bot-test-models")
)
