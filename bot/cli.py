"""The ``regenbot`` command: every front end and maintainer tool starts here.

Commands are thin: they build a Pipeline (with the query log as its sink) and hand it
input. The one rule shared by all of them: a broken knowledge base, bad configuration
or bad input ends with a clear message and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import getpass
import json
import logging
import os
import re
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TextIO

from bot.config import ConfigError, load_settings
from bot.core.loader import KnowledgeError, load_knowledge
from bot.pipeline import DEFAULT_KNOWLEDGE_DIR, Pipeline, Reply
from bot.querylog.schema import QueryLogUnusable

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


# -- front ends -------------------------------------------------------------------------


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
            return run_polling(settings, kb)
        return run_webhook(settings, kb, url=url, listen=args.listen, port=args.port, secret=secret)
    except CannotReachTelegram as exc:
        print(f"regenbot: {exc}", file=sys.stderr)  # a network fault may pass: exit 1, let the supervisor retry
        return 1
    except (ConfigError, QueryLogUnusable, KeyboardInterrupt):
        raise
    except Exception:
        # Logged, not printed: the logging set up by `run` keeps the token out of the traceback.
        logging.getLogger("bot.cli").exception("regenbot run stopped by an unexpected error")
        return 1


# -- knowledge and evaluation ------------------------------------------------------------


def cmd_kb_check(args: argparse.Namespace) -> int:
    """Validate the knowledge base and print every problem (exit 1 if any).

    With ``--source`` the quotes are also checked against the review's text: the one
    check that catches a claim drifting from what the review says.
    """
    from bot.core.provenance import Source, check_knowledge, located_claims

    source = None
    if args.source:
        try:
            source = Source.read(args.source)
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"regenbot kb check: cannot read the review's text: {exc}") from exc
    try:
        kb = load_knowledge(knowledge_dir(args))
    except KnowledgeError as exc:
        print(exc.report())
        return 1
    if source is not None:
        problems = check_knowledge(kb, source)
        if problems:
            print(KnowledgeError(problems).report())
            return 1
    claims = sum(len(c) for b in kb.biologics.values() for c in b.aspects.values())
    print(
        f"knowledge base OK: version {kb.version}, {len(kb.biologics)} biologics, {len(kb.aspects)} aspects, "
        f"{claims} biologic claims, {len(kb.comparison.parameters)} comparison rows, {len(kb.scenarios)} scenarios, "
        f"{len(kb.topics)} topics, {len(kb.references)} references, {len(kb.quiz.items)} quiz items"
    )
    located = [claim for *_, claim in located_claims(kb)]
    quotes = sum(len(c.quotes) for c in located)
    on_review = sum(c.on_review for c in located)
    verified = f"all verified against {args.source}" if source is not None else "not verified (no --source)"
    print(
        f"provenance: {len(located)} claims, {sum(bool(c.quotes) for c in located)} with quotes, "
        f"{on_review} resting on the review itself; {quotes} quotes, {verified}"
    )
    bank = kb.quiz
    authored = sum(not i.generated for i in bank.items)
    wrong = sum(len(i.options) - 1 for i in bank.items)
    words = "made of the review's words" if source is not None else "words not checked (no --source)"
    print(
        f"quiz: {len(bank.items)} items ({authored} authored, {len(bank.items) - authored} generated) in "
        f"{len(bank.topics)} topics, one supported option each; {wrong} wrong options, none also right by the "
        f"knowledge base, {words}; {len(bank.shared)} Table 1 cells shared with another biologic, not asked"
    )
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Print accuracy, rejection, per-intent F1, confusions and the threshold sweep."""
    from bot.evaluation import (
        DEFAULT_QUESTIONS,
        SUMMARY_HEADER,
        evaluate,
        format_report,
        load_cases,
        question_sets,
        summary_row,
    )

    pipeline = Pipeline(load_knowledge(knowledge_dir(args)))  # not logged: not real users
    if args.all:
        print(SUMMARY_HEADER)
        for qset in question_sets():
            if qset.sealed:
                print(f"{qset.file.name:16} sealed: not scored yet ({qset.role})")
                continue
            print(summary_row(qset.file.name, evaluate(pipeline, load_cases(qset.file))))
        return 0
    paths = [Path(p) for p in args.questions] or [DEFAULT_QUESTIONS]
    for n, path in enumerate(paths):
        try:
            cases = load_cases(path)
        except (OSError, ValueError) as exc:
            raise UsageError(f"regenbot eval: cannot read questions: {exc}") from exc
        if len(paths) > 1:
            print(("\n" if n else "") + f"== {path}")
        print(format_report(evaluate(pipeline, cases), verbose=args.verbose, sweep=args.sweep))
    return 0


