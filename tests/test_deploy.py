"""deploy/: the Dockerfile, compose file and systemd unit stay consistent with the code."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"


def env_vars_read_by_code() -> set[str]:
    found = set()
    for path in (REPO / "bot").rglob("*.py"):
        found |= set(re.findall(r"""(?:environ|env)\.get\(\s*["']([A-Z][A-Z0-9_]+)["']""", path.read_text()))
    return found


def test_every_environment_variable_is_documented():
    variables = env_vars_read_by_code()
    assert {"TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "REGENBOT_DB", "REGENBOT_ADMIN_IDS"} <= variables
    example = (DEPLOY / ".env.example").read_text()
    readme = (REPO / "README.md").read_text()
    for name in variables - {"XDG_DATA_HOME", "XDG_CONFIG_HOME"}:
        assert re.search(rf"^{name}=", example, re.M), f"{name} missing from deploy/.env.example"
        assert name in readme, f"{name} missing from README.md"


def test_dockerfile_is_slim_non_root_with_knowledge_baked_in_and_data_volume():
    text = (DEPLOY / "Dockerfile").read_text()
    instructions = [line.split()[0] for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    assert re.search(r"^FROM python:3\.\d+-slim$", text, re.M)
    for source in re.findall(r"^COPY (.+) \S+$", text, re.M):
        for item in source.split():
            assert (REPO / item).exists(), f"COPY source {item} does not exist"
    assert "COPY knowledge" in text and 'VOLUME ["/data"]' in text
    assert instructions.index("USER") < instructions.index("CMD")
    assert re.search(r"^USER regenbot$", text, re.M)
    assert 'CMD ["regenbot", "run"]' in text and "regenbot kb check" in text


def test_compose_and_systemd_unit_point_at_real_things():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    service = compose["services"]["regenbot"]
    assert (REPO / service["build"]["context"].replace("..", ".") / service["build"]["dockerfile"]).exists() or (
        DEPLOY / ".." / service["build"]["dockerfile"]
    ).exists()
    assert any(v.endswith(":/data") for v in service["volumes"])
    unit = (DEPLOY / "regenbot.service").read_text()
    assert re.search(r"^ExecStart=\S+/regenbot run$", unit, re.M)
    assert "KillSignal=SIGTERM" in unit and "User=regenbot" in unit


@pytest.mark.skipif(
    not shutil.which("docker") or subprocess.run(["docker", "info"], capture_output=True).returncode != 0,
    reason="no Docker engine on this machine (the client alone cannot build)",
)
def test_docker_build():
    proc = subprocess.run(
        ["docker", "build", "-f", "deploy/Dockerfile", "-t", "regenbot-test", "."],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
