"""The maintainers' commands: check the knowledge base, read the query log, close gaps.

Everything here reads REGENBOT_DB (never while answering) or the knowledge directory;
``teach`` is the one that writes, and only to knowledge/learnt.yaml.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from bot.cli.common import UsageError, knowledge_dir, open_log_db
from bot.config import load_settings
from bot.core.loader import KnowledgeError, load_knowledge
from bot.pipeline import Pipeline
from bot.querylog.csvsafe import SafeWriter
from bot.teaching import teachable

# Near-misses a maintainer can fix; off-topic chatter is listed apart.
CONTENT_KINDS = ("not_answered", "unsure", "not_helpful", "low_score")
LIST_LIMIT = 20


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
        f"{len(kb.topics)} topics, {len(kb.references)} references, {len(kb.quiz.items)} quiz items, "
        f"{len(kb.learnt)} taught phrasings"
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


def _since(args: argparse.Namespace) -> str | None:
    from bot.querylog.reports import since_to_iso

    try:
        return since_to_iso(args.since)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def _listed(items: list, limit: int = LIST_LIMIT) -> tuple[list, str]:
    """The first ``limit`` items, and the line that says how many were left out (or '')."""
    rest = len(items) - limit
    return items[:limit], (f"  ... and {rest} more" if rest > 0 else "")


def cmd_gaps(args: argparse.Namespace) -> int:
    """Unanswered and low-confidence questions, clustered, most frequent first, each with its kind."""
    from bot.querylog.gaps import KINDS, find_gaps, mark_gap, off_topic_test

    conn = open_log_db()
    if args.gaps_action == "teach":
        return _teach_gap(args, conn)
    if args.gaps_action in ("resolve", "ignore", "reopen"):
        state = {"resolve": "resolved", "ignore": "ignored", "reopen": "pending"}[args.gaps_action]
        gap = mark_gap(conn, args.gap_id, state)
        if gap is None:
            raise UsageError(f"no single gap matches id {args.gap_id!r}: run `regenbot gaps --all` to list ids")
        print(f"gap {gap.id} ({gap.count} question(s), e.g. {gap.examples[0]!r}) marked {state}")
        return 0
    kinds = tuple(args.kind) if args.kind else None
    if kinds and set(kinds) - set(KINDS):
        raise UsageError(f"--kind takes {', '.join(KINDS)}")
    pipeline = Pipeline(load_knowledge(knowledge_dir(args)))
    gaps = find_gaps(
        conn,
        _since(args),
        include_closed=args.all,
        kinds=kinds,
        min_count=args.min_count,
        min_askers=args.min_askers,
        off_topic=off_topic_test(pipeline),
    )
    rows = [g.as_dict() for g in gaps]
    if args.format == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if args.format == "csv":
        writer = SafeWriter(sys.stdout)
        fields = ["id", "kind", "count", "askers", "first_seen", "last_seen", "nearest_intent", "nearest_score"]
        writer.writerow([*fields, "state", "examples"])
        for r in rows:
            writer.writerow([*(r[f] for f in fields), r["state"], " | ".join(r["examples"])])
        return 0
    near = [g for g in gaps if g.kind != "off_topic"]
    chatter = [g for g in gaps if g.kind == "off_topic"]
    if not gaps:
        print("no open content gaps" + (f" since {args.since}" if args.since else ""))
    for gap in near:
        print(
            f"{gap.id}  x{gap.count:<4} {gap.askers} asker(s)  {gap.kind_label:<24} "
            f"nearest {gap.nearest_intent or '-'} ({gap.nearest_score:.0f})  "
            f"{gap.first_seen[:10]} .. {gap.last_seen[:10]}"
            + ("  (reopened)" if gap.reopened else "")
            + (f"  [{gap.state}]" if gap.state != "pending" else "")
        )
        for example in gap.examples[:3]:
            print(f"          - {example}")
        # Only an answer that can learn a phrasing is offered (an overview or a reference
        # cannot), without the focus suffix the log recorded ("prp-safety.2.0").
        offer = next((s.split(".")[0] for s in gap.suggested if teachable(s.split(".")[0], pipeline.kb)), None)
        if offer:
            print(f"          teach: regenbot gaps teach {gap.id} {offer}")
        elif gap.suggested:
            nearest = gap.suggested[0].split(".")[0]
            print(f"          (nearest {nearest} cannot learn a phrasing: teach one of its aspects)")
    if chatter:
        total = sum(g.count for g in chatter)
        print(f"\noff-topic chatter (no word of the review's domain): {total} question(s) in {len(chatter)} group(s)")
        shown, more = _listed(chatter, 5)
        for gap in shown:
            print(f"{gap.id}  x{gap.count:<4} - {gap.examples[0]}")
        if more:
            print(more)
    return 0


def _teach_gap(args: argparse.Namespace, conn) -> int:
    from bot.querylog.gaps import find_gaps, mark_gap

    if not args.answer_id:
        raise UsageError("regenbot gaps teach GAP_ID ANSWER_ID: give the answer id to teach (see `regenbot gaps`)")
    matches = [g for g in find_gaps(conn, include_closed=True) if g.id.startswith(args.gap_id)]
    if len(matches) != 1:
        raise UsageError(f"no single gap matches id {args.gap_id!r}: run `regenbot gaps --all` to list ids")
    gap = matches[0]
    code = _teach(args, gap.phrasings, args.answer_id, source=f"gap {gap.id}", conn=conn)
    if code == 0:
        mark_gap(conn, gap.id, "resolved")
        print(f"gap {gap.id} marked resolved")
    return code


def cmd_teach(args: argparse.Namespace) -> int:
    """Teach one phrasing for an answer: knowledge/learnt.yaml, checked, with what changes."""
    return _teach(args, [" ".join(args.phrase)], args.answer_id, source="")


def _teacher() -> str | None:
    """Who taught it, as a pseudonym: the same HMAC as the query log's, of the login name."""
    from bot.querylog.pseudonym import Pseudonymizer, load_or_create_key

    settings = load_settings()
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    return Pseudonymizer(settings.key or load_or_create_key(settings.key_file))("local:" + login)


