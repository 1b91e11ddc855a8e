from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.core.knowledge import Knowledge
from bot.core.loader import load_knowledge
from bot.pipeline import DEFAULT_KNOWLEDGE_DIR, Pipeline

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def kb() -> Knowledge:
    return load_knowledge(DEFAULT_KNOWLEDGE_DIR)


@pytest.fixture()
def pipeline(kb: Knowledge) -> Pipeline:
    return Pipeline(kb)


@pytest.fixture()
def kb_copy(tmp_path: Path) -> Path:
    """A writable copy of the knowledge base, for tests that break it on purpose."""
    target = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, target)
    return target


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own database, key and XDG dirs; nothing touches the home directory."""
    monkeypatch.setenv("REGENBOT_DB", str(tmp_path / "regenbot.sqlite3"))
    monkeypatch.setenv("REGENBOT_KEY_FILE", str(tmp_path / "pseudonym.key"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("TELEGRAM_BOT_TOKEN", "REGENBOT_ADMIN_IDS", "REGENBOT_PSEUDONYM_KEY", "REGENBOT_KNOWLEDGE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path
