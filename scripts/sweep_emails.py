"""Parse every public sample email; fail on any crash, any slow file or any unflagged bounce.

Each .eml file must become a ParsedEmail (answerable, or with a skip_reason) or a deliberate
PayloadError; files under a `bounce`, `complaints` or `automatic` folder must carry a
skip_reason (tests/fixtures/email/automatic holds the project's own). Other files
(licences, gold texts, HTML fragments) are counted and left alone.
Usage: python scripts/sweep_emails.py [SAMPLES_DIR]
"""

from __future__ import annotations

import signal
import sys
import time
from collections import Counter
from pathlib import Path
from types import FrameType

from channels.base import PayloadError
from channels.email.parsing import parse_email

DEFAULT_SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "email"
SLOW_SECONDS = 5.0
HARD_LIMIT_SECONDS = 60  # a file still parsing by then is stopped and counted as a failure
AUTOMATIC_FOLDERS = frozenset({"bounce", "bounces", "complaints", "automatic"})


def _timeout(signum: int, frame: FrameType | None) -> None:
    raise TimeoutError(f"still parsing after {HARD_LIMIT_SECONDS} s")


def sweep_file(path: Path, root: Path, outcomes: Counter[str]) -> bool:
    """Parse one file and print its line; True when the outcome is acceptable."""
    name = str(path.relative_to(root))
    must_skip = not AUTOMATIC_FOLDERS.isdisjoint(path.relative_to(root).parts[:-1])
    signal.alarm(HARD_LIMIT_SECONDS)
    started = time.perf_counter()
    try:
        parsed = parse_email(path.read_bytes())
        outcome, length, problem = parsed.skip_reason or "answerable", len(parsed.text), ""
        if must_skip and parsed.skip_reason is None:
            problem = "automatic mail not flagged"
    except PayloadError as exc:
        outcome, length = "rejected", 0
        problem = f"automatic mail rejected: {exc}" if must_skip else ""
    except Exception as exc:  # the sweep exists to find these
        outcome, length, problem = "crashed", 0, repr(exc)
    finally:
        signal.alarm(0)
    seconds = time.perf_counter() - started
    if seconds > SLOW_SECONDS and not problem:
        problem = f"slower than {SLOW_SECONDS:.0f} s"
    outcomes[outcome] += 1
    mark = "BAD" if problem else "ok "
    print(f"{mark} {name}: {outcome}, text {length} chars, {seconds:.2f} s {problem}".rstrip())
    return not problem


def main() -> int:
    """Entry point: exit 1 if any sample crashed, was slow, or is automatic mail not flagged."""
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SAMPLES
    if not root.is_dir():
        print(f"No email samples folder at {root}; sweep skipped.")
        return 0
    signal.signal(signal.SIGALRM, _timeout)
    files = sorted(path for path in root.rglob("*") if path.is_file())
    emails = [path for path in files if path.suffix.lower() == ".eml"]
    outcomes: Counter[str] = Counter()
    bad = sum(not sweep_file(path, root, outcomes) for path in emails)
    summary = ", ".join(f"{outcome} {count}" for outcome, count in sorted(outcomes.items()))
    print(f"\n{len(emails)} emails: {summary}; {len(files) - len(emails)} other files not parsed")
    if bad:
        print(f"{bad} email(s) were not handled cleanly.")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
