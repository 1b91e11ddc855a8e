"""/quiz and /score in Telegram: native quiz polls, one round of five at a time.

Quiz answers reach the bot only for non-anonymous polls it sent itself, so every poll is
sent with is_anonymous=False and remembered (bounded) by poll id; a PollAnswer for a
poll we do not know (sent before a restart, or forged) is ignored, as is a second
answer to the same poll. In groups, anyone may answer: their answer is scored for them,
but only the trainee who started the round moves it on.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from dataclasses import dataclass, field

from telegram import Bot, Poll, Update
from telegram.ext import ContextTypes

from bot.core.quiz import QUESTION_LIMIT, Round
from bot.quizzing import QuizService, UnknownTopic
from bot.telegram.services import services


@dataclass(frozen=True)
class PollRef:
    user_id: int
    chat_id: int
    item_id: str
    correct_index: int


@dataclass
class QuizState:
    """Polls in flight and rounds in progress, both bounded."""

    capacity: int = 20_000
    polls: OrderedDict[str, PollRef] = field(default_factory=OrderedDict)
    answered: OrderedDict[tuple[str, int], None] = field(default_factory=OrderedDict)
    rounds: OrderedDict[tuple[int, int], Round] = field(default_factory=OrderedDict)
    rng: random.Random = field(default_factory=random.Random)

    def remember(self, mapping: OrderedDict, key: object, value: object) -> None:
        mapping[key] = value
        mapping.move_to_end(key)
        while len(mapping) > self.capacity:
            mapping.popitem(last=False)


def _state(context: ContextTypes.DEFAULT_TYPE) -> tuple[QuizService, QuizState]:
    svc = services(context)
    return svc.quiz, svc.quiz_state


async def send_item(bot: Bot, state: QuizState, chat_id: int, user_id: int, round_: Round) -> None:
    item = round_.current
    if item is None:
        return
    options, correct = item.shuffled(state.rng)
    prefix = f"{round_.position + 1}/{len(round_.items)} · "
    question = prefix + item.question if len(prefix) + len(item.question) <= QUESTION_LIMIT else item.question
    message = await bot.send_poll(
        chat_id=chat_id,
        question=question,
        options=list(options),
        type=Poll.QUIZ,
        correct_option_ids=[correct],  # Bot API 9.6 replaced correct_option_id
        is_anonymous=False,
        explanation=item.explanation_with_citation(),
    )
    if message.poll is not None:
        state.remember(state.polls, message.poll.id, PollRef(user_id, chat_id, item.id, correct))


async def on_quiz(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, user = update.message, update.effective_user
    if message is None or user is None:
        return
    quiz, state = _state(context)
    try:
        round_ = await quiz.start(user.id, " ".join(context.args or []))
    except UnknownTopic as exc:
        await message.reply_text(str(exc) + "\nExample: /quiz exosomes or /quiz evidence")
        return
    if not round_.items:
        await message.reply_text("No questions on that topic yet. " + quiz.topics_text())
        return
    state.remember(state.rounds, (message.chat_id, user.id), round_)
    await message.reply_text(f"Quiz: {len(round_.items)} questions on {round_.label}. Tap an answer to see why.")
    await send_item(context.bot, state, message.chat_id, user.id, round_)


async def on_poll_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    answer = update.poll_answer
    if answer is None or answer.user is None or not answer.option_ids:
        return  # anonymous or retracted votes carry nothing to score
    quiz, state = _state(context)
    ref = state.polls.get(answer.poll_id)
    key = (answer.poll_id, answer.user.id)
    if ref is None or key in state.answered:
        return
    state.remember(state.answered, key, None)
    item = quiz.bank.by_id.get(ref.item_id)
    if item is None:
        return
    correct = list(answer.option_ids) == [ref.correct_index]
    round_ = state.rounds.get((ref.chat_id, ref.user_id))
    owner_turn = (
        answer.user.id == ref.user_id
        and round_ is not None
        and round_.current is not None
        and round_.current.id == ref.item_id
    )
    if not owner_turn:
        await quiz.store.record(answer.user.id, item.id, item.topic, correct)
        return
    assert round_ is not None
    await quiz.answer(answer.user.id, round_, correct)
    if round_.finished:
        state.rounds.pop((ref.chat_id, ref.user_id), None)
        await context.bot.send_message(ref.chat_id, quiz.summary(round_))
    else:
        await send_item(context.bot, state, ref.chat_id, ref.user_id, round_)


async def on_score(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, user = update.message, update.effective_user
    if message is None or user is None:
        return
    quiz, _ = _state(context)
    await message.reply_text(await quiz.score_text(user.id))
