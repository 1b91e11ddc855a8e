"""The real `regenbot run`, end to end over HTTP, against the strict stand-in Bot API server."""

from __future__ import annotations

import json
import signal
import sqlite3
import time

import pytest

from tests.support.botproc import ADMIN, last_markup, start_bot, stop_bot, texts_to, wait_text
from tests.support.fake_telegram import BOT_USERNAME, FakeTelegram


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bot")
    with FakeTelegram() as tg:
        proc = start_bot(tg, tmp)
        yield tg, proc, tmp
        if proc.poll() is None:
            stop_bot(proc)


def test_start_registers_commands_and_greets(bot):
    tg, _, _ = bot
    names = [c["command"] for c in tg.state.commands]
    assert {"start", "help", "about", "refs", "ref", "quiz", "score"} <= set(names)
    tg.send_text(101, "/start")
    text = wait_text(tg, 101, "regenbot")
    assert "not medical advice" in text


def test_help_lists_examples(bot):
    tg, _, _ = bot
    tg.send_text(102, "/help")
    assert "/ref" in wait_text(tg, 102, "Ask things like")


def test_question_with_citations_and_two_follow_ups(bot):
    tg, _, _ = bot
    tg.send_text(103, "how does PRP work")
    first = wait_text(tg, 103, "Mechanism of action")
    assert "PDGF" in first and "[10-12]" in first and "Evidence: Strong" in first
    buttons = [b["callback_data"] for row in last_markup(tg, 103)["inline_keyboard"] for b in row]
    assert buttons == [
        "a:prp-mechanism.f",  # More: the claims in full wording, with named sources
        "q:prp-mechanism",
        "a:cmp-mechanism",
        "f:+:prp-mechanism",
        "f:-:prp-mechanism",
    ]
    tg.send_text(103, "and is it safe?")
    wait_text(tg, 103, "PRP — Safety")
    tg.send_text(103, "what about exosomes?")
    assert "long-term" in wait_text(tg, 103, "Exosomes — Safety")


def test_typo_out_of_scope_and_markup_heavy_questions(bot):
    tg, _, _ = bot
    tg.send_text(104, "exosmes evidance")
    wait_text(tg, 104, "Emerging")
    tg.send_text(105, "how to inject botox")
    wait_text(tg, 105, "Not covered")
    tg.send_text(106, "<b> & > </i> what <script> is PRP &amp;")
    wait_text(tg, 106, "Platelet-rich plasma")
    assert not [c for c in tg.calls("sendMessage", ok=False) if str(c.params.get("chat_id")) in ("104", "105", "106")]


def test_very_long_question(bot):
    tg, _, _ = bot
    tg.send_text(107, ("exosome safety " + "please " * 1500)[:10_000])
    text = wait_text(tg, 107, "Exosomes — Safety")
    assert len(text) <= 4096


def test_sticker_gets_a_hint_and_edits_are_not_answered_twice(bot):
    tg, _, _ = bot
    tg.send_sticker(108)
    wait_text(tg, 108, "text questions")
    original = tg.send_text(109, "prp evidence")
    wait_text(tg, 109, "PRP — Strength of evidence")
    tg.edit_text(original, "prp safety")
    tg.send_text(109, "/help")
    wait_text(tg, 109, "Ask things like")
    assert not any("PRP — Safety" in t for t in texts_to(tg, 109))


def test_ref_command_and_refs(bot):
    tg, _, _ = bot
    tg.send_text(110, "/ref 11")
    assert "Acta Biomed" in wait_text(tg, 110, "Banihashemi M")
    tg.send_text(110, "/refs")
    assert "Arshdeep" in wait_text(tg, 110, "Domaszewska-Szostek")
    tg.send_text(110, "/about")
    assert "10.7241/ourd.20262.21" in wait_text(tg, 110, "current through")


def test_did_you_mean_button_and_forged_callback(bot):
    tg, _, _ = bot
    tg.send_text(111, "exosomes vibe check")
    wait_text(tg, 111, "not sure which part of the review")
    markup = last_markup(tg, 111)
    data = markup["inline_keyboard"][0][0]["callback_data"]
    assert data == "a:exosomes-overview" and len(data.encode()) <= 64
    message = tg.last_bot_message(111)
    assert message["reply_to_message"]["text"] == "exosomes vibe check"
    before = len(tg.calls("answerCallbackQuery"))
    tg.press(111, message, data)
    wait_text(tg, 111, "Exosomes (extracellular vesicles) — Overview")
    tg.press(111, message, "a:exosomes-nonsense")
    tg.press(111, message, "zz:garbage")
    tg.wait_for(lambda: len(tg.calls("answerCallbackQuery")) >= before + 3)
    answers = [c.params.get("text") for c in tg.calls("answerCallbackQuery")[before:]]
    assert answers.count("That button has expired — please ask the question again.") == 2


