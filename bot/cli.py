"""The ``regenbot`` command: every front end and maintainer tool starts here.

Commands are thin: they build a Pipeline and hand it input. The one rule shared by all
of them: a broken knowledge base or bad input ends with a clear message and exit code
2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.core.loader import KnowledgeError, load_knowledge
from bot.pipeline import DEFAULT_KNOWLEDGE_DIR, Pipeline

EXIT_USAGE = 2

CHAT_HELP = """Ask anything about PRP, MSC secretome or exosomes for aging skin, e.g.
  how does PRP work · exosomes evidence · PRP vs secretome safety · what after laser?
Follow-ups work: "and is it safe?", "what about exosomes?".
Type a suggestion's number to pick it. Commands: /ref N, /refs, /about, /help, /quit."""


def knowledge_dir(args: argparse.Namespace) -> Path:
    return Path(args.knowledge or os.environ.get("REGENBOT_KNOWLEDGE") or DEFAULT_KNOWLEDGE_DIR)


def build_pipeline(args: argparse.Namespace) -> Pipeline:
    return Pipeline(load_knowledge(knowledge_dir(args)))


# -- commands ---------------------------------------------------------------------------


def cmd_chat(args: argparse.Namespace) -> int:
    """A console conversation through the same pipeline as Telegram."""
    stdin, stdout = sys.stdin, sys.stdout
    pipeline = build_pipeline(args)
    interactive = stdin.isatty()
    print(f"regenbot — knowledge base {pipeline.kb.version}. {CHAT_HELP}", file=stdout)
    suggestions: list[str] = []
    while True:
        if interactive:
            print("\nyou> ", end="", file=stdout, flush=True)
        line = stdin.readline()
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
        reply = None
        if text.isdigit() and suggestions and 1 <= int(text) <= len(suggestions):
            reply = pipeline.ask_id(suggestions[int(text) - 1])
        elif text.startswith("/"):
            reply = _slash(pipeline, text)
            if reply is None:
                print("Unknown command. " + CHAT_HELP, file=stdout)
                continue
        if reply is None:
            reply = pipeline.ask(text)
        suggestions = [s.answer_id for s in reply.answer.suggestions]
        body = reply.plain()
        for n, s in enumerate(reply.answer.suggestions, 1):
            body = body.replace(f"• {s.label}", f"{n}. {s.label}", 1)
        print(("\n" if not interactive else "") + body, file=stdout, flush=True)


def _slash(pipeline: Pipeline, text: str):
    command, _, rest = text[1:].partition(" ")
    if command == "ref":
        return pipeline.ask(f"reference {rest.strip()}" if rest.strip() else "references")
    if command == "refs":
        return pipeline.ask_id("refs")
    if command == "about":
        return pipeline.ask_id("about")
    return None


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer one question, or one per stdin line with ``-`` (one JSON object a line)."""
    stdin, stdout = sys.stdin, sys.stdout
    pipeline = build_pipeline(args)
    if args.question == ["-"]:
        for n, line in enumerate(stdin):
            question = line.rstrip("\n")
            reply = pipeline.ask(question, conversation=("stdin", n), frontend="ask")
            pipeline.forget(("stdin", n))
            _print_reply(reply, args.json, stdout)
        return 0
    question = " ".join(args.question).strip()
    if not question:
        print("regenbot ask: give a question, or - to read questions from stdin", file=sys.stderr)
        return EXIT_USAGE
    _print_reply(pipeline.ask(question, frontend="ask"), args.json, stdout)
    return 0


def _print_reply(reply, as_json: bool, stdout: TextIO) -> None:
    if as_json:
        print(json.dumps(reply.as_json(), ensure_ascii=False), file=stdout, flush=True)
    else:
        print(reply.plain() + "\n", file=stdout, flush=True)


def cmd_kb_check(args: argparse.Namespace) -> int:
    """Validate the knowledge base and print every problem (exit 1 if any)."""
    try:
        kb = load_knowledge(knowledge_dir(args))
    except KnowledgeError as exc:
        print(exc.report())
        return 1
    claims = sum(len(c) for b in kb.biologics.values() for c in b.aspects.values())
    print(
        f"knowledge base OK: version {kb.version}, {len(kb.biologics)} biologics, {len(kb.aspects)} aspects, "
        f"{claims} biologic claims, {len(kb.comparison.parameters)} comparison rows, {len(kb.scenarios)} scenarios, "
        f"{len(kb.topics)} topics, {len(kb.references)} references"
    )
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Print accuracy, rejection, per-intent F1, confusions and the threshold sweep."""
    from bot.evaluation import DEFAULT_QUESTIONS, evaluate, format_report, load_cases

    path = Path(args.questions or DEFAULT_QUESTIONS)
    try:
        cases = load_cases(path)
    except (OSError, ValueError) as exc:
        print(f"regenbot eval: cannot read questions: {exc}", file=sys.stderr)
        return EXIT_USAGE
    report = evaluate(build_pipeline(args), cases)
    print(format_report(report, verbose=args.verbose, sweep=args.sweep))
    return 0


# -- parser -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="regenbot", description=__doc__.splitlines()[0])
    parser.add_argument("--knowledge", help="knowledge directory (default: $REGENBOT_KNOWLEDGE or ./knowledge)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("chat", help="console conversation (no token or network needed)")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("ask", help="answer one question; '-' reads one question a line from stdin")
    p.add_argument("--json", action="store_true", help="print one JSON object per answer")
    p.add_argument("question", nargs="+", help="the question, or - for stdin")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("kb", help="knowledge-base tools")
    kb_sub = p.add_subparsers(dest="kb_command", metavar="KB_COMMAND", required=True)
    c = kb_sub.add_parser("check", help="validate knowledge/*.yaml and list every problem")
    c.set_defaults(func=cmd_kb_check)

    p = sub.add_parser("eval", help="score the matcher on the evaluation set")
    p.add_argument("--questions", help="question set YAML (default: benchmarks/questions.yaml)")
    p.add_argument("--sweep", action="store_true", help="also sweep the answer threshold")
    p.add_argument("--verbose", action="store_true", help="list every miss")
    p.set_defaults(func=cmd_eval)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # plain `regenbot` is the console chat
        args.func = cmd_chat
    try:
        return args.func(args)
    except KnowledgeError as exc:
        print(f"regenbot: refusing to start on an invalid knowledge base.\n{exc.report()}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