def _teach(args: argparse.Namespace, phrasings: list[str], answer: str, *, source: str, conn=None) -> int:
    from bot.teaching import RELOAD_HINT, TeachError, teach

    directory = knowledge_dir(args)
    try:
        lesson = teach(directory, phrasings, answer, by=_teacher(), source=source)
    except TeachError as exc:
        raise UsageError(f"regenbot teach: {exc}") from exc
    except KnowledgeError as exc:
        print(f"regenbot teach: the knowledge base is already invalid; fix it first.\n{exc.report()}")
        return 1
    except OSError as exc:
        raise UsageError(f"regenbot teach: cannot write {directory / 'learnt.yaml'}: {exc}") from exc
    for phrase, why in lesson.skipped:
        print(f"not taught: {phrase!r}: {why}")
    if lesson.problems:
        print(f"refused: the knowledge base would not pass `regenbot kb check`; {directory / 'learnt.yaml'} unchanged")
        for problem in lesson.problems:
            print(f"  {problem}")
        return 1
    if not lesson.changed:
        print("nothing new to teach")
        return 1 if not lesson.skipped or any("already" not in why for _, why in lesson.skipped) else 0
    assert lesson.before is not None and lesson.after is not None
    print(f"taught {len(lesson.taught)} phrasing(s) for {answer} in {directory / 'learnt.yaml'}:")
    for phrase in lesson.taught:
        print(f"  + {phrase!r}")
    print(f"knowledge base OK: version {lesson.after.version} (was {lesson.before.version})")
    _print_differences(lesson, conn)
    print(RELOAD_HINT)
    return 0