# -- maintainers' tools over the query log -------------------------------------------------


def _open_log_db() -> sqlite3.Connection:
    from bot.querylog.schema import check_shared_memory, connect

    settings = load_settings()
    if not settings.db_path.exists():
        raise UsageError(f"no query log yet at {settings.db_path} (set REGENBOT_DB, or ask the bot something first)")
    check_shared_memory(settings.db_path)
    return connect(settings.db_path)


def _since(args: argparse.Namespace) -> str | None:
    from bot.querylog.reports import since_to_iso

    try:
        return since_to_iso(args.since)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def cmd_gaps(args: argparse.Namespace) -> int:
    """Unanswered and low-confidence questions, clustered, most frequent first."""
    from bot.querylog.gaps import find_gaps, mark_gap

    conn = _open_log_db()
    if args.gaps_action in ("resolve", "ignore", "reopen"):
        state = {"resolve": "resolved", "ignore": "ignored", "reopen": "pending"}[args.gaps_action]
        gap = mark_gap(conn, args.gap_id, state)
        if gap is None:
            raise UsageError(f"no single gap matches id {args.gap_id!r}: run `regenbot gaps --all` to list ids")
        print(f"gap {gap.id} ({gap.count} question(s), e.g. {gap.examples[0]!r}) marked {state}")
        return 0
    gaps = find_gaps(conn, _since(args), include_closed=args.all)
    rows = [g.as_dict() for g in gaps]
    if args.format == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(
            ["id", "count", "first_seen", "last_seen", "nearest_intent", "nearest_score", "state", "examples"]
        )
        for r in rows:
            writer.writerow(
                [
                    r["id"],
                    r["count"],
                    r["first_seen"],
                    r["last_seen"],
                    r["nearest_intent"],
                    r["nearest_score"],
                    r["state"],
                    " | ".join(r["examples"]),
                ]
            )
    else:
        if not rows:
            print("no open content gaps" + (f" since {args.since}" if args.since else ""))
        for r in rows:
            print(
                f"{r['id']}  x{r['count']:<4} {r['state']:<18} nearest {r['nearest_intent'] or '-'} "
                f"({r['nearest_score']})  {r['first_seen'][:10]} .. {r['last_seen'][:10]}"
            )
            for example in r["examples"][:3]:
                print(f"          - {example}")
    return 0


def cmd_suggestions(args: argparse.Namespace) -> int:
    """Phrasings users mapped to an intent by picking a "did you mean" suggestion."""
    from bot.querylog.reports import phrasing_candidates

    rows = phrasing_candidates(_open_log_db())
    if not rows:
        print("no learnt phrasings yet")
    for r in rows:
        print(f"x{r['count']:<4} {r['intent']:<24} {r['example']!r}  (last {r['last_seen'][:10]})")
    if rows:
        print("\nAdd good ones to the examples or cues in knowledge/*.yaml, then run `regenbot replay`.")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    """Questions per day, answer rate, top intents, top gaps, quiz activity, feedback."""
    from bot.querylog.gaps import find_gaps
    from bot.querylog.reports import stats

    conn = _open_log_db()
    since = _since(args)
    data = stats(conn, since)
    data["top_gaps"] = [{"id": g.id, "count": g.count, "example": g.examples[0]} for g in find_gaps(conn, since)[:5]]
    if args.format == "json":
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    print(
        f"questions: {data['questions']} from {data['users']} user(s); answered {data['answer_rate']:.1%}"
        + (f"; {data['rate_limited']} more refused by the rate limit" if data["rate_limited"] else "")
    )
    print("per day:  " + ", ".join(f"{d['day']} {d['questions']}" for d in data["per_day"]))
    print("frontends: " + ", ".join(f"{k} {v}" for k, v in data["frontends"].items()))
    print("top intents: " + ", ".join(f"{i['intent']} {i['count']}" for i in data["top_intents"]))
    print("top gaps: " + ("; ".join(f"{g['id']} x{g['count']} {g['example']!r}" for g in data["top_gaps"]) or "none"))
    q = data["quiz"]
    print(f"quiz: {q['answers']} answers by {q['users']} user(s), {q['accuracy']:.1%} correct")
    f = data["feedback"]
    print(f"feedback: {f['helpful']} helpful, {f['not_helpful']} not helpful")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Re-run logged questions on the current knowledge base: the regression check after an edit."""
    from bot.querylog.reports import replay

    conn = _open_log_db()
    report = replay(conn, Pipeline(load_knowledge(knowledge_dir(args))), _since(args))
    print(f"replayed {report.total} distinct question(s)")
    print(f"gaps now answered: {len(report.closed)}")
    for q, intent in report.closed:
        print(f"  + {q!r} -> {intent}")
    print(f"answers that changed intent: {len(report.changed)}")
    for q, old, new in report.changed:
        print(f"  ~ {q!r}: {old} -> {new}")
    print(f"answered before, not now (regressions): {len(report.regressed)}")
    for q, old in report.regressed:
        print(f"  - {q!r} (was {old})")
    print(f"still not answered: {len(report.still_failing)}")
    for q in report.still_failing[:20]:
        print(f"  ? {q!r}")
    print(f"unchanged: {report.unchanged}")
    return 1 if report.regressed else 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write the query log as CSV for analysis elsewhere."""
    from bot.querylog.reports import export_csv

    target = Path(args.csv)
    try:
        count = export_csv(_open_log_db(), target, _since(args))
    except OSError as exc:
        raise UsageError(f"regenbot export: cannot write {target}: {exc}") from exc
    print(f"wrote {count} question(s) to {target}")
    return 0


