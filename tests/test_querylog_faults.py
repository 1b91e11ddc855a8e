"""The query log under poison input, full disks, damaged files and unsafe -shm files.

Faults are real: undecodable bytes on a real stdin, /dev/full standing in for a full
disk, a file that is not a database, a read-only -shm file. Nothing may stop the writer,
and every record is either written, kept in a spill, set aside, or counted as lost.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bot.cli import main
from bot.pipeline import Pipeline
from bot.querylog.pseudonym import Pseudonymizer
from bot.querylog.schema import connect
from bot.querylog.writer import QueryLog

KEY = b"k" * 64
REPO = Path(__file__).resolve().parent.parent
POISON = b"how does prp work \xff\xfe\n"


def count(db: Path, table: str = "queries") -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


@pytest.fixture()
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp directory of our own, so fallback spills never touch the machine's /tmp."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


# -- poison records --------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["C.UTF-8", "C"])
def test_undecodable_stdin_bytes_neither_raise_nor_stop_the_writer(tmp_path, locale):
    db = tmp_path / "log.sqlite3"
    env = {**os.environ, "REGENBOT_DB": str(db), "LC_ALL": locale, "PYTHONIOENCODING": ""}
    stdin = b"exosome evidence\n" + POISON + b"\xc3(\xa0\xa1 prp safety\n" + b"compare all three\n"
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "--json", "-"],
        input=stdin,
        capture_output=True,
        cwd=REPO,
        env=env,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert b"Traceback" not in proc.stderr and b"Error" not in proc.stderr
    assert len([json.loads(line) for line in proc.stdout.splitlines()]) == 4
    assert count(db) == 4  # writer alive: 0 records lost
    questions = [r[0] for r in sqlite3.connect(db).execute("SELECT question FROM queries ORDER BY id")]
    assert questions[1] == "how does prp work \ufffd\ufffd"


async def test_lone_surrogates_are_repaired_and_later_records_still_written(tmp_path, kb):
    db = tmp_path / "log.db"
    qlog = QueryLog(db, Pseudonymizer(KEY), interval=0.01)
    await qlog.open()
    pipeline = Pipeline(kb, sink=qlog)
    pipeline.ask("how does prp work \udcff\udcfe", user=1)  # surrogateescape'd bytes
    pipeline.ask("exosome safety \ud800", user=2)  # a lone surrogate, as JSON "\ud800" decodes
    qlog.record_feedback(3, "prp-safety", "is prp safe \udfff", False)
    assert await qlog.flush()
    pipeline.ask("prp evidence", user=4)
    assert await qlog.flush()
    assert not qlog._task.done()
    await qlog.close()
    assert count(db) == 3 and count(db, "feedback") == 1
    assert qlog.set_aside == 0 and qlog.failures == 0


async def test_a_record_that_cannot_be_written_is_set_aside_and_its_batch_written(tmp_path, kb, caplog):
    db = tmp_path / "log.db"
    qlog = QueryLog(db, Pseudonymizer(KEY), interval=0.01)
    await qlog.open()
    pipeline = Pipeline(kb, sink=qlog)
    pipeline.ask("prp evidence", user=1)
    qlog.record_quiz(1, None, "prp", True)  # type: ignore[arg-type]  # a bug upstream: NOT NULL fails
    pipeline.ask("exosome safety", user=2)
    with caplog.at_level(logging.WARNING, logger="bot.querylog.writer"):
        assert await qlog.flush()
    await qlog.close()
    assert count(db) == 2 and count(db, "quiz_answers") == 0
    assert qlog.set_aside == 1
    rejected = db.with_name("log.db.rejected.jsonl")
    assert len(rejected.read_text().splitlines()) == 1
    assert [r.getMessage() for r in caplog.records if "set aside" in r.getMessage()]


async def test_writer_survives_an_unexpected_error_and_keeps_writing(tmp_path, kb, monkeypatch):
    db = tmp_path / "log.db"
    qlog = QueryLog(db, Pseudonymizer(KEY), interval=0.01, max_backoff=0.02)
    await qlog.open()
    real_flush, calls = qlog.flush, []

    async def broken_flush() -> bool:
        calls.append(1)
        monkeypatch.setattr(qlog, "flush", real_flush)
        raise RuntimeError("a bug between batches")

    monkeypatch.setattr(qlog, "flush", broken_flush)
    Pipeline(kb, sink=qlog).ask("prp evidence", user=1)
    Pipeline(kb, sink=qlog).ask("exosome evidence", user=2)
    for _ in range(300):
        if calls and qlog.pending == 0:
            break
        await asyncio.sleep(0.01)
    assert calls and qlog.pending == 0 and not qlog._task.done()
    await qlog.close()
    assert count(db) == 2


# -- spills ---------------------------------------------------------------------------------


class ReadOnlyLog(QueryLog):
    """A log whose database refuses writes, so that close() has to spill."""

    async def _try_connect(self) -> bool:
        ok = await super()._try_connect()
        if ok:
            await self._conn.execute("PRAGMA query_only = 1")
        return ok


def ask_three(qlog: QueryLog, kb) -> None:
    pipeline = Pipeline(kb, sink=qlog)
    for i, q in enumerate(["how does PRP work", "PRP for lips", "exosome safety"]):
        pipeline.ask(q, user=i)


async def test_spill_falls_back_to_the_temp_dir_on_a_full_disk_and_is_imported(tmp_path, kb, private_tmp, caplog):
    db = tmp_path / "log.db"
    connect(db).close()
    beside, in_temp = QueryLog(db, Pseudonymizer(KEY)).spill_candidates()
    assert in_temp.parent == private_tmp
    beside.symlink_to("/dev/full")  # writes there fail with ENOSPC, as on a full disk
    qlog = ReadOnlyLog(db, Pseudonymizer(KEY), interval=0.01, max_backoff=0.05)
    await qlog.open()
    ask_three(qlog, kb)
    with caplog.at_level(logging.WARNING, logger="bot.querylog.writer"):
        await qlog.close(timeout=0.3)
    assert qlog.spilled == 3 and qlog.lost == 0
    assert len(in_temp.read_text().splitlines()) == 3
    assert any(f"3 record(s) kept in {in_temp}" in r.getMessage() for r in caplog.records)
    again = QueryLog(db, Pseudonymizer(KEY), interval=0.01)  # database directory usable again
    await again.open()
    await again.close()
    assert count(db) == 3 and not in_temp.exists()


async def test_spill_with_every_place_full_reports_the_exact_loss(tmp_path, kb, private_tmp, caplog):
    db = tmp_path / "log.db"
    connect(db).close()
    for candidate in QueryLog(db, Pseudonymizer(KEY)).spill_candidates():
        candidate.symlink_to("/dev/full")
    qlog = ReadOnlyLog(db, Pseudonymizer(KEY), interval=0.01, max_backoff=0.05)
    await qlog.open()
    ask_three(qlog, kb)
    with caplog.at_level(logging.WARNING, logger="bot.querylog.writer"):
        await qlog.close(timeout=0.3)
    assert qlog.lost == 3 and qlog.spilled == 0
    assert any("3 record(s) lost" in r.getMessage() for r in caplog.records)


async def test_a_torn_spill_line_is_skipped_not_fatal(tmp_path, kb, private_tmp):
    db = tmp_path / "log.db"
    qlog = ReadOnlyLog(db, Pseudonymizer(KEY), interval=0.01, max_backoff=0.05)
    await qlog.open()
    ask_three(qlog, kb)
    await qlog.close(timeout=0.3)
    spill = qlog.spill_candidates()[0]
    lines = spill.read_text().splitlines()
    spill.write_text("\n".join([lines[0], '["query", [1, 2', "\x00garbage", *lines[1:]]) + "\n")
    again = QueryLog(db, Pseudonymizer(KEY), interval=0.01)
    await again.open()
    await again.close()
    assert count(db) == 3 and not spill.exists()


async def test_two_processes_never_import_one_spill_twice(tmp_path, kb, private_tmp):
    db = tmp_path / "log.db"
    qlog = ReadOnlyLog(db, Pseudonymizer(KEY), interval=0.01, max_backoff=0.05)
    await qlog.open()
    ask_three(qlog, kb)
    await qlog.close(timeout=0.3)
    first, second = QueryLog(db, Pseudonymizer(KEY)), QueryLog(db, Pseudonymizer(KEY))
    await asyncio.gather(first.open(), second.open())
    await asyncio.gather(first.close(), second.close())
    assert count(db) == 3


# -- damaged database file -------------------------------------------------------------------


def garbage(db: Path) -> None:
    db.write_bytes(b"this is not an SQLite file, it was overwritten " * 200)


async def test_a_damaged_database_is_moved_aside_and_a_fresh_one_started(tmp_path, kb, caplog):
    db = tmp_path / "log.db"
    garbage(db)
    qlog = QueryLog(db, Pseudonymizer(KEY), interval=0.01)
    with caplog.at_level(logging.WARNING, logger="bot.querylog.writer"):
        await qlog.open()
        ask_three(qlog, kb)
        await qlog.close()
    moved = list(tmp_path.glob("log.db.corrupt-*"))
    assert len(moved) == 1 and moved[0].read_bytes().startswith(b"this is not an SQLite file")
    assert count(db) == 3
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "damaged" in warnings[0]


async def test_pages_damaged_inside_a_valid_file_are_found_at_open(tmp_path, kb):
    db = tmp_path / "log.db"
    conn = connect(db)
    conn.executemany(
        "INSERT INTO queries (created_at, frontend, question, normalised, answered) VALUES ('t', 'ask', ?, ?, 0)",
        [("q" * 500, "q")] * 200,
    )
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    with db.open("r+b") as fh:  # keep the header, scramble the pages after it
        fh.seek(4096 * 3)
        fh.write(os.urandom(4096 * 4))
    qlog = QueryLog(db, Pseudonymizer(KEY), interval=0.01)
    await qlog.open()
    ask_three(qlog, kb)
    await qlog.close()
    assert len(list(tmp_path.glob("log.db.corrupt-*"))) == 1 and count(db) == 3


@pytest.mark.parametrize(
    "argv", [["stats"], ["gaps"], ["suggestions"], ["replay"], ["export", "--csv", "out.csv"], ["gaps", "ignore", "ab"]]
)
def test_maintainer_tools_on_a_damaged_database_say_one_line_and_exit_2(argv, capsys, isolated_environment):
    db = Path(os.environ["REGENBOT_DB"])
    garbage(db)
    if argv[0] == "export":
        argv = ["export", "--csv", str(isolated_environment / "out.csv")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "damaged" in err and str(db) in err and "Traceback" not in err


# -- a -shm file SQLite would map read-only ---------------------------------------------------


def unprivileged() -> list[str]:
    """A command prefix that runs without root's power to write read-only files."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: cannot drop the right to write read-only files")
    return ["setpriv", "--bounding-set=-all", "--inh-caps=-all"]


