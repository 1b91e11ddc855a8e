"""Personal data never reaches the disk: not in a column, a spill, a log line or an export.

The PHI below is what clinicians paste: a patient's name after a title, an age, an
e-mail address, a phone number, a national id (NIK) and an insurance number.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
import stat
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.pipeline import Pipeline
from bot.querylog.pseudonym import Pseudonymizer
from bot.querylog.redact import redact
from bot.querylog.reports import export_csv
from bot.querylog.schema import connect
from bot.querylog.writer import QueryLog

KEY = b"k" * 64
REPO = Path(__file__).resolve().parent.parent

PHI_QUESTIONS = [
    "Mrs Siti Rahayu, 54, asks: is PRP safe after laser?",
    "patient Budi Santoso 61 yo wants exosomes, email siti.rahayu@example.com",
    "pt. Wayan Sudarma, 47-year-old, NIK 3201123456789012, PRP evidence",
    "Ibu Ketut Lestari aged 58 BPJS 0001234567890 secretome safety",
    "call Dr Made Wirawan on +62 812-3456-7890 about insurance no. AXA-99812-X exosomes",
    "Ny. Sari, 66 tahun, melasma PRP?",
]
# Fragments that must not appear anywhere, in any case, in raw or normalised form.
PHI_FRAGMENTS = [
    "siti",
    "rahayu",
    "budi",
    "santoso",
    "wayan",
    "sudarma",
    "ketut",
    "lestari",
    "made wirawan",
    "wirawan",
    "sari",
    "example.com",
    "example com",
    "3201123456789012",
    "3201",
    "0001234567890",
    "axa-99812",
    "axa 99812",
    "99812",
    "3456",
    "54 yo",
    ", 54",
    "61 yo",
    "47-year-old",
    "47 year old",
    "aged 58",
    "66 tahun",
]


@pytest.mark.parametrize(
    ("text", "placeholder", "secret"),
    [
        ("Mrs Siti Rahayu, 54, PRP?", "[name]", "Siti"),
        ("Mrs Siti Rahayu, 54, PRP?", "[age]", "54"),
        ("pt. Budi Santoso after laser", "[name]", "Budi"),
        ("patient Wayan wants exosomes", "[name]", "Wayan"),
        ("Ibu Ketut Lestari secretome", "[name]", "Lestari"),
        ("Bapak Made asked", "[name]", "Made"),
        ("Mr. O'Neil wants PRP", "[name]", "Neil"),
        ("Ny. S, 66 tahun, melasma", "[age]", "66"),
        ("a 61 yo woman", "[age]", "61"),
        ("a 61 y.o. woman", "[age]", "61"),
        ("47-year-old, exosomes?", "[age]", "47"),
        ("47 years old", "[age]", "47"),
        ("aged 58, PRP", "[age]", "58"),
        ("usia 58 tahun", "[age]", "58"),
        ("NIK 3201123456789012", "[id]", "3201123456789012"),
        ("nik 3201 1234 5678 9012", "[id]", "5678"),
        ("BPJS 0001234567890 covered?", "[id]", "0001234567890"),
        ("insurance no. AXA-99812-X", "[id]", "99812"),
        ("policy number P-1234 ok", "[id]", "1234"),
    ],
)
def test_redaction_of_names_ages_and_ids(text, placeholder, secret):
    out = redact(text)
    assert placeholder in out and secret not in out


@pytest.mark.parametrize(
    "text",
    [
        "PRP vs exosomes for collagen I/III?",
        "ref 12 and miR-146a",
        "refs 10, 11, 12",
        "Dr PRP?",
        "patient PRP results after 2 years",
        "TGF-β and PDGF levels",
    ],
)
def test_redaction_leaves_clinical_questions_alone(text):
    assert redact(text) == text


class ReadOnlyLog(QueryLog):
    async def _try_connect(self) -> bool:
        ok = await super()._try_connect()
        if ok:
            await self._conn.execute("PRAGMA query_only = 1")
        return ok


def ask_phi(qlog: QueryLog, kb, user: int = 555) -> Pipeline:
    pipeline = Pipeline(kb, sink=qlog)
    for i, question in enumerate(PHI_QUESTIONS):
        pipeline.ask(question, user=user, conversation=i, frontend="telegram")
    # A "did you mean" pick records the original wording as a learnt phrasing.
    pipeline.choose_suggestion(PHI_QUESTIONS[0], "prp-safety", user=user, conversation="pick")
    qlog.record_feedback(user, "prp-safety", PHI_QUESTIONS[1], False)
    return pipeline


def leaks(text: str) -> list[str]:
    lowered = text.lower()
    return [fragment for fragment in PHI_FRAGMENTS if fragment in lowered]


def database_text(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


async def test_no_phi_in_any_column_spill_log_or_export(tmp_path, kb, caplog, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    db = tmp_path / "log.db"
    with caplog.at_level(logging.DEBUG):
        qlog = QueryLog(db, Pseudonymizer(KEY), interval=0.01)
        await qlog.open()
        ask_phi(qlog, kb)
        await qlog.close()
        # And a spill: the same questions while the database refuses writes.
        spilling = ReadOnlyLog(db, Pseudonymizer(KEY), interval=0.01, max_backoff=0.05)
        await spilling.open()
        ask_phi(spilling, kb, user=556)
        await spilling.close(timeout=0.3)
    spill = spilling.spill_candidates()[0]
    assert spill.exists()
    assert leaks(spill.read_text()) == []
    rows = sqlite3.connect(db).execute("SELECT COUNT(*) FROM queries").fetchone()[0]
    assert rows == len(PHI_QUESTIONS) + 1
    dump = database_text(db)
    assert "[name]" in dump and "[age]" in dump and "[id]" in dump and "[email]" in dump
    assert leaks(dump) == []
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("log.db") and p.is_file())
    assert leaks(raw.decode("utf-8", errors="replace")) == []
    export = tmp_path / "export.csv"
    export_csv(connect(db), export)
    assert leaks(export.read_text()) == []
    assert leaks("\n".join(r.getMessage() for r in caplog.records)) == []


async def test_normalised_text_is_derived_from_the_redacted_question(tmp_path, kb):
    db = tmp_path / "log.db"
    qlog = QueryLog(db, Pseudonymizer(KEY), interval=0.01)
    await qlog.open()
    Pipeline(kb, sink=qlog).ask("email siti.rahayu@example.com about PRP for lips", user=1)
    await qlog.close()
    question, normalised = sqlite3.connect(db).execute("SELECT question, normalised FROM queries").fetchone()
    assert question == "email [email] about PRP for lips"
    assert normalised == "email email about prp for lips"


async def test_forget_removes_learnt_phrasings_too(tmp_path, kb):
    db = tmp_path / "log.db"
    qlog = QueryLog(db, Pseudonymizer(KEY), interval=0.01)
    await qlog.open()
    pipeline = Pipeline(kb, sink=qlog)
    pipeline.choose_suggestion("prp for lips please", "prp-overview", user=1)
    pipeline.choose_suggestion("prp for lips", "prp-overview", user=2)
    await qlog.flush()
    conn = connect(db)
    assert [tuple(r) for r in conn.execute("SELECT count FROM phrasing_candidates")] == [(1,), (1,)]
    await qlog.forget(1)
    await qlog.close()
    examples = [r[0] for r in connect(db).execute("SELECT example FROM phrasing_candidates")]
    assert examples == ["prp for lips"]


def test_phrasings_logged_before_the_upgrade_keep_their_counts(tmp_path):
    from bot.querylog.schema import migrate

    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    migrate(conn, target=3)
    conn.execute(
        "INSERT INTO phrasing_candidates (normalised, intent, example, count, first_seen, last_seen)"
        " VALUES ('prp lips', 'prp.benefits', 'PRP lips?', 4, '2026-01-01', '2026-02-01')"
    )
    conn.commit()
    conn.close()
    rows = [dict(r) for r in connect(db).execute("SELECT * FROM phrasing_candidates")]
    assert rows == [
        {
            "normalised": "prp lips",
            "intent": "prp.benefits",
            "example": "PRP lips?",
            "count": 4,
            "first_seen": "2026-01-01",
            "last_seen": "2026-02-01",
        }
    ]


def test_suggestions_command_still_lists_learnt_phrasings(kb, capsys):
    async def pick() -> None:
        qlog = QueryLog(os.environ["REGENBOT_DB"], Pseudonymizer(KEY), interval=0.01)
        await qlog.open()
        Pipeline(kb, sink=qlog).choose_suggestion("prp for lips", "prp-overview", user=1)
        await qlog.close()

    asyncio.run(pick())
    assert main(["suggestions"]) == 0
    assert "'prp for lips'" in capsys.readouterr().out


async def test_database_spill_and_export_files_are_private(tmp_path, kb, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    db = tmp_path / "log.db"
    qlog = QueryLog(db, Pseudonymizer(KEY), interval=0.01)
    await qlog.open()
    ask_phi(qlog, kb)
    await qlog.flush()
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir() if p.name.startswith("log.db")}
    assert {"log.db", "log.db-wal", "log.db-shm"} <= modes.keys()
    await qlog.close()
    spilling = ReadOnlyLog(db, Pseudonymizer(KEY), interval=0.01, max_backoff=0.05)
    await spilling.open()
    ask_phi(spilling, kb)
    await spilling.close(timeout=0.3)
    modes[spilling.spill_candidates()[0].name] = stat.S_IMODE(spilling.spill_candidates()[0].stat().st_mode)
    export = tmp_path / "export.csv"
    export.write_text("old world-readable file\n")
    export.chmod(0o644)
    export_csv(connect(db), export)
    modes[export.name] = stat.S_IMODE(export.stat().st_mode)
    assert set(modes.values()) == {0o600}, modes


def test_deploy_files_keep_the_pseudonym_key_off_the_data_volume():
    compose = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text())
    service = compose["services"]["regenbot"]
    env = service["environment"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}
    db_mount = next(m for m in mounts if env["REGENBOT_DB"].startswith(m + "/"))
    key_mount = next(m for m in mounts if env["REGENBOT_KEY_FILE"].startswith(m + "/"))
    assert mounts[db_mount] != mounts[key_mount], "the key must not live on the database's volume"
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    key_file = re.search(r"REGENBOT_KEY_FILE=(\S+)", dockerfile).group(1)
    db_file = re.search(r"REGENBOT_DB=(\S+)", dockerfile).group(1)
    assert not key_file.startswith(str(Path(db_file).parent) + "/")
    unit = (REPO / "deploy" / "regenbot.service").read_text()
    db_dir = str(Path(re.search(r"REGENBOT_DB=(\S+)", unit).group(1)).parent)
    key_setting = re.search(r"REGENBOT_KEY_FILE=(\S+)", unit).group(1)
    assert not key_setting.startswith(db_dir), "the key must not live in the database's directory tree"
    assert f"ReadWritePaths={db_dir}" in unit