def _print_differences(lesson, conn) -> None:
    """What `regenbot replay` would now answer differently: the logged questions this lesson changes."""
    from bot.querylog.reports import differences

    if conn is None:
        try:
            conn = open_log_db()
        except UsageError as exc:
            print(f"replay: skipped ({exc})")
            return
    total, changed = differences(conn, Pipeline(lesson.before), Pipeline(lesson.after))
    print(f"replay: {len(changed)} of {total} logged question(s) now answered differently")
    shown, more = _listed(changed)
    for question, old, new in shown:
        print(f"  ~ {question!r}: {old} -> {new}")
    if more:
        print(more)


def cmd_suggestions(args: argparse.Namespace) -> int:
    """Phrasings users mapped to an answer by picking a "did you mean" suggestion; accept one to teach it."""
    from bot.querylog.reports import phrasing_candidates, suggestion_id
    from bot.teaching import intent_answer_id

    kb = load_knowledge(knowledge_dir(args))
    taught = {item.phrase for item in kb.learnt}
    rows = [r for r in phrasing_candidates(open_log_db()) if r["example"] not in taught]
    for r in rows:
        r["id"] = suggestion_id(r["normalised"], r["intent"])
        r["answer"] = intent_answer_id(r["intent"], kb)
    if args.suggestions_action == "accept":
        if not args.suggestion_id:
            raise UsageError("regenbot suggestions accept ID: give an id from `regenbot suggestions`")
        chosen = [r for r in rows if r["id"].startswith(args.suggestion_id)]
        if len(chosen) != 1:
            raise UsageError(f"no single suggestion matches id {args.suggestion_id!r}: run `regenbot suggestions`")
        row = chosen[0]
        if not row["answer"]:
            raise UsageError(f"suggestion {row['id']} maps to {row['intent']}, which has no example phrasings to join")
        return _teach(args, [row["example"]], row["answer"], source=f"suggestion {row['id']}")
    if not rows:
        print("no learnt phrasings yet")
    for r in rows:
        print(
            f"{r['id']}  x{r['count']:<4} {r['answer'] or r['intent']:<24} {r['example']!r}"
            f"  (last {r['last_seen'][:10]})"
        )
    if rows:
        print("\nTeach a good one with `regenbot suggestions accept ID`, then /reload the running bot.")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    """Questions per day, answer rate, top intents, top gaps, quiz activity, feedback."""
    from bot.querylog.gaps import find_gaps
    from bot.querylog.reports import stats

    conn = open_log_db()
    since = _since(args)
    data = stats(conn, since)
    data["top_gaps"] = [
        {"id": g.id, "count": g.count, "example": g.examples[0]}
        for g in find_gaps(conn, since, kinds=CONTENT_KINDS)[:5]
    ]
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

    conn = open_log_db()
    report = replay(conn, Pipeline(load_knowledge(knowledge_dir(args))), _since(args))
    print(
        f"replayed {report.total} distinct question(s)"
        + (
            f" ({report.skipped} commands, button picks, follow-ups and small talk not replayed)"
            if report.skipped
            else ""
        )
    )
    sections = (
        ("gaps now answered", report.closed, lambda item: f"  + {item[0]!r} -> {item[1]}"),
        ("answers that changed intent", report.changed, lambda item: f"  ~ {item[0]!r}: {item[1]} -> {item[2]}"),
        ("answered before, not now (regressions)", report.regressed, lambda item: f"  - {item[0]!r} (was {item[1]})"),
        ("still not answered", report.still_failing, lambda item: f"  ? {item!r}"),
    )
    for title, items, line in sections:
        print(f"{title}: {len(items)}")
        shown, more = _listed(items, len(items) if title.startswith("answered before") else LIST_LIMIT)
        for item in shown:
            print(line(item))
        if more:
            print(more)
    print(f"unchanged: {report.unchanged}")
    return 1 if report.regressed else 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write the query log as CSV for analysis elsewhere."""
    from bot.querylog.reports import export_csv

    target = Path(args.csv)
    try:
        count = export_csv(open_log_db(), target, _since(args))
    except OSError as exc:
        raise UsageError(f"regenbot export: cannot write {target}: {exc}") from exc
    print(f"wrote {count} question(s) to {target}")
    return 0
