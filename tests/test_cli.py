"""The regenbot command, called the way users and score.py call it."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import build_parser, main

REPO = Path(__file__).resolve().parent.parent


def run_cli(args: list[str], stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=full_env,
        timeout=60,
    )


def test_ask_json_contract(capsys):
    assert main(["ask", "--json", "how does PRP work"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["answered"] is True and out["intent"] == "prp.mechanism"
    assert 0 <= out["score"] <= 100
    assert isinstance(out["text"], str) and "PDGF" in out["text"]
    assert out["citations"] and all(isinstance(n, int) for n in out["citations"])
    assert out["suggestions"] == []


def test_ask_json_out_of_scope(capsys):
    assert main(["ask", "--json", "how", "to", "inject", "botox"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["answered"] is False and out["intent"] is None and out["citations"] == []


def test_ask_stdin_one_json_object_per_line_and_no_cross_talk():
    questions = ["how does PRP work", "and is it safe?", "", "qwertyuiop", "ref 12"]
    proc = run_cli(["ask", "--json", "-"], stdin="\n".join(questions) + "\n")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == len(questions)
    assert rows[0]["intent"] == "prp.mechanism"
    # Replayed log lines are independent questions: no follow-up context leaks between them.
    assert rows[1]["intent"] == "compare.safety"
    assert rows[2]["answered"] is False and rows[3]["answered"] is False
    assert "Xiao H" in rows[4]["text"]


def test_ask_plain_text_and_empty_question(capsys):
    assert main(["ask", "exosome", "evidence"]) == 0
    assert "Evidence: Emerging" in capsys.readouterr().out
    assert main(["ask", "   "]) == 2
    assert "give a question" in capsys.readouterr().err


def test_chat_conversation_with_follow_ups_and_suggestions(monkeypatch, capsys):
    script = (
        "how does PRP work\nand is it safe?\nwhat about exosomes?\nexosomes vibe check\n1\n/ref 11\n/nonsense\n/quit\n"
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO(script))
    assert main(["chat"]) == 0
    out = capsys.readouterr().out
    assert "PRP — Mechanism of action" in out
    assert "PRP — Safety" in out
    assert "Exosomes — Safety" in out
    assert "1. Exosomes: overview" in out
    assert "Exosomes (extracellular vesicles) — Overview" in out
    assert "Banihashemi M" in out
    assert "Unknown command" in out


def test_plain_regenbot_is_the_chat_and_ends_on_eof():
    proc = run_cli([], stdin="exosomes evidence\n")
    assert proc.returncode == 0, proc.stderr
    assert "Exosomes — Strength of evidence" in proc.stdout


def test_eval_command_prints_the_figures(capsys):
    assert main(["eval", "--sweep"]) == 0
    out = capsys.readouterr().out
    for needle in (
        "in-scope answered correctly",
        "out-of-scope rejected",
        "citation coverage",
        "macro F1",
        "threshold sweep",
        "<- chosen",
    ):
        assert needle in out


def test_eval_meets_the_bar_on_the_project_question_set():
    from bot.evaluation import DEFAULT_QUESTIONS, evaluate, load_cases
    from bot.pipeline import Pipeline

    cases = load_cases(DEFAULT_QUESTIONS)
    assert len(cases) >= 150
    report = evaluate(Pipeline.from_directory(), cases)
    assert report.in_scope >= 0.95
    assert report.out_of_scope >= 0.95
    assert report.citation_coverage >= 0.95


def test_eval_reports_unreadable_question_file(tmp_path, capsys):
    bad = tmp_path / "q.yaml"
    bad.write_text("- {q: no kind}\n")
    assert main(["eval", "--questions", str(bad)]) == 2
    assert "needs kind" in capsys.readouterr().err


def _commands(parser=None, prefix=""):
    parser = parser or build_parser()
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            for name, sub in action.choices.items():
                yield f"{prefix}{name}".strip()
                yield from _commands(sub, f"{prefix}{name} ")
        elif prefix and not action.option_strings and action.choices:
            # Actions given as a first positional word: `gaps teach`, `suggestions accept`.
            yield from (f"{prefix}{choice}" for choice in action.choices)


@pytest.mark.parametrize("command", sorted(set(_commands())))
def test_every_command_is_documented_in_the_readme(command):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"regenbot {re.escape(command)}\b", readme), f"`regenbot {command}` is not in README.md"


@pytest.mark.parametrize("name", ["heldout.yaml", "heldout2.yaml", "heldout3.yaml", "heldout4.yaml", "heldout5.yaml"])
def test_held_out_sets_do_not_regress(name):
    """Regression guard only: these sets were written to judge generalisation (see README)."""
    from bot.evaluation import evaluate, load_cases
    from bot.pipeline import Pipeline

    report = evaluate(Pipeline.from_directory(), load_cases(REPO / "benchmarks" / name))
    assert report.out_of_scope >= 0.95
    assert report.in_scope >= 0.85


def test_eval_all_prints_one_line_per_set_and_never_scores_a_sealed_one(capsys):
    from bot.evaluation import question_sets

    assert main(["eval", "--all"]) == 0
    out = capsys.readouterr().out
    for qset in question_sets():
        line = next(ln for ln in out.splitlines() if ln.startswith(qset.file.name))
        assert ("sealed: not scored yet" in line) == qset.sealed
        if not qset.sealed:
            assert "%" in line


def test_eval_accepts_several_sets(capsys):
    assert main(["eval", "--questions", "benchmarks/heldout4.yaml", "--questions", "benchmarks/heldout5.yaml"]) == 0
    out = capsys.readouterr().out
    assert out.count("in-scope answered correctly") == 2 and "== benchmarks/heldout5.yaml" in out
