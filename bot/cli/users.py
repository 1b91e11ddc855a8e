"""The clinicians' and trainees' commands: chat, quiz, ask, and run (the Telegram bot).

Commands are thin: they build a Pipeline (with the query log as its sink) and hand it input.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys

from bot.cli.common import UsageError, knowledge_dir, local_user, safe_stdin, with_logged_pipeline
from bot.config import ConfigError, load_settings
from bot.core.loader import load_knowledge
from bot.pipeline import Pipeline, Reply
from bot.querylog.schema import QueryLogUnusable


def cmd_chat(args: argparse.Namespace) -> int:
    """A console conversation through the same pipeline as Telegram."""
    from bot.console import chat

    return with_logged_pipeline(args, lambda pipeline: chat(pipeline, safe_stdin(), sys.stdout, local_user()))


def cmd_quiz(args: argparse.Namespace) -> int:
    """The trainees' quiz in the terminal: numbered options, same scheduling as Telegram."""
    from bot.console import quiz
    from bot.querylog.progress import ProgressStore
    from bot.quizzing import QuizService

    async def body(pipeline: Pipeline) -> int:
        service = QuizService(pipeline.kb, ProgressStore(pipeline.sink))  # type: ignore[arg-type]
        return await quiz(service, " ".join(args.topic), safe_stdin(), sys.stdout, local_user())

    return with_logged_pipeline(args, body)


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer one question, or one per stdin line with ``-`` (one JSON object a line)."""
    question = " ".join(args.question).strip()
    if not question:
        raise UsageError("regenbot ask: give a question, or - to read questions from stdin")

    user = local_user()

    async def body(pipeline: Pipeline) -> int:
        if question == "-":
            for n, line in enumerate(safe_stdin()):
                reply = pipeline.ask(line.rstrip("\n"), conversation=("stdin", n), frontend="ask", user=user)
                pipeline.forget(("stdin", n))
                _print_reply(reply, args.json)
        else:
            _print_reply(pipeline.ask(question, frontend="ask", user=user), args.json)
        return 0

    return with_logged_pipeline(args, body)


def _print_reply(reply: Reply, as_json: bool) -> None:
    if as_json:
        print(json.dumps(reply.as_json(), ensure_ascii=False), flush=True)
    else:
        print(reply.plain() + "\n", flush=True)


def cmd_run(args: argparse.Namespace) -> int:
    """The Telegram bot: long polling, or a webhook with --webhook URL."""
    settings = load_settings()
    settings.require_token()
    kb = load_knowledge(knowledge_dir(args))
    from bot.telegram.app import run_polling, run_webhook
    from bot.telegram.lifecycle import CannotReachTelegram

    url = args.webhook or os.environ.get("REGENBOT_WEBHOOK_URL")
    secret = args.secret or os.environ.get("REGENBOT_WEBHOOK_SECRET") or ""
    if url:
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret):
            raise ConfigError("webhook mode needs REGENBOT_WEBHOOK_SECRET (or --secret): 16-256 of A-Z a-z 0-9 _ -")
        if not url.startswith("https://") and not url.startswith("http://127.0.0.1"):
            raise ConfigError(f"Telegram only delivers webhooks to https:// URLs, got {url!r}")
    try:
        if not url:
            return run_polling(settings, kb, knowledge=knowledge_dir(args))
        return run_webhook(
            settings, kb, url=url, listen=args.listen, port=args.port, secret=secret, knowledge=knowledge_dir(args)
        )
    except CannotReachTelegram as exc:
        print(f"regenbot: {exc}", file=sys.stderr)  # a network fault may pass: exit 1, let the supervisor retry
        return 1
    except (ConfigError, QueryLogUnusable, KeyboardInterrupt):
        raise
    except Exception:
        # Logged, not printed: the logging set up by `run` keeps the token out of the traceback.
        logging.getLogger("bot.cli").exception("regenbot run stopped by an unexpected error")
        return 1
