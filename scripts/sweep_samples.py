"""Feed every public sample payload through the real webhook handlers; fail on any crash or 5xx.

Telegram updates go to the Telegram route with the right secret; Twilio forms go, signed, to the
route for their kind. Each must become a queued message, a delivery report, an alert or a
deliberate ignore. Usage: python scripts/sweep_samples.py [SAMPLES_DIR]
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from twilio.request_validator import RequestValidator

from bot.logs import configure_logging
from bot.metrics import Metrics
from bot.queue.ingress import Ingress
from channels.telegram.updates import webhook_secret
from channels.telegram.webhook import TELEGRAM_PATH, TelegramWebhook, telegram_routes
from channels.whatsapp.webhook import (
    TWILIO_DEBUGGER_PATH,
    TWILIO_PATH,
    TWILIO_STATUS_PATH,
    TwilioWebhook,
    twilio_routes,
)
from core.messages import InboundMessage

DEFAULT_SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
TOKEN = "123456789:sweep-token"
AUTH_TOKEN = "sweep-auth-token"
PUBLIC_URL = "https://bot.example.test"
TWILIO_ROUTES = {
    "inbound": TWILIO_PATH,
    "status_callback": TWILIO_STATUS_PATH,
    "error_webhook": TWILIO_DEBUGGER_PATH,
}


class RecordingQueue:
    """Stands in for the Redis stream: keeps what would have been queued."""

    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []
        self.set_aside_payloads: list[tuple[str, str]] = []

    async def enqueue(self, message: InboundMessage) -> str:
        """Keep the message; return a stream-like id."""
        self.messages.append(message)
        return f"{len(self.messages)}-0"

    async def set_aside(self, raw: str, reason: str) -> None:
        """Keep a payload the parser could not read, as the dead-letter stream would."""
        self.set_aside_payloads.append((raw, reason))


class RecordingOutbox:
    """Stands in for PostgreSQL: accepts every delivery report."""

    async def record_status(self, *args: object) -> bool:
        """Accept the report."""
        return True


def telegram_samples(root: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every Telegram sample as a full Update (bare objects are wrapped as the README says)."""
    samples = []
    for path in sorted((root / "telegram").rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "update_id" not in data:
            key = "inline_query" if "query" in data and "chat" not in data else "message"
            data = {"update_id": 1, key: data}
        samples.append((str(path.relative_to(root)), data))
    return samples


def twilio_samples(root: Path) -> list[tuple[str, str, dict[str, str]]]:
    """Every Twilio sample record: its id, kind and form."""
    samples = []
    for path in sorted((root / "twilio").rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                form = {k: str(v) for k, v in record["params"].items()}
                samples.append((f"{path.name}:{record['id']}", record["kind"], form))
    return samples


async def sweep(root: Path) -> int:
    """Run the sweep; return the number of samples with a bad outcome."""
    metrics = Metrics()
    queue = RecordingQueue()
    ingress = Ingress(queue, RecordingOutbox(), metrics)  # type: ignore[arg-type]
    app = web.Application()
    app.add_routes(telegram_routes(TelegramWebhook(webhook_secret(TOKEN), "ShopBot", 1), ingress))
    app.add_routes(twilio_routes(TwilioWebhook(AUTH_TOKEN, PUBLIC_URL), ingress))
    outcomes: Counter[str] = Counter()
    bad = 0
    async with TestClient(TestServer(app)) as client:
        headers = {"X-Telegram-Bot-Api-Secret-Token": webhook_secret(TOKEN)}
        for name, update in telegram_samples(root):
            before = len(queue.messages)
            response = await client.post(TELEGRAM_PATH, json=update, headers=headers)
            outcome = _outcome(response.status, len(queue.messages) > before)
            bad += _report(name, response.status, outcome, await response.text(), outcomes)
        validator = RequestValidator(AUTH_TOKEN)
        for name, kind, form in twilio_samples(root):
            path = TWILIO_ROUTES.get(kind, TWILIO_PATH)
            signature = validator.compute_signature(PUBLIC_URL + path, form)
            before = len(queue.messages)
            response = await client.post(path, data=form, headers={"X-Twilio-Signature": signature})
            outcome = _outcome(response.status, len(queue.messages) > before)
            bad += _report(name, response.status, outcome, await response.text(), outcomes)
    print(
        f"\n{sum(outcomes.values())} samples: "
        + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
    )
    ignored = metrics.ignored.collect()[0].samples
    reasons = sorted({s.labels["reason"] for s in ignored if s.name.endswith("_total")})
    print(f"ignore reasons seen: {', '.join(reasons) or 'none'}")
    return bad


def _outcome(status: int, queued: bool) -> str:
    """Name what the handler did with a sample."""
    if status >= 500:
        return "server error"
    if status >= 400:
        return "rejected"
    return "queued" if queued else "handled without a reply (ignored, status or alert)"


def _report(name: str, status: int, outcome: str, body: str, outcomes: Counter[str]) -> int:
    """Print one line; 1 when the outcome is not acceptable."""
    outcomes[outcome] += 1
    ok = status < 400
    print(f"{'ok ' if ok else 'BAD'} {status} {name}: {outcome}{'' if ok else ' ' + body[:200]}")
    return 0 if ok else 1


def main() -> int:
    """Entry point: exit 1 if any sample crashed, got a 5xx or was rejected."""
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SAMPLES
    if not root.is_dir():
        print(f"No samples folder at {root}; sweep skipped.")
        return 0
    configure_logging("error", "console")  # the per-sample lines below say what happened
    bad = asyncio.run(sweep(root))
    if bad:
        print(f"{bad} sample(s) were not handled cleanly.")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
