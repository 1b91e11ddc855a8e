"""What every ``regenbot`` command shares: the knowledge directory, the query log, stdin."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from bot.config import ConfigError, load_settings
from bot.core.loader import load_knowledge
from bot.pipeline import DEFAULT_KNOWLEDGE_DIR, Pipeline

EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input on the command line: printed as one line, exit code 2."""


def knowledge_dir(args: argparse.Namespace) -> Path:
    return Path(args.knowledge or os.environ.get("REGENBOT_KNOWLEDGE") or DEFAULT_KNOWLEDGE_DIR)


def safe_stdin() -> TextIO:
    """Standard input that cannot raise on bad bytes: anything undecodable becomes U+FFFD.

    A pasted note or a replayed log with one broken byte must not end the session (or,
    with surrogateescape, smuggle unencodable text into the query log).
    """
    stdin = sys.stdin
    reconfigure = getattr(stdin, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(ValueError, OSError):
            reconfigure(encoding="utf-8", errors="replace")
    return stdin


def local_user() -> str:
    """Console questions are logged under the (pseudonymised) login name."""
    try:
        return "local:" + getpass.getuser()
    except (KeyError, OSError):
        return "local:unknown"


def with_logged_pipeline(args: argparse.Namespace, body: Callable[[Pipeline], Awaitable[int]]) -> int:
    """Run ``body`` with a pipeline whose questions go to the query log (REGENBOT_DB)."""
    from bot.querylog.writer import QueryLog

    settings = load_settings()
    kb = load_knowledge(knowledge_dir(args))

    async def run() -> int:
        qlog = QueryLog.from_settings(settings)
        await qlog.open()
        try:
            return await body(Pipeline(kb, sink=qlog))
        finally:
            await qlog.close()

    return asyncio.run(run())


def open_log_db() -> sqlite3.Connection:
    from bot.querylog.schema import check_shared_memory, connect

    settings = load_settings()
    if not settings.db_path.exists():
        raise UsageError(f"no query log yet at {settings.db_path} (set REGENBOT_DB, or ask the bot something first)")
    check_shared_memory(settings.db_path)
    return connect(settings.db_path)


def database_problem(exc: sqlite3.Error) -> str:
    """One line a maintainer can act on, for a query log SQLite refuses to read or write."""
    from bot.querylog.schema import is_corrupt

    try:
        where = str(load_settings().db_path)
    except ConfigError:
        where = "REGENBOT_DB"
    if is_corrupt(exc):
        return (
            f"the query log {where} is damaged ({exc}); the next `regenbot run`, `chat` or `ask` moves it aside "
            "and starts a fresh one (`sqlite3 FILE .recover` may rescue its rows)"
        )
    return f"cannot read the query log {where}: {exc}"
