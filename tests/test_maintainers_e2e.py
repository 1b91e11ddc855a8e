"""Issue 13 end to end: the real `regenbot run` and `regenbot teach` against the stand-in Bot API.

A gap is closed in one command plus /reload, no restart; the Telegram "Teach…" buttons do
it in one tap; an invalid knowledge base is refused; follow-up context survives a reload;
"Ask the maintainers" relays a redacted question under a pseudonym and brings the answer
back; a burst of questions during reloads is answered exactly once.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from bot.pipeline import DEFAULT_KNOWLEDGE_DIR
from tests.support.botproc import (
    ADMIN,
    REPO,
    bot_env,
    last_markup,
    replies_by_question,
    start_bot,
    stop_bot,
    texts_to,
    wait_text,
)
from tests.support.fake_telegram import BOT_ID, FakeTelegram

EXPERTS = -100777
MAINTAINER = 77


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("maint")
    knowledge = tmp / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, knowledge)
    with FakeTelegram() as tg:
        env = {"REGENBOT_KNOWLEDGE": str(knowledge), "REGENBOT_EXPERT_CHAT_ID": str(EXPERTS)}
        proc = start_bot(tg, tmp, **env)
        yield tg, proc, tmp, knowledge
        if proc.poll() is None:
            stop_bot(proc)


def regenbot(tg, tmp, knowledge, *args: str) -> subprocess.CompletedProcess:
    env = bot_env(tg, tmp, REGENBOT_KNOWLEDGE=str(knowledge))
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def buttons(tg, chat: int) -> list[str]:
    return [b["callback_data"] for row in last_markup(tg, chat)["inline_keyboard"] for b in row]


def count_text(tg, chat: int, needle: str) -> int:
    return sum(needle in t for t in texts_to(tg, chat))


def test_a_gap_closed_with_one_command_and_reload_no_restart(bot):
    tg, proc, tmp, knowledge = bot
    tg.send_text(301, "exosomes vibe check")
    wait_text(tg, 301, "not sure which part of the review")

    done = regenbot(tg, tmp, knowledge, "teach", "exosomes vibe check", "exosomes-evidence")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "taught 1 phrasing(s) for exosomes-evidence" in done.stdout
    assert "'exosomes vibe check': unsure -> exosomes-evidence" in done.stdout  # what replay now answers differently
    assert "/reload" in done.stdout and "kill -HUP" in done.stdout
    learnt = (knowledge / "learnt.yaml").read_text()
    assert learnt.startswith("# Phrasings maintainers taught") and '"exosomes vibe check"' in learnt

    tg.send_text(ADMIN, "/reload")
    reloaded = wait_text(tg, ADMIN, "Knowledge base reloaded: version")
    assert "+learnt1." in reloaded
    tg.send_text(301, "exosomes vibe check")
    tg.wait_for(lambda: count_text(tg, 301, "Exosomes — Strength of evidence") == 1)
    assert proc.poll() is None  # the same process all along
    tg.send_text(301, "/about")
    assert "+learnt1." in wait_text(tg, 301, "Knowledge base version")


def test_teach_buttons_work_in_private_only_and_close_the_gap(bot):
    tg, _, tmp, knowledge = bot
    tg.send_text(302, "secretome yay or nay")
    wait_text(tg, 302, "not sure which part of the review")
    tg.send_text(ADMIN, "/gaps", chat_id=-5001, chat_type="group")
    wait_text(tg, -5001, "works only in a private chat")
    assert not any("yay or nay" in t for t in texts_to(tg, -5001))

    tg.send_text(ADMIN, "/gaps")
    listing = wait_text(tg, ADMIN, "open content gap")
    assert "secretome yay or nay" in listing and "unsure" in listing
    gaps = json.loads(regenbot(tg, tmp, knowledge, "gaps", "--format", "json").stdout)
    gap = next(g["id"] for g in gaps if g["examples"][0] == "secretome yay or nay")
    assert f"g:{gap}" in buttons(tg, ADMIN)
    tg.press(ADMIN, tg.last_bot_message(ADMIN), f"g:{gap}")
    offer = wait_text(tg, ADMIN, f"Teach gap {gap}")
    assert "secretome yay or nay" in offer
    offered = buttons(tg, ADMIN)
    assert f"g:{gap}:secretome-evidence" in offered and f"g:{gap}:-" in offered
    # The Teach… buttons refuse anyone else.
    tg.press(303, tg.last_bot_message(ADMIN), f"g:{gap}:secretome-evidence")
    tg.wait_for(
        lambda: any(
            "for the bot's maintainers" in (c.params.get("text") or "") for c in tg.calls("answerCallbackQuery")
        )
    )
    tg.press(ADMIN, tg.last_bot_message(ADMIN), f"g:{gap}:secretome-evidence")
    done = wait_text(tg, ADMIN, f"phrasing(s) of gap {gap} for secretome-evidence", timeout=30)
    assert "Knowledge base reloaded" in done and "gap marked resolved" in done
    assert "+learnt2." in done
    tg.send_text(302, "secretome yay or nay")
    wait_text(tg, 302, "Secretome — Strength of evidence")
    listed = regenbot(tg, tmp, knowledge, "gaps", "--all", "--format", "json")
    states = {g["id"]: g["state"] for g in json.loads(listed.stdout)}
    assert states.get(gap) == "resolved"


def test_an_invalid_knowledge_base_is_refused_and_the_old_one_keeps_serving(bot):
    tg, _, _, knowledge = bot
    learnt = knowledge / "learnt.yaml"
    good = learnt.read_text()
    learnt.write_text(good + '  - phrase: "prp for everything"\n    answer: prp-nonsense\n')
    try:
        tg.send_text(ADMIN, "/reload")
        refused = wait_text(tg, ADMIN, "Reload refused")
        assert "prp-nonsense" in refused and "still serving version" in refused
        tg.send_text(304, "prp safety")
        wait_text(tg, 304, "PRP — Safety")
    finally:
        learnt.write_text(good)


def test_follow_up_context_survives_a_reload(bot):
    tg, proc, tmp, _ = bot
    tg.send_text(305, "how does PRP work")
    wait_text(tg, 305, "Mechanism of action")
    proc.send_signal(signal.SIGHUP)
    tg.wait_for(lambda: (tmp / "bot.log").read_text().count("knowledge base reloaded") >= 1)
    tg.send_text(305, "and is it safe?")
    wait_text(tg, 305, "PRP — Safety")


def test_ask_the_maintainers_relays_a_redacted_question_and_the_answer_back(bot):
    tg, _, tmp, knowledge = bot
    question = tg.send_text(306, "how to inject botox for dr.siti@example.com")
    wait_text(tg, 306, "Not covered")
    assert "x:not_covered" in buttons(tg, 306)
    tg.press(306, tg.last_bot_message(306), "x:not_covered")
    relayed = wait_text(tg, EXPERTS, "Question for the maintainers")
    assert "[email]" in relayed and "siti" not in relayed and "306" not in relayed and "Dr306" not in relayed
    tg.wait_for(
        lambda: any("Sent to the maintainers" in (c.params.get("text") or "") for c in tg.calls("answerCallbackQuery"))
    )
    wait_text(tg, 306, "Sent to the maintainers — their answer will come here.")  # a message, not only a pop-up
    bot_message = max(
        (m for (chat, _), m in tg.state.messages.items() if chat == EXPERTS and m["from"]["id"] == BOT_ID),
        key=lambda m: m["message_id"],
    )
    tg.send_text(
        MAINTAINER,
        "The review does not discuss botulinum toxin; see its Table 2 for what it does cover.",
        chat_id=EXPERTS,
        chat_type="supergroup",
        reply_to=bot_message,
    )
    answer = wait_text(tg, 306, "A maintainer answered your question")
    assert "botulinum toxin" in answer and "how to inject botox" in answer
    reply_to = next(c for c in tg.sent_to(306) if "A maintainer answered" in (c.params.get("text") or ""))
    assert json.loads(reply_to.params["reply_parameters"])["message_id"] == question["message_id"]
    wait_text(tg, EXPERTS, "Sent to user")

    conn = sqlite3.connect(tmp / "bot.sqlite3")
    try:
        rows = conn.execute("SELECT question, answer, asker_ref, user_pseudonym FROM expert_requests").fetchall()
    finally:
        conn.close()
    assert rows and "botulinum" in rows[0][1] and "siti" not in rows[0][0]
    assert "306" not in rows[0][2] and rows[0][3] and "306" not in rows[0][3]
    gaps = json.loads(regenbot(tg, tmp, knowledge, "gaps", "--format", "json").stdout)
    assert any(any("botulinum" in a for a in g["maintainer_answers"]) for g in gaps)

    # A few a day: the fourth is refused with a reason, and nothing more reaches the group.
    for n, text in enumerate(("how to inject fillers", "best laser for melasma", "thread lift cost")):
        tg.send_text(306, text)
        tg.wait_for(
            lambda n=n: (
                len([c for c in tg.sent_to(306) if "x:not_covered" in (c.params.get("reply_markup") or "")]) >= n + 2
            )
        )
        tg.press(306, tg.last_bot_message(306), "x:not_covered")
    tg.wait_for(lambda: any("questions a day" in (c.params.get("text") or "") for c in tg.calls("answerCallbackQuery")))
    assert sum("Question for the maintainers" in t for t in texts_to(tg, EXPERTS)) == 3


def test_a_burst_during_reloads_is_answered_exactly_once(tmp_path):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, knowledge)
    with FakeTelegram() as tg:
        proc = start_bot(tg, tmp_path, REGENBOT_KNOWLEDGE=str(knowledge))
        try:
            questions = (
                "prp safety",
                "exosomes evidence",
                "how does secretome work",
                "compare them",
                "what after laser?",
            )
            sent = []
            for n in range(200):
                user = 1000 + n % 100  # 2 each: under the per-user rate limit
                sent.append(tg.send_text(user, questions[n % len(questions)]))
                if n in (40, 100, 160):
                    proc.send_signal(signal.SIGHUP)
                if n == 120:
                    tg.send_text(ADMIN, "/reload")
                time.sleep(0.002)
            expected = {(m["chat"]["id"], m["message_id"]) for m in sent}
            tg.wait_for(lambda: expected <= set(replies_by_question(tg)), timeout=60)
            time.sleep(0.5)  # anything answered twice would have arrived by now
            counts = replies_by_question(tg)
            assert all(counts[key] == 1 for key in expected), "a question was answered twice"
            log = (tmp_path / "bot.log").read_text()
            assert log.count("knowledge base reloaded") >= 3
            wait_text(tg, ADMIN, "Knowledge base reloaded")
            print(f"\nburst during reloads: {len(expected)} questions, {len(expected)} answered once, 0 lost")
        finally:
            stop_bot(proc)
        assert proc.returncode == 0
        assert os.path.exists(tmp_path / "bot.sqlite3")


def test_digest_on_and_off_per_admin(bot):
    tg, _, _, _ = bot
    tg.send_text(ADMIN, "/digest off")
    wait_text(tg, ADMIN, "turned off for you")
    tg.send_text(ADMIN, "/digest")
    wait_text(tg, ADMIN, "gap alerts are off")
    tg.send_text(ADMIN, "/digest on")
    wait_text(tg, ADMIN, "turned on for you")
    tg.send_text(308, "/digest off")
    wait_text(tg, 308, "for the bot's maintainers")
