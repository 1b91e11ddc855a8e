"""deploy/datasette: every canned query runs on a real log database made by the bot."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml

from bot.pipeline import Pipeline
from bot.querylog import expert
from bot.querylog.pseudonym import Pseudonymizer
from bot.querylog.schema import connect
from bot.querylog.writer import QueryLog

REPO = Path(__file__).resolve().parent.parent
METADATA = REPO / "deploy" / "datasette" / "metadata.yaml"


def canned() -> dict[str, dict]:
    return yaml.safe_load(METADATA.read_text(encoding="utf-8"))["databases"]["regenbot"]["queries"]


@pytest.fixture(scope="module")
def log_db(tmp_path_factory, kb) -> Path:
    """A database written the way the bot writes it: pipeline questions, feedback, quiz, a maintainers' question."""
    import asyncio

    path = tmp_path_factory.mktemp("datasette") / "regenbot.sqlite3"
    key = b"k" * 32

    async def fill() -> None:
        qlog = QueryLog(path, Pseudonymizer(key))
        await qlog.open()
        pipeline = Pipeline(kb, sink=qlog)
        for user, text in enumerate(
            ["prp safety", "exosomes vibe check", "exosomes vibe check", "how to inject botox"]
        ):
            pipeline.ask(text, conversation=user, frontend="telegram", user=user)
        qlog.record_feedback(1, "prp-safety", "prp safety", False)
        qlog.record_feedback(2, "prp-safety", "prp safety", True)
        qlog.record_quiz(3, "q-prp-1", "safety", True)
        qlog.record_quiz(3, "q-prp-2", "evidence", False)
        await qlog.close()

    asyncio.run(fill())
    conn = connect(path)
    request = expert.admit(conn, "p1", "how to inject botox", "not_covered", "sealed", "-100")
    assert isinstance(request, int)
    expert.answered(conn, request, "Not in the review.", "m1")
    conn.close()
    return path


def test_metadata_names_the_views_the_issue_asks_for():
    assert {"open_gaps", "answer_rate_per_day", "top_answers", "not_helpful", "quiz_activity"} <= set(canned())


@pytest.mark.parametrize("name", sorted(canned()))
def test_every_canned_query_runs_on_a_log_made_by_the_bot(log_db, name):
    conn = sqlite3.connect(f"file:{log_db}?mode=ro", uri=True)
    try:
        rows = conn.execute(canned()[name]["sql"]).fetchall()
    finally:
        conn.close()
    assert rows, f"{name} returned nothing on a log that has data for it"


def test_open_gaps_view_shows_the_gap_with_its_askers(log_db):
    conn = sqlite3.connect(log_db)
    conn.row_factory = sqlite3.Row
    rows = {r["wording"]: r for r in conn.execute(canned()["open_gaps"]["sql"])}
    conn.close()
    assert rows["exosomes vibe check"]["asked"] == 2 and rows["exosomes vibe check"]["askers"] == 2
    assert rows["exosomes vibe check"]["kind"] == "unsure" and "prp safety" not in rows


def test_readme_says_how_to_start_it():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "datasette serve" in readme and "deploy/datasette/metadata.yaml" in readme
