"""The real bot under load, over HTTP, against the stand-in Bot API server on 127.0.0.1.

Traffic stays on the loopback interface and every loop is bounded in count and time.
REGENBOT_SEND_RATE is raised for the stand-in so that what is measured is the bot's own
overhead, not Telegram's 30 messages/second limit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.core import percentile
from tests.support.fake_telegram import FakeTelegram

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = ["prp evidence", "exosome safety", "what after laser?", "compare all three", "secretome mechanism"]


def _start(tg: FakeTelegram, tmp: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_URL": tg.api_url,
        "REGENBOT_DB": str(tmp / "bench.sqlite3"),
        "REGENBOT_KEY_FILE": str(tmp / "bench.key"),
        "REGENBOT_SEND_RATE": "100000",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=REPO,
        env=env,
        stdout=(tmp / "bot.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    tg.wait_for(lambda: tg.calls("setMyCommands"), timeout=30)
    return proc


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def _answered(tg: FakeTelegram) -> dict[int, float]:
    """chat id -> time of the first sendMessage to it."""
    first: dict[int, float] = {}
    for call in tg.calls("sendMessage"):
        chat = int(call.params.get("chat_id", 0))
        first.setdefault(chat, call.at)
    return first


def _ceiling(tg: FakeTelegram, n: int = 400) -> float:
    """sendMessage calls per second one keep-alive client gets from the stand-in server itself."""
    url = f"{tg.api_url}/bot{tg.token}/sendMessage"
    with httpx.Client() as client:
        start = time.perf_counter()
        for i in range(n):
            client.post(url, data={"chat_id": 999_000 + i, "text": "ping"})
        return n / (time.perf_counter() - start)


def burst(users: int = 50, per_user: int = 4) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, FakeTelegram() as tg:
        proc = _start(tg, Path(tmp))
        try:
            pushed: dict[int, float] = {}
            start = time.monotonic()
            for round_ in range(per_user):
                for u in range(users):
                    chat = 10_000 + round_ * users + u  # one chat per question: one answer each
                    tg.send_text(chat, QUESTIONS[(u + round_) % len(QUESTIONS)])
                    pushed[chat] = time.monotonic()
            total = users * per_user
            tg.wait_for(lambda: len(_answered(tg).keys() & pushed.keys()) >= total, timeout=120)
            answered = _answered(tg)
            elapsed = max(answered[c] for c in pushed) - start
            delays = [(answered[c] - pushed[c]) * 1000 for c in pushed]
            # Unloaded latency: one question at a time, each answered before the next is sent.
            single = []
            for i in range(40):
                chat = 50_000 + i
                sent_at = time.monotonic()
                tg.send_text(chat, QUESTIONS[i % len(QUESTIONS)])
                tg.wait_for(lambda chat=chat: chat in _answered(tg), timeout=30)
                single.append((_answered(tg)[chat] - sent_at) * 1000)
            ceiling = _ceiling(tg)
        finally:
            _stop(proc)
    return {
        "updates": total,
        "users": users,
        "answered": len(answered.keys() & pushed.keys()),
        "ups": total / elapsed,
        "p50_ms": percentile(delays, 50),
        "p99_ms": percentile(delays, 99),
        "single_p50_ms": percentile(single, 50),
        "single_p99_ms": percentile(single, 99),
        "ceiling": ceiling,
    }


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def memory(users: int = 10_000, checkpoint: int = 1000, per_user: int = 2) -> dict[str, object]:
    points: list[tuple[int, float]] = []
    with tempfile.TemporaryDirectory() as tmp, FakeTelegram() as tg:
        proc = _start(tg, Path(tmp))
        try:
            sent = 0
            for start in range(0, users, checkpoint):
                batch = range(100_000 + start, 100_000 + min(users, start + checkpoint))
                for k in range(per_user):
                    for u in batch:
                        tg.send_text(u, QUESTIONS[(u + k) % len(QUESTIONS)])
                sent += len(batch) * per_user
                tg.wait_for(lambda sent=sent: len(tg.calls("sendMessage")) >= sent, timeout=300)
                # Drop what the stand-in keeps about answered updates: only the bot is measured.
                tg.state.messages.clear()
                points.append((min(users, start + checkpoint), _rss_mb(proc.pid)))
        finally:
            _stop(proc)
    at = dict(points)
    return {"points": points, "growth_mb": at.get(users, 0.0) - at.get(users // 2, 0.0)}


CATEGORIES = (
    ("bot/core/", "regenbot core: normalise, match, compose, render"),
    ("bot/", "regenbot front end and query log"),
    ("telegram/", "python-telegram-bot"),
    ("httpx/", "httpx / httpcore (HTTP client)"),
    ("httpcore/", "httpx / httpcore (HTTP client)"),
    ("asyncio/", "asyncio event loop"),
    ("selectors", "asyncio event loop"),
    ("json/", "JSON encode/decode"),
)


def profile(questions: int = 2000) -> list[tuple[str, float]]:
    """Where the bot process spends its time answering a burst (cProfile, main thread)."""
    import pstats

    with tempfile.TemporaryDirectory() as tmp, FakeTelegram() as tg:
        out = Path(tmp) / "bot.prof"
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": tg.token,
            "TELEGRAM_API_URL": tg.api_url,
            "REGENBOT_DB": str(Path(tmp) / "p.sqlite3"),
            "REGENBOT_KEY_FILE": str(Path(tmp) / "p.key"),
            "REGENBOT_SEND_RATE": "100000",
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "bot.cli", "run"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        tg.wait_for(lambda: tg.calls("setMyCommands"), timeout=30)
        for i in range(questions):
            tg.send_text(20_000 + i, QUESTIONS[i % len(QUESTIONS)])
        tg.wait_for(lambda: len(tg.calls("sendMessage")) >= questions, timeout=120)
        _stop(proc)
        stats = pstats.Stats(str(out))
    totals: dict[str, float] = {}
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        label = next((name for key, name in CATEGORIES if key in filename), "other (stdlib, sqlite, logging...)")
        if filename == "~":
            label = "built-ins called from the above"
        totals[label] = totals.get(label, 0.0) + tottime
    total = sum(totals.values()) or 1.0
    return sorted(((k, v / total) for k, v in totals.items()), key=lambda kv: -kv[1])
