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
