"""/quiz and /score in Telegram: native quiz polls, rounds that survive restarts, group rounds.

Quiz answers reach the bot only for non-anonymous polls it sent itself, so every poll is
sent with is_anonymous=False and recorded (poll id, round, correct option) in SQLite
before anyone can answer it. A PollAnswer is looked up there, so a poll sent before a
restart is scored after it and the round goes on; a poll the bot never sent is ignored,
and so is a second answer to the same poll (the first one counts, as in Telegram).

In a private chat the trainee's own Leitner schedule picks the items. In a group, /quiz
starts a shared round of new items: every member's answers are scored (for the group's
board and for each member's own progress), the round moves on when the member who started
it answers, and the end brings a leaderboard. The group's board is /score there. Members
are stored as pseudonyms only; their names are taken from the updates the bot sees and
kept in memory, never written down. A round sends at most seven messages (intro, five
polls, board), within Telegram's 20 messages a minute per group; AIORateLimiter paces
anything beyond that.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from html import escape

from telegram import Bot, Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Poll, Update, User
from telegram.constants import ChatType
from telegram.error import Forbidden
from telegram.ext import ContextTypes

from bot.core.quiz import QUESTION_LIMIT
from bot.core.reminders import zone_info
from bot.querylog.rounds import PollRow, QuizDB, RoundRow, Standing
from bot.quizzing import TELEGRAM, QuizService, UnknownTopic
from bot.telegram.services import Services, services

log = logging.getLogger(__name__)

# A group round nobody has moved on for this long may be replaced by anyone's /quiz.
STALE_GROUP_ROUND = 15 * 60.0
BUTTON_PREFIX = "qz:"
# How long an answer to an unknown poll waits for polls still being sent.
SEND_WAIT = 30.0


@dataclass
class QuizState:
    """The quiz's database, and what only this process knows: names seen in updates
    (never stored) and one lock per round, so two answers cannot both move it on."""

    db: QuizDB | None = None
    capacity: int = 20_000
    names: OrderedDict[str, str] = field(default_factory=OrderedDict)
    locks: OrderedDict[int, asyncio.Lock] = field(default_factory=OrderedDict)
    rng: random.Random = field(default_factory=random.Random)
    # Polls being sent and not yet recorded: an answer can overtake the record of its poll.
    sending: set[asyncio.Event] = field(default_factory=set)

    def seen(self, pseudonym: str, user: User) -> None:
        self.names[pseudonym] = user.full_name
        self.names.move_to_end(pseudonym)
        while len(self.names) > self.capacity:
            self.names.popitem(last=False)

    def name(self, pseudonym: str) -> str:
        """The member's name from the latest update, or a stable stand-in after a restart."""
        return self.names.get(pseudonym) or f"Trainee {pseudonym[:4]}"

    def lock(self, round_id: int) -> asyncio.Lock:
        lock = self.locks.get(round_id)
        if lock is None:
            lock = self.locks[round_id] = asyncio.Lock()
            while len(self.locks) > self.capacity:
                oldest, held = next(iter(self.locks.items()))
                if held.locked():
                    break
                del self.locks[oldest]
        return lock

    @property
    def store(self) -> QuizDB:
        if self.db is None:
            raise RuntimeError("the quiz database is not open")
        return self.db


def _parts(context: ContextTypes.DEFAULT_TYPE) -> tuple[Services, QuizService, QuizState]:
    svc = services(context)
    return svc, svc.quiz, svc.quiz_state


def _pseudonym(svc: Services, user_id: int) -> str:
    return svc.qlog.pseudonymize(user_id) or ""