def _database_problem(exc: sqlite3.Error) -> str:
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


# -- parser -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="regenbot", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--knowledge", help="knowledge directory (default: $REGENBOT_KNOWLEDGE or ./knowledge)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("chat", help="console conversation (no token or network needed)")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("quiz", help="quiz yourself in the terminal (topics: see /quiz help in the bot)")
    p.add_argument("topic", nargs="*", help="a topic (evidence, safety, ...) or a biologic (prp, exosomes, ...)")
    p.set_defaults(func=cmd_quiz)

    p = sub.add_parser("ask", help="answer one question; '-' reads one question a line from stdin")
    p.add_argument("--json", action="store_true", help="print one JSON object per answer")
    p.add_argument("question", nargs="+", help="the question, or - for stdin")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("run", help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    p.add_argument("--webhook", metavar="URL", help="webhook mode at this public https URL ($REGENBOT_WEBHOOK_URL)")
    p.add_argument("--listen", default=os.environ.get("REGENBOT_WEBHOOK_LISTEN", "0.0.0.0"), help="webhook address")
    p.add_argument("--port", type=int, default=int(os.environ.get("REGENBOT_WEBHOOK_PORT") or 8443))
    p.add_argument("--secret", help="webhook secret token ($REGENBOT_WEBHOOK_SECRET)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("kb", help="knowledge-base tools")
    kb_sub = p.add_subparsers(dest="kb_command", metavar="KB_COMMAND", required=True)
    c = kb_sub.add_parser("check", help="validate knowledge/*.yaml and list every problem")
    c.add_argument(
        "--source", metavar="PATH", help="the review's text: check each quote and reference number against it"
    )
    c.set_defaults(func=cmd_kb_check)

    p = sub.add_parser("eval", help="score the matcher on the evaluation set")
    p.add_argument(
        "--questions", action="append", default=[], help="question set YAML, repeatable (default: questions.yaml)"
    )
    p.add_argument("--all", action="store_true", help="a line per set of benchmarks/sets.yaml (sealed: skipped)")
    p.add_argument("--sweep", action="store_true", help="also sweep the answer threshold")
    p.add_argument("--verbose", action="store_true", help="list every miss")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("gaps", help="content gaps: clustered unanswered questions")
    p.add_argument("gaps_action", nargs="?", choices=["resolve", "ignore", "reopen"], help="set a gap's state")
    p.add_argument("gap_id", nargs="?", help="gap id (or a unique prefix) for resolve/ignore/reopen")
    p.add_argument("--since", help="only questions this recent: 12h, 7d, 2w")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument("--all", action="store_true", help="include resolved and ignored gaps")
    p.set_defaults(func=cmd_gaps)

    p = sub.add_parser("suggestions", help="phrasings learnt from 'did you mean' picks")
    p.set_defaults(func=cmd_suggestions)

    p = sub.add_parser("stats", help="usage statistics from the query log")
    p.add_argument("--since", help="only this recent: 12h, 7d, 2w")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("replay", help="re-run logged questions against the current knowledge base")
    p.add_argument("--since", help="only questions this recent: 12h, 7d, 2w")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("export", help="export the query log")
    p.add_argument("--csv", required=True, metavar="FILE", help="CSV file to write")
    p.add_argument("--since", help="only questions this recent: 12h, 7d, 2w")
    p.set_defaults(func=cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # plain `regenbot` is the console chat
        args.func = cmd_chat
    if args.command == "gaps" and bool(args.gaps_action) != bool(args.gap_id):
        parser.error("gaps resolve|ignore|reopen needs a gap id")
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
        print(f"regenbot: {_database_problem(exc)}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