def test_feedback_button_marks_a_gap(bot):
    tg, _, tmp = bot
    tg.send_text(112, "secretome evidence")
    wait_text(tg, 112, "Secretome — Strength of evidence")
    message = tg.last_bot_message(112)
    tg.press(112, message, "f:-:secretome-evidence")
    tg.wait_for(
        lambda: any("maintainer will review" in (c.params.get("text") or "") for c in tg.calls("answerCallbackQuery"))
    )

    def feedback_logged() -> bool:
        conn = sqlite3.connect(tmp / "bot.sqlite3")
        try:
            rows = conn.execute("SELECT answer_id, question, helpful FROM feedback").fetchall()
        finally:
            conn.close()
        return ("secretome-evidence", "secretome evidence", 0) in rows

    tg.wait_for(feedback_logged)
    # The vote is marked; More, Source and Compare stay (they used to vanish with the vote).
    edit = tg.wait_for(lambda: next(iter(tg.calls("editMessageReplyMarkup")), None))
    rows = json.loads(edit.params["reply_markup"])["inline_keyboard"]
    labels = [b["text"] for row in rows for b in row]
    assert "Source" in labels and "✓ Marked not helpful" in labels and "👍 Helpful" not in labels
    before = len(tg.calls("answerCallbackQuery"))
    tg.press(112, message, "f:voted")
    tg.wait_for(lambda: len(tg.calls("answerCallbackQuery")) > before)
    assert tg.calls("answerCallbackQuery")[-1].params.get("text") == "Already noted, thank you."


def test_inline_query_offers_cards(bot):
    tg, _, _ = bot
    tg.inline(113, "prp evidence")
    call = tg.wait_for(lambda: tg.calls("answerInlineQuery"))[-1]
    results = json.loads(call.params["results"])
    assert results[0]["id"] == "prp-evidence" and "Strength of evidence" in results[0]["title"]
    tg.inline(113, "")
    tg.wait_for(lambda: len(tg.calls("answerInlineQuery")) >= 2)


def test_groups_answer_only_when_addressed(bot):
    tg, _, _ = bot
    group = -5001
    tg.send_text(114, "how does PRP work", chat_id=group, chat_type="group")
    tg.send_text(114, f"@{BOT_USERNAME} exosome evidence", chat_id=group, chat_type="group")
    wait_text(tg, group, "Exosomes — Strength of evidence")
    tg.send_text(115, "/ask and is it safe?", chat_id=group, chat_type="group")
    wait_text(tg, group, "Exosomes — Safety")
    assert not any("Mechanism" in t for t in texts_to(tg, group))


def test_maintainer_commands_are_for_admins_only(bot):
    tg, _, _ = bot
    tg.send_text(116, "/gaps")
    wait_text(tg, 116, "for the bot's maintainers")
    tg.send_text(ADMIN, "/gaps")
    wait_text(tg, ADMIN, "content gap")
    tg.send_text(ADMIN, "/stats")
    wait_text(tg, ADMIN, "questions:")


def test_forget_deletes_my_rows(bot):
    from bot.querylog.pseudonym import Pseudonymizer

    tg, _, tmp = bot
    me = Pseudonymizer((tmp / "bot.key").read_bytes().strip())(117)

    def my_rows() -> int:
        conn = sqlite3.connect(tmp / "bot.sqlite3")
        try:
            return conn.execute("SELECT COUNT(*) FROM queries WHERE user_pseudonym = ?", (me,)).fetchone()[0]
        finally:
            conn.close()

    tg.send_text(117, "exosome safety")
    wait_text(tg, 117, "Exosomes — Safety")
    tg.wait_for(lambda: my_rows() == 1)
    tg.send_text(117, "/forget")
    assert "deleted 1 logged record" in wait_text(tg, 117, "Done")
    assert my_rows() == 0


