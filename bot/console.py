"""The console front ends: `regenbot chat` and `regenbot quiz`, through the same services.

Input is read in a worker thread so the query log keeps writing in the background while
the user thinks. Bad input (an unknown command, a non-number as a quiz answer) gets a
clear message and loses nothing.
"""

from __future__ import annotations

import asyncio
import re
import threading
from typing import TextIO

from bot.pipeline import Pipeline, Reply
from bot.quizzing import CONSOLE, QuizService, UnknownTopic

CHAT_HELP = """Ask anything about PRP, MSC secretome or exosomes for aging skin, e.g.
  how does PRP work · exosomes evidence · PRP vs secretome safety · what after laser?
Follow-ups work: "and is it safe?", "what about exosomes?".
Type a suggestion's number ("2", "the second") to pick it; "more" shows the rest of the
last answer, "sources" its references, /source the review's own sentences behind it.
Commands: /more, /source, /ref N, /refs, /about, /help, /quit."""


MORE_HINT = "(type “more” for the rest, /source for the review's own sentences)"
SOURCE_HINT = "(/source for the review's own sentences)"


async def _readline(stdin: TextIO, stdout: TextIO, prompt: str) -> str | None:
    """One line of input without blocking the event loop (the query log keeps writing).

    A daemon thread, not the default executor: on Ctrl-C, asyncio.run waits for executor
    threads, and one blocked in readline would hang the exit until Enter is pressed.
    """
    if stdin.isatty():
        print(prompt, end="", file=stdout, flush=True)
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def deliver(outcome: str | BaseException) -> None:
        if future.done():
            return
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)

    def read() -> None:
        try:
            outcome: str | BaseException = stdin.readline()
        except (OSError, ValueError) as exc:
            outcome = exc
        loop.call_soon_threadsafe(deliver, outcome)

    threading.Thread(target=read, name="console-input", daemon=True).start()
    line = await future
    return line if line else None


async def chat(pipeline: Pipeline, stdin: TextIO, stdout: TextIO, user: str) -> int:
    interactive = stdin.isatty()
    print(f"regenbot — knowledge base {pipeline.kb.version}. {CHAT_HELP}", file=stdout)
    while True:
        line = await _readline(stdin, stdout, "\nyou> ")
        if not line:
            print("", file=stdout)
            return 0
        text = line.strip()
        if not text:
            continue
        if text in ("/quit", "/exit", "quit", "exit"):
            return 0
        if text in ("/help", "help", "/start"):
            print(CHAT_HELP, file=stdout)
            continue
        reply: Reply | None = None
        if text.startswith("/"):
            reply = _slash(pipeline, text, user)
            if reply is None:
                print("Unknown command. " + CHAT_HELP, file=stdout)
                continue
        if reply is None:  # picking a suggestion ("2", "the second") is the pipeline's job
            reply = pipeline.ask(text, frontend="console", user=user)
        body = reply.plain()
        for n, s in enumerate(reply.answer.suggestions, 1):
            body = body.replace(f"• {s.label}", f"{n}. {s.label}", 1)
        if reply.answer.answered and reply.answer.claims:
            body += "\n" + (MORE_HINT if reply.answer.more else SOURCE_HINT)
        print(("\n" if not interactive else "") + body, file=stdout, flush=True)


def _slash(pipeline: Pipeline, text: str, user: str) -> Reply | None:
    command, _, rest = text[1:].partition(" ")
    if command == "ref":
        question = f"reference {rest.strip()}" if rest.strip() else "references"
        return pipeline.ask(question, frontend="console", user=user)
    if command in ("refs", "about"):
        return pipeline.ask_id("about.f" if command == "about" else command, frontend="console", user=user)
    if command == "source":  # the review's own sentences behind the last answer
        return pipeline.ask("source sentence", frontend="console", user=user)
    if command == "more":
        return pipeline.ask("more", frontend="console", user=user)
    return None


async def quiz(service: QuizService, topic: str, stdin: TextIO, stdout: TextIO, user: str) -> int:
    while True:
        try:
            round_ = await service.start(user, topic)
        except UnknownTopic as exc:
            print(str(exc).replace(service.topics_text(), service.topics_text(CONSOLE)), file=stdout)
            return 2
        if not round_.items:
            print("No questions on that topic yet. " + service.topics_text(CONSOLE), file=stdout)
            return 2
        print(
            f"Quiz: {len(round_.items)} questions on {round_.label}. "
            "Answer with the option's number or letter (2, 2., b or B)); q quits.",
            file=stdout,
        )
        while (item := round_.current) is not None:
            options, correct = item.shuffled(service.rng)
            print(f"\nQ{round_.position + 1}/{len(round_.items)}. {item.question}", file=stdout)
            for n, option in enumerate(options):
                print(f"  {n + 1}. ({chr(ord('a') + n)}) {option}", file=stdout)
            choice = await _ask_choice(stdin, stdout, len(options))
            if choice is None:
                print("Stopped; your answers so far are saved.", file=stdout)
                return 0
            ok = choice == correct
            await service.answer(user, round_, ok)
            verdict = "Correct." if ok else f"Not quite — the answer is: {options[correct]}."
            print(f"{verdict} {item.explanation_with_citation()}", file=stdout)
        weak = await service.weakest_topic(user)
        summary = QuizService.summary(round_.correct, len(round_.items), round_.label, weak, CONSOLE)
        print("\n" + summary, file=stdout)
        print(await service.score_text(user, commands=CONSOLE), file=stdout)
        again = await _readline(stdin, stdout, "Another round? [y/N] ")
        if not again or again.strip().lower() not in ("y", "yes"):
            return 0


_CHOICE = re.compile(r"^\(?\s*([0-9]+|[a-z])\s*[.):]?$")


def parse_choice(text: str, count: int) -> int | None:
    """The option a trainee meant, 0-based: "3", "3.", "3)", "c", "C)", "(c)" -> 2."""
    m = _CHOICE.match(text.strip().lower())
    if not m:
        return None
    token = m.group(1)
    index = int(token) - 1 if token.isdigit() else ord(token) - ord("a")
    return index if 0 <= index < count else None


async def _ask_choice(stdin: TextIO, stdout: TextIO, count: int) -> int | None:
    last = chr(ord("a") + count - 1)
    while True:
        line = await _readline(stdin, stdout, "answer> ")
        if line is None:
            return None
        text = line.strip().lower()
        if text in ("q", "quit", "/quit"):
            return None
        choice = parse_choice(text, count)
        if choice is not None:
            return choice
        print(
            f"Please answer with a number from 1 to {count} or a letter from a to {last} (or q to stop).", file=stdout
        )
