"""The `bot` command as a new user runs it: fresh data folder, no URLs, embedded services."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.providers.telegram_api import FakeTelegramAPI

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
SAMPLE_BUSINESS = (
    "Using the sample business's name and hours; set BUSINESS_NAME and BUSINESS_HOURS in .env "
    "for yours."
)
HANDOFFS_NOT_EMAILED = "Handoffs are recorded but not emailed: set STAFF_EMAIL"


def bot_environment(data_dir: Path, **env: str) -> dict[str, str]:
    """A new user's environment: embedded services in data_dir, nothing else configured."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith("_URL") and k not in {"OPENAI_API_KEY", "BUSINESS_NAME"}
    }
    environment.update(DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1", **env)
    return environment


def run_bot(
    data_dir: Path, *args: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=bot_environment(data_dir, **env),
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-data")


def test_chat_on_the_embedded_default_answers_and_escalates(data_dir: Path) -> None:
    result = run_bot(
        data_dir,
        "chat",
        stdin=(
            "What time do you open on Saturday?\nCan you repair my car gearbox?\n"
            "Can you fix my car's gearbox then?\n"
        ),
        BUSINESS_NAME="Pandan Lantern Bakehouse",
    )
    assert result.returncode == 0, result.stderr
    assert "First run: loading the knowledge base" in result.stderr
    assert SAMPLE_BUSINESS not in result.stderr  # BUSINESS_NAME was set
    lines = result.stdout.splitlines()
    assert "8:00 am" in lines[0] and "6:00 pm" in lines[0]
    assert "don't know" in result.stdout
    assert "put it another way" in result.stdout  # the first miss asks again
    assert "(escalated to staff: no_answer_twice)" in result.stdout
    # Everything stopped: a second run finds its data and does not ingest again.
    again = run_bot(data_dir, "chat", stdin="Where are you located?\n")
    assert again.returncode == 0, again.stderr
    assert "First run" not in again.stderr
    assert "Tiong Bahru" in again.stdout
    # Neither BUSINESS_NAME nor BUSINESS_HOURS: the sample's, said at start.
    assert SAMPLE_BUSINESS in again.stderr.splitlines()
    assert "customers see this privacy notice" in again.stderr.lower()
    assert "Before we start: we keep this conversation" in again.stderr
    assert HANDOFFS_NOT_EMAILED in again.stderr  # no STAFF_EMAIL
    assert again.stdout.startswith("bot> ")  # the transcript stays answers only


def test_kb_ingest_reports_a_broken_file_and_keeps_the_rest(data_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text(
        "# Parking\n\nFree parking at the back of the shop after 6 pm.\n"
    )
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    result = run_bot(data_dir, "kb", "ingest", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "added 1" in result.stderr and "failed 1" in result.stderr
    assert "broken.pdf" in result.stderr
    listing = run_bot(data_dir, "kb", "list")
    assert "good.md" in listing.stdout and "broken.pdf" not in listing.stdout
    unchanged = run_bot(data_dir, "kb", "ingest", str(tmp_path / "good.md"))
    assert "unchanged 1" in unchanged.stderr
    stored_as = next(line for line in listing.stdout.splitlines() if "good.md" in line)
    removed = run_bot(data_dir, "kb", "remove", stored_as.split("\t")[0])
    assert removed.returncode == 0, removed.stderr
    assert "good.md" not in run_bot(data_dir, "kb", "list").stdout


def test_a_second_process_on_the_embedded_index_stops_with_one_clear_line(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.endswith("_URL")}
    environment.update(DATA_DIR=str(tmp_path), HF_HUB_OFFLINE="1")
    log = tmp_path / "chat.log"
    with log.open("w") as chat_stderr:
        running = subprocess.Popen(
            [sys.executable, "-m", "bot", "chat"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=chat_stderr,
            text=True,
            cwd=REPO,
            env=environment,
        )
        try:
            assert running.stdin is not None and running.stdout is not None
            running.stdin.write("Where are you located?\n")
            running.stdin.flush()
            up = running.stdout.readline()
            assert "Tiong Bahru" in up, log.read_text()  # up, with the index open
            for args, advice in [
                (("worker",), "use `bot serve --workers N`"),
                (("kb", "ingest", "knowledge_base/sample"), "Stop the bot"),
                (("kb", "remove", "knowledge_base/sample/faq.yaml"), "Stop the bot"),
            ]:
                result = run_bot(tmp_path, *args)
                assert result.returncode == 1, result.stderr
                assert "Traceback" not in result.stderr
                last = result.stderr.strip().splitlines()[-1]
                assert "is in use by another bot process" in last, result.stderr
                assert advice in last and "QDRANT_URL" in last
            running.communicate(timeout=60)  # end of input: the chat stops, freeing the index
            assert running.returncode == 0, log.read_text()
        finally:
            if running.poll() is None:
                running.kill()
                running.wait()
    after = run_bot(tmp_path, "kb", "ingest", "knowledge_base/sample")
    assert after.returncode == 0, after.stderr
    assert "unchanged 3" in after.stderr  # nothing was changed while the bot ran


def test_bad_setting_stops_with_one_clear_line(data_dir: Path) -> None:
    result = run_bot(data_dir, "chat", TIMEZONE="Asia/Atlantis")
    assert result.returncode == 2
    expected = "Setting TIMEZONE='Asia/Atlantis' is invalid: expected an IANA timezone"
    assert result.stderr.strip().splitlines() == [f"{expected} such as Asia/Singapore"]


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def assert_one_clear_telegram_line(code: int, stderr: str, *names: str) -> str:
    """Exit 1, no traceback, and one last line naming Telegram, the cause and the fix."""
    assert code == 1, stderr
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert [line for line in lines if "Telegram" in line] == lines[-1:], stderr
    for name in names:
        assert name in lines[-1]
    return lines[-1]


def test_serve_with_telegram_unreachable_stops_with_one_clear_line(data_dir: Path) -> None:
    api = f"http://127.0.0.1:{closed_port()}/bot"
    result = run_bot(
        data_dir, "serve", PORT="0", TELEGRAM_BOT_TOKEN="123:token", TELEGRAM_API_URL=api
    )
    line = assert_one_clear_telegram_line(
        result.returncode, result.stderr, f"cannot reach the Bot API at {api}", "TELEGRAM_API_URL"
    )
    assert line.startswith("Telegram: ") and "Fix: " in line


async def test_serve_with_a_token_telegram_refuses_stops_with_one_clear_line(
    data_dir: Path, telegram_api: FakeTelegramAPI
) -> None:
    wrong = "987654321:AAWrongTokenForTests_zyxwvutsrqponml"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=REPO,
        env=bot_environment(
            data_dir, PORT="0", TELEGRAM_BOT_TOKEN=wrong, TELEGRAM_API_URL=telegram_api.base_url
        ),
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=300)
    stderr = err.decode()
    assert_one_clear_telegram_line(
        process.returncode or 0, stderr, "the token was rejected", "@BotFather"
    )
    assert wrong not in stderr


def test_missing_path_is_named(data_dir: Path) -> None:
    result = run_bot(data_dir, "kb", "ingest", "no/such/folder")
    assert result.returncode == 2
    assert "no/such/folder" in result.stderr


def test_ctrl_c_stops_the_chat_and_every_embedded_service(tmp_path: Path) -> None:
    import signal

    import psutil

    environment = {k: v for k, v in os.environ.items() if not k.endswith("_URL")}
    environment.update(DATA_DIR=str(tmp_path), HF_HUB_OFFLINE="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=environment,
    )
    try:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write("Where are you located?\n")
        process.stdin.flush()
        assert "Tiong Bahru" in process.stdout.readline()  # up and answering
        # stdin stays open: the bot is waiting for the next line when Ctrl-C comes.
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0  # a stop asked for, done cleanly
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    leftovers = [
        p.info["name"]
        for p in psutil.process_iter(["name", "cmdline"])
        if str(tmp_path) in " ".join(p.info["cmdline"] or [])
    ]
    assert leftovers == []


def test_staff_export_then_erase_a_customer(data_dir: Path, tmp_path: Path) -> None:
    chatted = run_bot(data_dir, "chat", "--user", "Ah Seng", stdin="Do you deliver?\n")
    assert chatted.returncode == 0, chatted.stderr
    out = tmp_path / "ah-seng.json"
    exported = run_bot(data_dir, "privacy", "export", "--contact", "cli:Ah Seng", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    data = json.loads(out.read_text())
    assert data["channel_identities"][0]["external_id"] == "Ah Seng"
    bodies = [m["body"] for c in data["conversations"] for m in c["messages"]]
    assert "Do you deliver?" in bodies
    assert "memory" in data and "dead_letters" in data

    erased = run_bot(data_dir, "privacy", "erase", "--contact", "cli:Ah Seng", "--yes")
    assert erased.returncode == 0, erased.stderr
    assert "Erased contacts: 1, channel identities: 1, conversations: 1" in erased.stdout
    gone = run_bot(data_dir, "privacy", "export", "--contact", "cli:Ah Seng")
    assert gone.returncode == 1
    assert "No customer found for 'cli:Ah Seng'" in gone.stderr
    unreadable = run_bot(data_dir, "privacy", "erase", "--contact", "nobody")
    assert unreadable.returncode == 2 and "Cannot read 'nobody'" in unreadable.stderr