def test_quiz_round_through_native_polls(bot):
    tg, _, _ = bot
    user = 120
    tg.send_text(user, "/quiz astrology")
    assert "exosomes" in wait_text(tg, user, "There is no quiz topic")
    tg.send_text(user, "/score")
    wait_text(tg, user, "No quiz answers yet")
    tg.send_text(user, "/quiz exosomes")
    wait_text(tg, user, "Quiz: 5 questions on Exosomes")
    for k in range(5):
        polls = tg.wait_for(lambda k=k: len(tg.polls_for(user)) > k and tg.polls_for(user))
        poll = polls[k]
        call = [c for c in tg.calls("sendPoll") if c.params.get("question") == poll["question"]][-1]
        assert call.params["type"] == "quiz" and call.params["is_anonymous"] in ("false", "False", False)
        assert poll["question"].startswith(f"{k + 1}/5 · ")
        correct = poll["correct_option_id"]
        option = correct if k < 3 else (correct + 1) % len(poll["options"])
        tg.answer_poll(user, poll["id"], option)
        if k == 0:
            tg.answer_poll(user, poll["id"], (correct + 1) % len(poll["options"]))  # a second answer: ignored
            tg.answer_poll(user, "poll-unknown", 0)  # a poll we never sent: ignored
    wait_text(tg, user, "Round finished: 3/5 correct")
    assert len(tg.polls_for(user)) == 5
    tg.send_text(user, "/score")
    assert "current streak 0" in wait_text(tg, user, "Answered 5, correct 3")
    assert not tg.calls("sendPoll", ok=False)


def test_flood_control_and_bad_gateway_are_retried(bot):
    tg, _, _ = bot
    tg.inject("sendMessage", "429", retry_after=1)
    tg.inject("sendMessage", "502")
    tg.send_text(118, "prp safety")
    wait_text(tg, 118, "PRP — Safety", timeout=15)
    failed = [c.error for c in tg.calls("sendMessage", ok=False)]
    assert any("Too Many Requests" in e for e in failed) and any("Bad Gateway" in e for e in failed)


def test_burst_of_200_questions_from_50_users(bot):
    tg, _, _ = bot
    questions = ["prp evidence", "exosome safety", "what after laser?", "compare all three"]
    users = range(2000, 2050)
    start = time.monotonic()
    for i in range(4):
        for user in users:
            tg.send_text(user, questions[i])

    def all_answered() -> bool:
        return all(len(texts_to(tg, u)) >= 4 for u in users)

    tg.wait_for(all_answered, timeout=60)
    elapsed = time.monotonic() - start
    assert elapsed < 60
    print(f"burst: 200 questions answered in {elapsed:.2f}s")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sigint_flushes_everything(tmp_path, sig):
    with FakeTelegram() as tg:
        proc = start_bot(tg, tmp_path)
        for user in range(3000, 3020):
            tg.send_text(user, "exosome evidence")
        tg.wait_for(lambda: all(texts_to(tg, u) for u in range(3000, 3020)), timeout=30)
        assert stop_bot(proc, sig) == 0
    log = (tmp_path / "bot.log").read_text()
    assert tg.token not in log
    conn = sqlite3.connect(tmp_path / "bot.sqlite3")
    assert conn.execute("SELECT COUNT(*) FROM queries WHERE frontend = 'telegram'").fetchone()[0] == 20


def test_deep_link_opens_one_answer(bot):
    tg, _, _ = bot
    tg.send_text(121, "/start prp-safety")
    wait_text(tg, 121, "PRP — Safety")
    tg.send_text(121, "/start no-such-answer")
    wait_text(tg, 121, "no longer exists")


def test_a_slow_send_does_not_hold_up_other_users(bot):
    tg, _, _ = bot
    tg.inject("sendMessage", "slow", delay=2.0)
    tg.send_text(122, "prp evidence")  # its answer hits the slow send
    time.sleep(0.2)
    tg.send_text(123, "exosome evidence")
    wait_text(tg, 122, "PRP — Strength of evidence", timeout=10)
    wait_text(tg, 123, "Exosomes — Strength of evidence", timeout=10)
    tg.wait_for(lambda: all(c.done_at for c in tg.sent_to(122) + tg.sent_to(123)), timeout=10)
    slow, fast = tg.sent_to(122)[0], tg.sent_to(123)[0]
    assert fast.at > slow.at and fast.done_at < slow.done_at  # 123 was answered during 122's slow send