@pytest.mark.parametrize("argv", [["stats"], ["ask", "--json", "prp evidence"]])
def test_a_read_only_shm_file_is_refused_with_one_line(tmp_path, argv):
    db = tmp_path / "log.sqlite3"
    connect(db).close()
    shm = db.with_name(db.name + "-shm")
    shm.write_bytes(b"\0" * 32768)
    shm.chmod(0o444)
    proc = subprocess.run(
        [*unprivileged(), sys.executable, "-m", "bot.cli", *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "REGENBOT_DB": str(db)},
        timeout=60,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and "-shm" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""


async def test_a_spill_left_mid_import_by_a_dead_process_is_imported(tmp_path, kb, private_tmp):
    db = tmp_path / "log.db"
    qlog = ReadOnlyLog(db, Pseudonymizer(KEY), interval=0.01, max_backoff=0.05)
    await qlog.open()
    ask_three(qlog, kb)
    await qlog.close(timeout=0.3)
    spill = qlog.spill_candidates()[0]
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    spill.rename(spill.with_name(f"{spill.name}.importing-{dead.stdout.strip()}-1"))
    again = QueryLog(db, Pseudonymizer(KEY), interval=0.01)
    await again.open()
    await again.close()
    assert count(db) == 3 and not list(tmp_path.glob("*.importing-*"))


async def test_forget_raises_rather_than_claim_rows_are_gone_when_the_database_refuses(tmp_path, kb):
    (tmp_path / "not-a-dir").write_text("a file where the database directory should be")
    qlog = QueryLog(tmp_path / "not-a-dir" / "log.db", Pseudonymizer(KEY))
    Pipeline(kb, sink=qlog).ask("prp evidence", user=1)
    with pytest.raises(sqlite3.Error):
        await qlog.forget(1)
    assert qlog.pending == 0  # what was still queued is gone, at least
