"""The ``regenbot`` command: every front end and maintainer tool starts here.

Split by audience: ``bot.cli.users`` holds what clinicians and trainees run (chat, quiz,
ask, run), ``bot.cli.maintainers`` what maintainers run (kb check, eval, the query-log
reports, teach). The one rule shared by all of them: a broken knowledge base, bad
configuration or bad input ends with a clear message and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Sequence

from bot.cli import maintainers, users
from bot.cli.common import EXIT_USAGE, UsageError, database_problem
from bot.config import ConfigError
from bot.core.loader import KnowledgeError
from bot.querylog.schema import QueryLogUnusable

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="regenbot", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--knowledge", help="knowledge directory (default: $REGENBOT_KNOWLEDGE or ./knowledge)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("chat", help="console conversation (no token or network needed)")
    p.set_defaults(func=users.cmd_chat)

    p = sub.add_parser("quiz", help="quiz yourself in the terminal (topics: see /quiz help in the bot)")
    p.add_argument("topic", nargs="*", help="a topic (evidence, safety, ...) or a biologic (prp, exosomes, ...)")
    p.set_defaults(func=users.cmd_quiz)

    p = sub.add_parser("ask", help="answer one question; '-' reads one question a line from stdin")
    p.add_argument("--json", action="store_true", help="print one JSON object per answer")
    p.add_argument("question", nargs="+", help="the question, or - for stdin")
    p.set_defaults(func=users.cmd_ask)

    p = sub.add_parser("run", help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    p.add_argument("--webhook", metavar="URL", help="webhook mode at this public https URL ($REGENBOT_WEBHOOK_URL)")
    p.add_argument("--listen", default=os.environ.get("REGENBOT_WEBHOOK_LISTEN", "0.0.0.0"), help="webhook address")
    p.add_argument("--port", type=int, default=int(os.environ.get("REGENBOT_WEBHOOK_PORT") or 8443))
    p.add_argument("--secret", help="webhook secret token ($REGENBOT_WEBHOOK_SECRET)")
    p.set_defaults(func=users.cmd_run)

    p = sub.add_parser("kb", help="knowledge-base tools")
    kb_sub = p.add_subparsers(dest="kb_command", metavar="KB_COMMAND", required=True)
    c = kb_sub.add_parser("check", help="validate knowledge/*.yaml and list every problem")
    c.add_argument(
        "--source", metavar="PATH", help="the review's text: check each quote and reference number against it"
    )
    c.set_defaults(func=maintainers.cmd_kb_check)

    p = sub.add_parser("eval", help="score the matcher on the evaluation set")
    p.add_argument(
        "--questions", action="append", default=[], help="question set YAML, repeatable (default: questions.yaml)"
    )
    p.add_argument("--all", action="store_true", help="a line per set of benchmarks/sets.yaml (sealed: skipped)")
    p.add_argument("--sweep", action="store_true", help="also sweep the answer threshold")
    p.add_argument("--verbose", action="store_true", help="list every miss")
    p.set_defaults(func=maintainers.cmd_eval)

    p = sub.add_parser("gaps", help="content gaps: clustered unanswered questions, each with its kind")
    p.add_argument(
        "gaps_action",
        nargs="?",
        choices=["resolve", "ignore", "reopen", "teach"],
        help="set a gap's state, or teach it",
    )
    p.add_argument("gap_id", nargs="?", help="gap id (or a unique prefix)")
    p.add_argument("answer_id", nargs="?", help="for teach: the answer every phrasing of the gap should get")
    p.add_argument("--since", help="only questions this recent: 12h, 7d, 2w")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument("--all", action="store_true", help="include resolved and ignored gaps")
    p.add_argument(
        "--kind",
        action="append",
        choices=["not_answered", "unsure", "not_helpful", "low_score", "off_topic"],
        help="only gaps of this kind (repeatable)",
    )
    p.add_argument("--min-count", type=int, default=1, help="only gaps asked at least this many times")
    p.add_argument("--min-askers", type=int, default=1, help="only gaps asked by at least this many people")
    p.set_defaults(func=maintainers.cmd_gaps)

    p = sub.add_parser("suggestions", help="phrasings learnt from 'did you mean' picks; accept one to teach it")
    p.add_argument("suggestions_action", nargs="?", choices=["accept"], help="teach the suggestion ID")
    p.add_argument("suggestion_id", nargs="?", help="suggestion id (or a unique prefix)")
    p.set_defaults(func=maintainers.cmd_suggestions)

    p = sub.add_parser("teach", help="teach a phrasing for an answer (knowledge/learnt.yaml), checked")
    p.add_argument("phrase", nargs="+", help="the phrasing, quoted")
    p.add_argument(
        "answer_id", help="the answer it should get: prp-safety, cmp-evidence, scn-post_laser, t-review_gaps"
    )
    p.set_defaults(func=maintainers.cmd_teach)

    p = sub.add_parser("stats", help="usage statistics from the query log")
    p.add_argument("--since", help="only this recent: 12h, 7d, 2w")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=maintainers.cmd_stats)

    p = sub.add_parser("replay", help="re-run logged questions against the current knowledge base")
    p.add_argument("--since", help="only questions this recent: 12h, 7d, 2w")
    p.set_defaults(func=maintainers.cmd_replay)

    p = sub.add_parser("export", help="export the query log")
    p.add_argument("--csv", required=True, metavar="FILE", help="CSV file to write")
    p.add_argument("--since", help="only questions this recent: 12h, 7d, 2w")
    p.set_defaults(func=maintainers.cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # plain `regenbot` is the console chat
        args.func = users.cmd_chat
    if args.command == "gaps" and bool(args.gaps_action) != bool(args.gap_id):
        parser.error("gaps resolve|ignore|reopen|teach needs a gap id")
    if args.command == "gaps" and args.answer_id and args.gaps_action != "teach":
        parser.error("only gaps teach takes an answer id")
    try:
        return args.func(args)
    except KnowledgeError as exc:
        print(f"regenbot: refusing to start on an invalid knowledge base.\n{exc.report()}", file=sys.stderr)
    except ConfigError as exc:
        print(f"regenbot: configuration error: {exc}", file=sys.stderr)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
    except QueryLogUnusable as exc:
        print(f"regenbot: cannot use the query log: {exc}", file=sys.stderr)
    except sqlite3.Error as exc:
        print(f"regenbot: {database_problem(exc)}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    return EXIT_USAGE