def _topic_button(topic: str) -> InlineKeyboardMarkup:
    """One tap starts a round on ``topic`` (a command in text cannot carry its argument)."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(TELEGRAM.quiz_on(topic), callback_data=BUTTON_PREFIX + topic)]])


async def send_item(bot: Bot, state: QuizState, quiz: QuizService, row: RoundRow, chat_id: int) -> RoundRow:
    """Send the round's current item as a quiz poll and record the poll before returning.

    An item that has left the knowledge base since the round began is skipped."""
    while not row.finished:
        item = quiz.bank.by_id.get(row.items[row.position])
        if item is not None:
            break
        row = replace(row, position=row.position + 1)
        await state.store.advance(row.id, row.position, row.correct, "open", quiz.now())
    else:
        return row
    options, correct = item.shuffled(state.rng)
    prefix = f"{row.position + 1}/{len(row.items)} · "
    question = prefix + item.question if len(prefix) + len(item.question) <= QUESTION_LIMIT else item.question
    recorded = asyncio.Event()
    state.sending.add(recorded)
    try:
        message = await bot.send_poll(
            chat_id=chat_id,
            question=question,
            options=list(options),
            type=Poll.QUIZ,
            correct_option_ids=[correct],  # Bot API 9.6 replaced correct_option_id
            is_anonymous=False,
            explanation=item.explanation_with_citation(),
            # Plain text: "PRP > secretome" is not markup, whatever the bot's default parse mode.
            explanation_parse_mode=None,
            question_parse_mode=None,
        )
        if message.poll is not None:
            await state.store.add_poll(message.poll.id, row.id, row.position, item.id, correct)
    finally:
        state.sending.discard(recorded)
        recorded.set()
    return row


async def _find_poll(state: QuizState, poll_id: str) -> PollRow | None:
    """The poll's record; if it is not there yet, after the sends in flight have finished
    (a quick trainee's answer can arrive before the bot has written down the poll)."""
    poll = await state.store.poll(poll_id)
    if poll is None and state.sending:
        pending = [asyncio.create_task(event.wait()) for event in list(state.sending)]
        await asyncio.wait(pending, timeout=SEND_WAIT)
        for task in pending:
            task.cancel()
        poll = await state.store.poll(poll_id)
    return poll


async def on_quiz(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/quiz [topic], and /quiz stop."""
    message, user = update.message, update.effective_user
    if message is None or user is None:
        return
    args = context.args or []
    if args and args[0].lower() in ("stop", "end"):
        await stop_round(message, user, context)
        return
    await start_round(context, message.chat, user, " ".join(args), message)


async def start_round(
    context: ContextTypes.DEFAULT_TYPE, chat: Chat, user: User, topic_text: str, message: Message | None = None
) -> None:
    svc, quiz, state = _parts(context)
    pseudonym = _pseudonym(svc, user.id)
    state.seen(pseudonym, user)
    group = chat.type != ChatType.PRIVATE
    chat_key = f"g:{chat.id}" if group else f"u:{pseudonym}"
    now = quiz.now()

    async def say(text: str, markup: InlineKeyboardMarkup | None = None) -> None:
        if message is not None:
            await message.reply_text(escape(text, quote=False), reply_markup=markup)
        else:
            await context.bot.send_message(chat.id, escape(text, quote=False), reply_markup=markup)

    if group:
        current = await state.store.open_round(chat_key)
        if current is not None and current.host != pseudonym and now - current.updated_at < STALE_GROUP_ROUND:
            await say(
                f"A group round is running here ({current.position}/{len(current.items)} answered by "
                f"{state.name(current.host)}). Answer the open poll; {state.name(current.host)} can end it "
                "with /quiz stop."
            )
            return
    try:
        round_ = await quiz.start(user.id, topic_text, now, personal=not group)
    except UnknownTopic as exc:
        await say(str(exc))
        return
    if not round_.items:
        await say("No questions on that topic yet. " + quiz.topics_text())
        return
    row = await state.store.start_round(
        pseudonym, chat_key, chat.id if group else None, round_.label, [i.id for i in round_.items], now
    )
    if not group:
        await state.store.touch_reminder(pseudonym)
    if group:
        host = state.name(pseudonym)
        await say(
            f"Group quiz: {len(round_.items)} questions on {round_.label}, started by {host}. Everyone can "
            f"answer; the round moves on when {host} answers, and ends with a leaderboard. "
            "/score shows this group's board."
        )
    else:
        await say(f"Quiz: {len(round_.items)} questions on {round_.label}. Tap an answer to see why.")
    await _send_or_stop(context.bot, state, quiz, row, chat.id)


async def _send_or_stop(bot: Bot, state: QuizState, quiz: QuizService, row: RoundRow, chat_id: int) -> None:
    try:
        await send_item(bot, state, quiz, row, chat_id)
    except Forbidden:  # the trainee blocked the bot, or it left the group
        await state.store.advance(row.id, row.position, row.correct, "stopped", quiz.now())


async def on_poll_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    answer = update.poll_answer
    if answer is None or answer.user is None or not answer.option_ids:
        return  # anonymous or retracted votes carry nothing to score
    svc, quiz, state = _parts(context)
    poll = await _find_poll(state, answer.poll_id)
    if poll is None:
        return  # a poll the bot never sent
    pseudonym = _pseudonym(svc, answer.user.id)
    state.seen(pseudonym, answer.user)
    correct = list(answer.option_ids) == [poll.correct_option]
    now = quiz.now()
    if await state.store.record_answer(poll, pseudonym, correct):
        item = quiz.bank.by_id.get(poll.item_id)
        if item is not None:
            await quiz.record(answer.user.id, item, correct, now)
    else:
        # A repeat (or a redelivery after a crash): the first answer counts, but the round
        # must still move on if that answer was stored and the crash came before it did.
        first = await state.store.answer_correct(poll.poll_id, pseudonym)
        correct = bool(first)
    async with state.lock(poll.round_id):
        row = await state.store.round(poll.round_id)
        if row is None or row.state != "open" or row.host != pseudonym or row.position != poll.position:
            return  # not the host's turn: scored for the member and the board only
        position, score = row.position + 1, row.correct + int(correct)
        done = position >= len(row.items)
        await state.store.advance(row.id, position, score, "finished" if done else "open", now)
        row = replace(row, position=position, correct=score, state="finished" if done else "open")
        chat_id = row.group_chat_id if row.group_chat_id is not None else answer.user.id
        if done:
            await finish(context, row, chat_id, answer.user.id)
        else:
            await _send_or_stop(context.bot, state, quiz, row, chat_id)


async def finish(context: ContextTypes.DEFAULT_TYPE, row: RoundRow, chat_id: int, host_id: int) -> None:
    """The trainee's summary with the weakest topic, or the group's leaderboard."""
    _, quiz, state = _parts(context)
    if row.is_group:
        board = await state.store.leaderboard(row.id)
        title = f"Group quiz finished: {len(row.items)} questions on {row.label}."
        text = render_board(title, board, state, total=len(row.items))
        text += "\n/quiz for another round · /score for this group's board over all rounds."
        await context.bot.send_message(chat_id, escape(text, quote=False))
        return
    weak = await quiz.weakest_topic(host_id)
    summary = QuizService.summary(row.correct, len(row.items), row.label, weak, TELEGRAM)
    markup = _topic_button(weak.topic) if weak is not None else None
    await context.bot.send_message(chat_id, escape(summary, quote=False), reply_markup=markup)


def render_board(
    title: str, board: list[Standing], state: QuizState, total: int | None = None, rounds: bool = False
) -> str:
    """Ranked lines ("2. Dr Sari — 4/5 right"); members level on right and wrong answers
    share a place. Without ``total``, each line says how many the member answered."""
    if not board:
        return f"{title}\nNo answers yet."
    lines = [title]
    place, previous = 0, None
    for k, s in enumerate(board, 1):
        key = (s.correct, s.answered)
        if key != previous:
            place, previous = k, key
        score = f"{s.correct}/{total}" if total is not None else f"{s.correct} of {s.answered}"
        played = f" · {s.rounds} round{'s' if s.rounds != 1 else ''}" if rounds else ""
        lines.append(f"{place}. {state.name(s.pseudonym)} — {score} right{played}")
    return "\n".join(lines)


async def stop_round(message: Message, user: User, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, quiz, state = _parts(context)
    pseudonym = _pseudonym(svc, user.id)
    state.seen(pseudonym, user)
    group = message.chat.type != ChatType.PRIVATE
    row = await state.store.open_round(f"g:{message.chat_id}" if group else f"u:{pseudonym}")
    if row is None:
        await message.reply_text("No round is running here. /quiz starts one.")
        return
    if group and row.host != pseudonym:
        refusal = f"Only {state.name(row.host)}, who started this round, can stop it."
        await message.reply_text(escape(refusal, quote=False))
        return
    await state.store.advance(row.id, row.position, row.correct, "stopped", quiz.now())
    if group:
        board = await state.store.leaderboard(row.id)
        title = f"Group quiz stopped after {row.position} of {len(row.items)} questions on {row.label}."
        await message.reply_text(escape(render_board(title, board, state), quote=False))
        return
    await message.reply_text(
        f"Round stopped after {row.position} of {len(row.items)}; your answers so far are saved. "
        "/quiz starts a new round, /score shows your progress."
    )


async def on_score(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, user = update.message, update.effective_user
    if message is None or user is None:
        return
    svc, quiz, state = _parts(context)
    pseudonym = _pseudonym(svc, user.id)
    state.seen(pseudonym, user)
    if message.chat.type != ChatType.PRIVATE:
        board = await state.store.board(f"g:{message.chat_id}")
        text = render_board("This group's board, all rounds played here:", board, state, rounds=True)
        text += "\n/quiz starts a group round; /score in a private chat with me shows your own progress."
        await message.reply_text(escape(text, quote=False))
        return
    zone = await state.store.zone(pseudonym)
    text = await quiz.score_text(user.id, tz=zone_info(zone or "UTC"))
    weak = await quiz.weakest_topic(user.id)
    await message.reply_text(escape(text, quote=False), reply_markup=_topic_button(weak.topic) if weak else None)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The one-tap "/quiz TOPIC" under a summary or a score."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    await query.answer()
    topic = (query.data or "")[len(BUTTON_PREFIX) :]
    message = query.message if isinstance(query.message, Message) else None
    chat = message.chat if message is not None else Chat(query.from_user.id, ChatType.PRIVATE)
    await start_round(context, chat, query.from_user, topic)
