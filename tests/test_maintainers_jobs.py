"""The weekly digest and gap alerts under a controllable clock, through the stand-in Bot API.

The bot's own Application is built in-process and talks HTTP to the stand-in server; the
maintainers' job is run with times the test chooses (nothing sleeps), and a second
Application on the same database stands for a restart.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.config import DAYS, load_settings
from bot.core.loader import load_knowledge
from bot.pipeline import DEFAULT_KNOWLEDGE_DIR
from bot.querylog import digest
from bot.querylog.schema import connect
from bot.telegram import app as bot_app
from bot.telegram import jobs
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_html import parse_html

ADMIN, QUIET_ADMIN = 42, 43


@pytest.fixture(scope="module")
def kb():
    return load_knowledge(DEFAULT_KNOWLEDGE_DIR)


def settings_for(tg: FakeTelegram, tmp: Path, base: datetime):
    """Digest due two hours after ``base``: the test's clock reaches it without waiting."""
    slot = base + timedelta(hours=2)
    return load_settings(
        {
            "TELEGRAM_BOT_TOKEN": tg.token,
            "TELEGRAM_API_URL": tg.api_url,
            "REGENBOT_DB": str(tmp / "bot.sqlite3"),
            "REGENBOT_KEY_FILE": str(tmp / "bot.key"),
            "REGENBOT_ADMIN_IDS": f"{ADMIN},{QUIET_ADMIN}",
            "REGENBOT_DIGEST_DAY": DAYS[slot.weekday()],
            "REGENBOT_DIGEST_HOUR": str(slot.hour),
            "REGENBOT_ALERT_ASKERS": "3",
        }
    )


async def started(settings, kb):
    application = bot_app.build_application(settings, kb, DEFAULT_KNOWLEDGE_DIR)
    await application.initialize()
    await bot_app._post_init(application)
    return application


async def stopped(application) -> None:
    await bot_app._post_shutdown(application)
    await application.shutdown()


def sent_to(tg: FakeTelegram, chat: int) -> list[str]:
    return [parse_html(c.params["text"]) for c in tg.sent_to(chat) if c.method == "sendMessage"]


async def test_digest_and_alert_with_a_controllable_clock_survive_a_restart(tmp_path, kb):
    base = datetime.now(timezone.utc).replace(minute=30, second=0, microsecond=0)
    slot = (base + timedelta(hours=2)).replace(minute=0)
    with FakeTelegram() as tg:
        settings = settings_for(tg, tmp_path, base)
        application = await started(settings, kb)
        svc = application.bot_data["services"]
        assert jobs.JOB_NAME in [job.name for job in application.job_queue.jobs()]  # beside the quiz reminders

        # The first run only sets the mark: no digest for the time before the bot existed.
        assert await jobs.run_due(application, base) == {"digests": 0, "alerts": 0}
        conn = connect(svc.qlog.path)
        digest.set_digest(conn, svc.qlog.pseudonymize(QUIET_ADMIN), False)  # as /digest off does
        conn.close()

        for user in (501, 502):
            svc.pipeline.ask("exosomes vibe check", conversation=user, frontend="telegram", user=user)
        svc.pipeline.ask("prp safety", conversation=503, frontend="telegram", user=503)
        svc.qlog.record_feedback(503, "prp-safety", "prp safety", False)
        assert await jobs.run_due(application, base + timedelta(minutes=5)) == {"digests": 0, "alerts": 0}

        # A third person asks the same thing: the gap crosses 3 distinct askers -> one alert.
        svc.pipeline.ask("exosomes vibe check please", conversation=504, frontend="telegram", user=504)
        assert await jobs.run_due(application, base + timedelta(minutes=10)) == {"digests": 0, "alerts": 1}
        alert = sent_to(tg, ADMIN)[-1]
        assert "A gap reached 3 askers" in alert and "exosomes vibe check" in alert
        assert await jobs.run_due(application, base + timedelta(minutes=11)) == {"digests": 0, "alerts": 0}

        # Not yet the hour; then the hour passes -> the digest, to the admin who wants it only.
        assert (await jobs.run_due(application, slot - timedelta(minutes=1)))["digests"] == 0
        assert (await jobs.run_due(application, slot + timedelta(minutes=1)))["digests"] == 1
        text = sent_to(tg, ADMIN)[-1]
        assert "Questions: 4, answered 25%" in text
        assert "New gaps" in text and "exosomes vibe check" in text and "3 asker(s)" in text
        assert "👎 answers" in text and "prp-safety ×1" in text
        assert not sent_to(tg, QUIET_ADMIN)
        for private in ("501", "502", "503", "504"):
            assert private not in text
        await stopped(application)

        # A restart: the state is in SQLite, so nothing is sent twice...
        application = await started(settings, kb)
        assert await jobs.run_due(application, slot + timedelta(minutes=2)) == {"digests": 0, "alerts": 0}
        # ... and next week's digest still comes, even if the bot was down at its hour.
        later = slot + timedelta(days=7, hours=5)
        assert (await jobs.run_due(application, later))["digests"] == 1
        assert "week to" in sent_to(tg, ADMIN)[-1]
        await stopped(application)
    print(f"\ndigest and alert: {len(sent_to(tg, ADMIN))} messages to the admin, 0 repeated across a restart")


def test_last_slot_is_the_latest_digest_time_not_after_now():
    monday_8 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
    assert digest.last_slot(monday_8, 0, 8) == monday_8
    assert digest.last_slot(monday_8 - timedelta(seconds=1), 0, 8) == monday_8 - timedelta(days=7)
    assert digest.last_slot(monday_8 + timedelta(days=3), 0, 8) == monday_8
    assert digest.last_slot(monday_8 + timedelta(days=3), 2, 23) == monday_8 + timedelta(days=2, hours=15)
