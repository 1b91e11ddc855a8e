"""Run the real `regenbot run` as a subprocess against the stand-in server, and read what it sent."""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_html import parse_html

ADMIN = 42
REPO = Path(__file__).resolve().parent.parent.parent
_STARTED: list[subprocess.Popen] = []


@atexit.register
def _kill_leftovers() -> None:
    """A test that fails half-way must not leave a bot polling a stand-in that is gone."""
    for proc in _STARTED:
        if proc.poll() is None:
            proc.kill()


def bot_env(tg: FakeTelegram, tmp: Path, **env: str) -> dict[str, str]:
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_URL": tg.api_url,
        "REGENBOT_DB": str(tmp / "bot.sqlite3"),
        "REGENBOT_KEY_FILE": str(tmp / "bot.key"),
        "REGENBOT_ADMIN_IDS": str(ADMIN),
        "REGENBOT_SEND_RATE": "1000",
        "PYTHONUNBUFFERED": "1",
        **env,
    }


def start_bot(
    tg: FakeTelegram, tmp: Path, *, log_name: str = "bot.log", wait: bool = True, **env: str
) -> subprocess.Popen:
    """Start the bot; with ``wait``, return once it has registered its commands (it is polling then)."""
    log = (tmp / log_name).open("a")
    before = len(tg.calls("setMyCommands"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=REPO,
        env=bot_env(tg, tmp, **env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    _STARTED.append(proc)
    if not wait:
        return proc
    try:
        tg.wait_for(lambda: len(tg.calls("setMyCommands")) > before, timeout=20)
    except AssertionError:
        proc.kill()
        raise AssertionError("bot did not start:\n" + (tmp / log_name).read_text()) from None
    return proc


def stop_bot(proc: subprocess.Popen, sig: int = signal.SIGINT) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def texts_to(tg: FakeTelegram, chat: int) -> list[str]:
    """What the user sees: the text of every message sent to ``chat``, entities parsed."""
    return [
        parse_html(c.params.get("text", "")) if c.params.get("parse_mode") == "HTML" else c.params.get("text", "")
        for c in tg.sent_to(chat)
        if c.method == "sendMessage"
    ]


def wait_text(tg: FakeTelegram, chat: int, needle: str, timeout: float = 10.0) -> str:
    def found() -> str | None:
        return next((t for t in texts_to(tg, chat) if needle in t), None)

    found.__name__ = f"a message to {chat} containing {needle!r}"
    return tg.wait_for(found, timeout)


def last_markup(tg: FakeTelegram, chat: int) -> dict:
    calls = [c for c in tg.sent_to(chat) if c.params.get("reply_markup")]
    return json.loads(calls[-1].params["reply_markup"])


def replies_by_question(tg: FakeTelegram) -> dict[tuple[int, int], int]:
    """(chat, question message id) -> how many answers quote it: 1 each, or a question was lost or answered twice."""
    counts: dict[tuple[int, int], int] = {}
    for call in tg.calls("sendMessage"):
        quoted = call.params.get("reply_parameters")
        if not quoted:
            continue
        key = (int(call.params["chat_id"]), int(json.loads(quoted)["message_id"]))
        counts[key] = counts.get(key, 0) + 1
    return counts
