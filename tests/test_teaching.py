"""Issue 13 in units: learnt.yaml validation, teaching, gaps' kinds and filters, replay, migrations."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.context import ContextStore
from bot.core.loader import KnowledgeError, load_knowledge
from bot.core.matching import Frame
from bot.pipeline import Pipeline
from bot.querylog.gaps import find_gaps, off_topic_test
from bot.querylog.pseudonym import Pseudonymizer
from bot.querylog.reports import replay
from bot.querylog.schema import MIGRATIONS, connect, migrate
from bot.querylog.writer import QueryLog
from bot.teaching import teach


def write_learnt(directory: Path, *entries: tuple[str, str]) -> None:
    body = "".join(f"  - phrase: {json.dumps(p)}\n    answer: {a}\n" for p, a in entries)
    (directory / "learnt.yaml").write_text("# kept comment\nlearnt:\n" + body)


def problems(directory: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(directory)
    return [str(p) for p in caught.value.problems]


def ask(pipeline: Pipeline, text: str, conversation: object = "t"):
    pipeline.forget(conversation)
    return pipeline.ask(text, conversation=conversation).answer


# -- knowledge/learnt.yaml ---------------------------------------------------------------


def test_learnt_phrasings_answer_their_answer_and_change_the_version(kb_copy, kb):
    write_learnt(
        kb_copy, ("exosomes vibe check", "exosomes-evidence"), ("what do the authors want next", "t-review_gaps")
    )
    learnt = load_knowledge(kb_copy)
    assert learnt.version.startswith(kb.version + "+learnt2.")
    pipeline = Pipeline(learnt)
    assert ask(pipeline, "exosomes vibe check").intent == "exosomes.evidence"
    assert not ask(Pipeline(kb), "exosomes vibe check").answered


def test_a_phrasing_for_one_biologic_keeps_it_when_the_question_names_none(kb_copy):
    write_learnt(kb_copy, ("what is the vibe on the data", "prp-evidence"))
    pipeline = Pipeline(load_knowledge(kb_copy))
    assert ask(pipeline, "what is the vibe on the data").intent == "prp.evidence"
    pipeline.ask("exosomes safety", conversation="c")  # a conversation about exosomes keeps its subject
    assert pipeline.ask("what is the vibe on the data", conversation="c").answer.intent == "exosomes.evidence"


def test_learnt_yaml_problems_are_reported_like_kb_check(kb_copy):
    write_learnt(
        kb_copy,
        ("prp for everything", "prp-nonsense"),
        ("is it legit", "prp-overview"),
        ("exosomes vibe check", "exosomes-evidence"),
        ("Exosomes  vibe check!", "exosomes-evidence"),
    )
    found = "\n".join(problems(kb_copy))
    assert (
        "learnt.yaml: learnt[0] ('prp for everything'): answer: unknown or unteachable answer id 'prp-nonsense'"
        in found
    )
    assert "'prp-overview'" in found
    assert "learnt[3] ('Exosomes vibe check!'): phrase: duplicate: already taught at learnt[2]" in found
    # Collisions are checked once the rest is valid (the phrase matcher needs a knowledge base).
    write_learnt(kb_copy, ("what is PRP", "prp-safety"))
    found = "\n".join(problems(kb_copy))
    assert (
        "learnt.yaml: prp-safety ('what is PRP'): phrase: example 'what is PRP' collides with aspects.yaml source"
        in found
    )


def test_kb_check_reports_learnt_problems_and_exit_code(kb_copy, capsys):
    write_learnt(kb_copy, ("prp for everything", "prp-nonsense"))
    assert main(["--knowledge", str(kb_copy), "kb", "check"]) == 1
    assert "prp-nonsense" in capsys.readouterr().out


# -- teach ----------------------------------------------------------------------------------


def test_teach_keeps_comments_records_who_and_when_and_refuses_what_cannot_work(kb_copy):
    (kb_copy / "learnt.yaml").write_text("# a maintainer's note\nlearnt:\n")
    lesson = teach(
        kb_copy,
        ["exosomes vibe check", "does exosome hurt", "exosomes vibe check!"],
        "exosomes-evidence",
        by="abc123",
        source="gap 1234",
        today="2026-03-02",
    )
    assert lesson.taught == ["exosomes vibe check"]
    reasons = dict(lesson.skipped)
    assert "not covered" in reasons["does exosome hurt"] and "reads the same" in reasons["exosomes vibe check!"]
    text = (kb_copy / "learnt.yaml").read_text()
    assert text.startswith("# a maintainer's note\nlearnt:\n")
    assert 'by: "abc123"' in text and 'date: "2026-03-02"' in text and 'from: "gap 1234"' in text
    again = teach(kb_copy, ["exosomes vibe check"], "exosomes-evidence", by="abc123")
    assert not again.taught and "already taught" in again.skipped[0][1]


def test_teach_leaves_the_file_as_it_was_when_kb_check_would_fail(kb_copy):
    before = (kb_copy / "learnt.yaml").read_text()
    lesson = teach(kb_copy, ["what is PRP"], "prp-safety", by="x")
    assert lesson.problems and "collides" in lesson.problems[0]
    assert (kb_copy / "learnt.yaml").read_text() == before


def test_cli_teach_works_with_knowledge_dir_and_says_how_to_reload(kb_copy, capsys):
    code = main(["--knowledge", str(kb_copy), "teach", "exosomes vibe check", "exosomes-evidence"])
    out = capsys.readouterr().out
    assert code == 0 and "taught 1 phrasing(s)" in out and "/reload" in out and "kill -HUP" in out
    assert "replay: skipped" in out  # no query log yet: said, not a traceback
    assert main(["--knowledge", str(kb_copy), "teach", "foo", "refs"]) == 2
    assert "unteachable" in capsys.readouterr().err


# -- the query log: gaps, replay, suggestions ------------------------------------------------


def logged(path: Path, kb, rows: list[tuple[object, str]], picks: list[tuple[str, str]] = ()) -> None:
    async def fill() -> None:
        qlog = QueryLog(path, Pseudonymizer(b"k" * 32))
        await qlog.open()
        pipeline = Pipeline(kb, sink=qlog)
        for user, text in rows:
            pipeline.ask(text, conversation=user, frontend="telegram", user=user)
        for original, answer_id in picks:
            pipeline.choose_suggestion(original, answer_id, conversation="pick", user="picker")
        await qlog.close()

    asyncio.run(fill())


def test_gaps_have_kinds_askers_filters_and_chatter_apart(tmp_path, kb):
    db = tmp_path / "log.sqlite3"
    rows = [(u, "exosomes vibe check") for u in (1, 2, 3)] + [
        (4, "how to inject botox"),
        (5, "tell me a joke"),
        (6, "hi"),
        (7, "more"),
    ]
    logged(db, kb, rows)
    conn = connect(db)
    gaps = {g.examples[0]: g for g in find_gaps(conn, off_topic=off_topic_test(Pipeline(kb)))}
    assert gaps["exosomes vibe check"].kind == "unsure" and gaps["exosomes vibe check"].askers == 3
    assert gaps["how to inject botox"].kind == "not_answered"  # another treatment: a near-miss
    assert gaps["tell me a joke"].kind == "off_topic"
    assert "hi" not in gaps and "more" not in gaps  # small talk and "more" are not gaps
    assert [g.examples[0] for g in find_gaps(conn, min_askers=2)] == ["exosomes vibe check"]
    assert [g.examples[0] for g in find_gaps(conn, min_count=3)] == ["exosomes vibe check"]
    assert {g.kind for g in find_gaps(conn, kinds=("unsure",))} == {"unsure"}


def test_cli_gaps_lists_chatter_apart_and_filters(tmp_path, kb, monkeypatch, capsys):
    db = tmp_path / "log.sqlite3"
    monkeypatch.setenv("REGENBOT_DB", str(db))
    logged(db, kb, [(1, "exosomes vibe check"), (2, "exosomes vibe check"), (3, "tell me a joke")])
    assert main(["gaps"]) == 0
    out = capsys.readouterr().out
    assert "2 asker(s)  unsure" in out and "cannot learn a phrasing: teach one of its aspects" in out
    assert out.index("off-topic chatter") < out.index("tell me a joke")
    assert main(["gaps", "--kind", "off_topic", "--format", "json"]) == 0
    assert [g["kind"] for g in json.loads(capsys.readouterr().out)] == ["off_topic"]


def test_replay_ignores_commands_and_picks_and_says_and_n_more(tmp_path, kb, monkeypatch, capsys):
    db = tmp_path / "log.sqlite3"
    monkeypatch.setenv("REGENBOT_DB", str(db))
    rows = [(n, f"exosomes vibe check number {word}") for n, word in enumerate("abcdefghijklmnopqrstuvwxy")]
    logged(db, kb, rows, picks=[("exosomes vibe check", "exosomes-overview")])
    conn = connect(db)
    with conn:
        conn.execute(
            "INSERT INTO queries (created_at, frontend, question, normalised, answered, reason)"
            " VALUES ('2026-01-01', 'console', '/help', '/help', 0, 'not_covered')"
        )
    report = replay(conn, Pipeline(kb))
    assert report.skipped == 2 and not report.regressed  # "[exosomes-overview]" and "/help"
    assert main(["replay"]) == 0
    out = capsys.readouterr().out
    assert "[exosomes-overview]" not in out and "/help" not in out
    assert "still not answered: 25" in out and "... and 5 more" in out


def test_suggestions_accept_teaches_a_did_you_mean_pick(tmp_path, kb_copy, kb, monkeypatch, capsys):
    db = tmp_path / "log.sqlite3"
    monkeypatch.setenv("REGENBOT_DB", str(db))
    logged(db, kb, [], picks=[("exosomes vibe check", "exosomes-evidence")])
    assert main(["--knowledge", str(kb_copy), "suggestions"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "vibe check" in x)
    assert "exosomes-evidence" in line
    assert main(["--knowledge", str(kb_copy), "suggestions", "accept", line.split()[0]]) == 0
    assert "taught 1 phrasing(s) for exosomes-evidence" in capsys.readouterr().out
    assert main(["--knowledge", str(kb_copy), "suggestions"]) == 0
    assert "vibe check" not in capsys.readouterr().out  # taught: no longer a candidate


# -- schema, sealing, reload context -----------------------------------------------------------


def test_migrations_apply_by_presence_so_other_branches_numbers_still_land(tmp_path):
    conn = sqlite3.connect(tmp_path / "x.sqlite3")
    migrate(conn)
    applied = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert applied == sorted(n for n, _, _ in MIGRATIONS) and {8, 9} <= set(applied)
    # A number below the highest that has not landed yet (the quiz's 6 and 7 have).
    gap = min(n for n in range(1, max(applied)) if n not in applied)
    later = (*MIGRATIONS, (gap, "another branch's table", "CREATE TABLE from_another_branch (x INTEGER)"))
    assert migrate(conn, migrations=later) == [gap]
    assert migrate(conn, migrations=later) == []


def test_sealed_asker_reference_needs_the_key():
    alice = Pseudonymizer(b"a" * 32)
    token = alice.seal("123456789:42")
    assert "123456789" not in token and alice.unseal(token) == "123456789:42"
    assert Pseudonymizer(b"b" * 32).unseal(token) is None
    assert alice.unseal(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]) is None


def test_reload_keeps_follow_up_context_where_its_ids_still_exist(kb):
    from bot.telegram.reload import _still_valid

    store = ContextStore()
    pipeline = Pipeline(kb, contexts=store)
    store.put("kept", Frame(("prp",), "safety", ("prp",), "prp-safety", (), ""))
    store.put("partly", Frame(("prp",), "safety", ("prp",), "prp-gone", ("nope-nope", "prp-evidence"), "q"))
    store.put("gone", Frame(("nobody",), None, ("nobody",), "nobody-safety", (), ""))
    assert store.prune(lambda frame: _still_valid(frame, pipeline)) == 1
    assert store.get("kept") == Frame(("prp",), "safety", ("prp",), "prp-safety", (), "")
    assert store.get("partly") == Frame(("prp",), "safety", ("prp",), None, ("prp-evidence",), "q")
    assert store.get("gone") is None


def test_a_teach_cut_short_while_checking_leaves_learnt_yaml_as_it_was(kb_copy, monkeypatch):
    """The file only ever holds a checked version: a crash during the check (here an
    interrupt, as a SIGKILL would be) must not leave the unchecked entry behind."""
    import bot.teaching as teaching

    path = kb_copy / "learnt.yaml"
    before = path.read_text()

    real = teaching.Pipeline
    calls = []

    def killed(kb):  # the first pipeline is the old knowledge; the second checks the new entry
        calls.append(kb)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(kb)

    monkeypatch.setattr(teaching, "Pipeline", killed)
    with pytest.raises(KeyboardInterrupt):
        teach(kb_copy, ["exosomes vibe check"], "exosomes-evidence", by="x")
    assert len(calls) == 2 and any(t.phrase == "exosomes vibe check" for t in calls[1].learnt)
    assert path.read_text() == before
    load_knowledge(kb_copy)  # still loads
    assert [p.name for p in kb_copy.iterdir() if p.name.startswith(".learnt")] in ([], [".learnt.yaml.lock"])


def test_every_teach_command_gaps_suggests_runs(tmp_path, kb_copy, monkeypatch, capsys):
    """Run what `regenbot gaps` prints: an overview or a focused id was offered and failed."""
    db = tmp_path / "log.sqlite3"
    monkeypatch.setenv("REGENBOT_DB", str(db))
    monkeypatch.setenv("REGENBOT_KNOWLEDGE", str(kb_copy))
    kb = load_knowledge(kb_copy)
    questions = ["exosomes vibe check", "prp the whole story pls", "secretome vibes overall"]
    logged(db, kb, [(n, q) for n, q in enumerate(questions * 2)])
    conn = connect(db)
    with conn:  # what the log records for a "did you mean": ids with the focus suffix, overviews first
        for user in ("a", "b"):
            conn.execute(
                "INSERT INTO queries (created_at, frontend, question, normalised, answered, reason, suggestions,"
                " user_pseudonym) VALUES ('2026-12-01', 'telegram', 'prp upkeep stuff', 'prp upkeep stuff', 0,"
                " 'unsure', '[\"prp-overview\", \"prp-limitations.1.0\"]', ?)",
                (user,),
            )
    assert main(["gaps"]) == 0
    out = capsys.readouterr().out
    commands = [ln.split("teach: regenbot ", 1)[1].split() for ln in out.splitlines() if "teach: regenbot" in ln]
    assert commands, out
    for command in commands:
        assert main(command) == 0, command


def test_a_reply_that_says_the_review_does_not_report_it_is_still_a_gap(tmp_path, kb):
    """"How many PRP sessions?" is answered with the gaps' dose-response line after "the review
    does not discuss doses": the maintainers must still see the question."""
    db = tmp_path / "log.sqlite3"
    logged(db, kb, [(1, "how many PRP sessions are needed"), (2, "what concentration of platelets is optimal")])
    gaps = {g.examples[0]: g for g in find_gaps(connect(db))}
    assert gaps["how many PRP sessions are needed"].kind == "not_answered"
    assert "what concentration of platelets is optimal" in gaps
