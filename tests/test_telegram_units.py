"""Telegram-layer pieces that need no server: rate limiter, buttons, group addressing, run's config errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.pipeline import Pipeline
from bot.telegram.ratelimit import UserRateLimiter
from bot.telegram.replies import CALLBACK_LIMIT, keyboard

REPO = Path(__file__).resolve().parent.parent


def test_rate_limiter_refuses_bursts_warns_once_and_refills():
    now = [0.0]
    limiter = UserRateLimiter(rate=6, per=60, burst=3, clock=lambda: now[0])
    assert [limiter.allow(1)[0] for _ in range(3)] == [True, True, True]
    assert limiter.allow(1) == (False, True)
    assert limiter.allow(1) == (False, False)  # warned once per run of refusals
    assert limiter.allow(2) == (True, False)  # other users are unaffected
    now[0] += 10  # 6 per minute -> one token per 10 s
    assert limiter.allow(1) == (True, False)


def test_rate_limiter_memory_is_bounded():
    limiter = UserRateLimiter(capacity=100)
    for user in range(1000):
        limiter.allow(user)
    assert len(limiter) == 100


def test_buttons_fit_telegram_callback_limit(kb):
    pipeline = Pipeline(kb)
    for question in ("exosomes vibe check", "PRP safety and evidence", "how does PRP work", "compare all three"):
        markup = keyboard(pipeline.ask(question))
        assert markup is not None
        for row in markup.inline_keyboard:
            for button in row:
                assert 1 <= len(button.callback_data.encode()) <= CALLBACK_LIMIT


def run(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


def test_run_without_or_with_malformed_token_says_one_line_and_exits_2():
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"], cwd=REPO, capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "TELEGRAM_BOT_TOKEN is not set" in proc.stderr
    proc = run({"TELEGRAM_BOT_TOKEN": "12345:short"})
    assert proc.returncode == 2 and "malformed" in proc.stderr and "12345:short" not in proc.stderr
    assert "Traceback" not in proc.stderr


def test_webhook_mode_needs_a_secret():
    proc = run({"TELEGRAM_BOT_TOKEN": "123456789:" + "A" * 35, "REGENBOT_WEBHOOK_URL": "https://example.org/hook"})
    assert proc.returncode == 2 and "REGENBOT_WEBHOOK_SECRET" in proc.stderr
