"""A question someone typed must never run as a spreadsheet formula in an export."""

from __future__ import annotations

import csv
import io

import pytest

from bot.cli import main
from bot.pipeline import Pipeline
from bot.querylog.csvsafe import SafeWriter, safe_cell
from bot.querylog.pseudonym import Pseudonymizer
from bot.querylog.reports import export_csv
from bot.querylog.schema import connect
from bot.querylog.writer import QueryLog

FORMULAS = ['=HYPERLINK("http://x","PRP")', "+1+1 prp dose", "-2+3 exosome", "@SUM(1) secretome", "\tsecretome"]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_cell_that_starts_a_formula_is_made_text(text):
    assert safe_cell(text) == "'" + text


def test_numbers_and_plain_text_are_left_alone():
    assert safe_cell(-3) == -3 and safe_cell(2.5) == 2.5 and safe_cell("how does PRP work") == "how does PRP work"
    buffer = io.StringIO()
    SafeWriter(buffer).writerow(["=1+1", 7])
    assert next(csv.reader(io.StringIO(buffer.getvalue()))) == ["'=1+1", "7"]


async def test_exports_of_the_log_and_of_the_gaps_carry_no_live_formula(tmp_path, kb, monkeypatch, capsys):
    db = tmp_path / "log.db"
    qlog = QueryLog(db, Pseudonymizer(b"k" * 64), interval=0.01)
    await qlog.open()
    pipeline = Pipeline(kb, sink=qlog)
    for n, text in enumerate(FORMULAS):
        pipeline.ask(text, user=n)
        pipeline.ask(text, user=n + 100)  # twice, so the gap report lists it
    await qlog.close()
    export = tmp_path / "export.csv"
    export_csv(connect(db), export)
    cells = [c for row in csv.reader(export.open(newline="")) for c in row]
    assert cells and not any(c.startswith(("=", "+", "-", "@", "\t")) for c in cells)
    monkeypatch.setenv("REGENBOT_DB", str(db))
    assert main(["gaps", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    cells = [c for row in csv.reader(io.StringIO(out)) for c in row]
    assert not any(c.startswith(("=", "+", "-", "@", "\t")) for c in cells)