def test_long_gap_list_arrives_as_csv_document(bot):
    tg, _, _ = bot
    topics = [
        "botox",
        "filler",
        "thread lift",
        "sunscreen",
        "tretinoin",
        "melasma",
        "rosacea",
        "acne",
        "psoriasis",
        "eczema",
        "vitiligo",
        "cellulite",
    ]
    for i, topic in enumerate(topics):
        tg.send_text(130 + i, f"{topic} dosing")
    tg.wait_for(lambda: all(texts_to(tg, 130 + i) for i in range(len(topics))))
    tg.send_text(ADMIN, "/gaps")
    call = tg.wait_for(lambda: tg.calls("sendDocument"))[-1]
    name, content = call.params["document"]
    assert name == "regenbot-gaps.csv" and b"nearest_intent" in content and b"botox dosing" in content


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_webhook_mode_checks_the_secret_and_reports_health(tmp_path):
    import httpx

    port = free_port()
    secret = "s3cret-token-for-tests"
    with FakeTelegram() as tg:
        url = f"http://127.0.0.1:{port}/telegram"
        proc = start_bot(
            tg,
            tmp_path,
            REGENBOT_WEBHOOK_URL=url,
            REGENBOT_WEBHOOK_SECRET=secret,
            REGENBOT_WEBHOOK_LISTEN="127.0.0.1",
            REGENBOT_WEBHOOK_PORT=str(port),
        )
        try:
            tg.wait_for(lambda: tg.calls("setWebhook"))
            assert tg.state.webhook == url
            update = {
                "update_id": 1,
                "message": {
                    "message_id": 5,
                    "date": 0,
                    "text": "exosome safety",
                    "chat": {"id": 140, "type": "private", "first_name": "A"},
                    "from": {"id": 140, "is_bot": False, "first_name": "A"},
                },
            }
            health = tg.wait_for(lambda: _get(httpx, f"http://127.0.0.1:{port}/healthz"))
            assert health["ok"] is True and health["kb_version"]
            assert httpx.post(url, json=update).status_code == 403
            assert httpx.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}).status_code == 403
            assert not texts_to(tg, 140)
            ok = httpx.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret})
            assert ok.status_code == 200
            wait_text(tg, 140, "Exosomes — Safety")
        finally:
            assert stop_bot(proc) == 0


def _get(httpx, url: str):
    try:
        response = httpx.get(url, timeout=1)
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 200 else None


def _last_with_buttons(tg: FakeTelegram, chat: int) -> dict | None:
    """The server logs a call before it stores the message: wait for the stored one."""
    try:
        return tg.last_bot_message(chat)
    except ValueError:
        return None


def test_more_source_and_compare_buttons(bot):
    """The point first; the rest of the section, the review's own sentences and the same
    aspect for all three biologics are each one tap away."""
    tg, _, _ = bot
    tg.send_text(131, "exosomes mechanism")
    wait_text(tg, 131, "Exosomes — Mechanism of action")
    message = tg.wait_for(lambda: next((m for m in [_last_with_buttons(tg, 131)] if m), None))
    buttons = {b["text"]: b["callback_data"] for row in last_markup(tg, 131)["inline_keyboard"] for b in row}
    assert {"More ▸", "Source", "Compare"} <= set(buttons)
    assert all(len(data.encode()) <= 64 for data in buttons.values())
    first = texts_to(tg, 131)[-1]
    tg.press(131, message, buttons["More ▸"])
    full = tg.wait_for(lambda: next((t for t in texts_to(tg, 131) if "Sources:" in t), None))
    assert len(full) > len(first)
    tg.press(131, message, buttons["Source"])
    quotes = wait_text(tg, 131, "In the review's words")
    assert "— Exosomes" in quotes and "“" in quotes
    tg.press(131, message, buttons["Compare"])
    wait_text(tg, 131, "PRP vs Secretome vs Exosomes — Mechanism of action")
    before = len(tg.calls("answerCallbackQuery"))
    tg.press(131, message, "q:exosomes-bogus")
    tg.wait_for(lambda: len(tg.calls("answerCallbackQuery")) > before)
    assert (
        tg.calls("answerCallbackQuery")[-1].params.get("text")
        == "That button has expired — please ask the question again."
    )


def test_an_update_the_library_cannot_parse_is_skipped_and_the_rest_answered(bot):
    """A poll answer missing a field python-telegram-bot requires used to stop polling (exit 1,
    and every restart fetched the same batch): now it is skipped, acknowledged, and the
    question behind it answered."""
    tg, proc, _ = bot
    tg.push({"poll_answer": {"poll_id": "broken"}})  # no user, no option_ids
    tg.send_text(197, "how does PRP work")
    assert "PDGF" in wait_text(tg, 197, "Mechanism of action", timeout=30)
    assert proc.poll() is None  # still running
    tg.send_text(197, "is it safe?")
    wait_text(tg, 197, "PRP — Safety", timeout=30)
