"""Webhook mode faces the internet: what a stranger sends must cost little and reveal nothing.

The real `regenbot run --webhook` runs with the file-descriptor limit of a stock system
(1,024, soft and hard, so it cannot raise it) and is sent what the adversarial test sent:
20 parallel 10 MB bodies without the secret, 1,100 connections that never finish their
headers, bodies that are not updates.
"""

from __future__ import annotations

import json
import resource
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.support.botproc import _STARTED, REPO, bot_env, texts_to, wait_text
from tests.support.fake_telegram import FakeTelegram

SECRET = "s3cret-token-for-tests"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
FD_LIMIT = 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_of(pid: int, field: str) -> float:
    """A /proc/<pid>/status memory figure in MB (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} for {pid}")


def stock_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


@pytest.fixture(scope="module")
def webhook(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("webhook")
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    with FakeTelegram() as tg:
        env = bot_env(
            tg,
            tmp,
            REGENBOT_WEBHOOK_URL=url,
            REGENBOT_WEBHOOK_SECRET=SECRET,
            REGENBOT_WEBHOOK_LISTEN="127.0.0.1",
            REGENBOT_WEBHOOK_PORT=str(port),
        )
        log = (tmp / "bot.log").open("w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=stock_fd_limit,
        )
        _STARTED.append(proc)
        try:
            tg.wait_for(lambda: tg.calls("setWebhook"), timeout=20)
        except AssertionError:
            proc.kill()
            raise AssertionError((tmp / "bot.log").read_text()) from None
        # A client that starts its headers and never finishes them; checked by the timeout
        # test, which therefore waits only for what the tests before it have not used up.
        laggard = socket.create_connection(("127.0.0.1", port))
        laggard.sendall(b"POST /telegram HTTP/1.1\r\nHost: x\r\n")
        yield tg, proc, tmp, url, port, (laggard, time.monotonic())
        laggard.close()
        proc.terminate()
        proc.wait(timeout=20)


def update(update_id: int, chat: int, text: str) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "text": text,
            "chat": {"id": chat, "type": "private", "first_name": "A"},
            "from": {"id": chat, "is_bot": False, "first_name": "A"},
        },
    }


def raw_post(port: int, headers: dict[str, str], body_size: int, chunk: int = 1 << 16) -> str:
    """POST with a body of ``body_size`` bytes, sent as fast as the server takes it; the status line or ''."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(f"POST /telegram HTTP/1.1\r\nHost: x\r\nContent-Length: {body_size}\r\n{head}\r\n".encode())
        payload = b"x" * chunk
        sent = 0
        try:
            while sent < body_size:
                sock.sendall(payload[: body_size - sent])
                sent += len(payload[: body_size - sent])
        except OSError:
            pass  # the server hung up without reading the rest: what we want
        try:
            return sock.recv(200).decode(errors="replace").split("\r\n")[0]
        except OSError:
            return ""


def test_updates_with_the_secret_are_answered_and_duplicates_ignored(webhook):
    tg, _, _, url, _, _ = webhook
    body = update(1, 140, "exosome safety")
    assert httpx.post(url, json=body, headers={HEADER: SECRET}).status_code == 200
    assert httpx.post(url, json=body, headers={HEADER: SECRET}).status_code == 200  # Telegram retrying
    wait_text(tg, 140, "Exosomes — Safety")
    assert httpx.post(url, json=update(2, 141, "prp evidence")).status_code == 403
    assert len(texts_to(tg, 140)) == 1 and not texts_to(tg, 141)


def test_unauthenticated_bodies_are_refused_before_they_are_read(webhook):
    _, proc, _, _, port, _ = webhook
    before = status_of(proc.pid, "VmHWM")
    statuses: list[str] = []
    threads = [
        threading.Thread(target=lambda: statuses.append(raw_post(port, {"X-Other": "1"}, 10 << 20))) for _ in range(20)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    peak = status_of(proc.pid, "VmHWM")
    print(f"20 x 10 MB unauthenticated bodies: peak resident memory {before:.1f} -> {peak:.1f} MB")
    assert peak < 100 and peak - before < 20
    assert all(s in ("", "HTTP/1.1 403 Forbidden") for s in statuses) and "HTTP/1.1 403 Forbidden" in statuses


def test_bodies_over_1_mb_are_refused_even_with_the_secret(webhook):
    _, _, _, _, port, _ = webhook
    assert raw_post(port, {HEADER: SECRET}, 2 << 20) in ("", "HTTP/1.1 413 Request Entity Too Large")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:  # no length: chunked, capped as it comes
        sock.sendall(
            f"POST /telegram HTTP/1.1\r\nHost: x\r\n{HEADER}: {SECRET}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        chunk = b"x" * 65536
        try:
            for _ in range(40):
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        except OSError:
            pass
        assert sock.recv(200).decode(errors="replace").startswith("HTTP/1.1 413")


@pytest.mark.parametrize(
    "body",
    [b"[]", b"null", b"123", b'"text"', b'{"message": 7}', b'{"update_id": 5, "message": 7}', b"{", b"[" * 100_000],
)
def test_anything_but_an_update_gets_400_and_one_log_line(webhook, body):
    _, _, tmp, url, _, _ = webhook
    response = httpx.post(url, content=body, headers={HEADER: SECRET, "Content-Type": "application/json"})
    assert response.status_code == 400
    log = (tmp / "bot.log").read_text()
    assert "Traceback" not in log and " 500 " not in log


def test_health_shows_nothing_a_stranger_should_not_see(webhook):
    _, _, tmp, _, port, _ = webhook
    health = httpx.get(f"http://127.0.0.1:{port}/healthz").json()
    assert set(health) == {"ok", "kb_version", "log_pending", "log_writing", "inbox_durable"}
    assert health["ok"] is True and str(tmp) not in json.dumps(health)


def test_slow_headers_are_timed_out(webhook):
    *_, (laggard, opened) = webhook
    laggard.settimeout(60)  # a bound for a broken server only; the bot closes it after 10 s
    assert laggard.recv(100) == b""
    print(f"slow headers: connection closed after {time.monotonic() - opened:.1f} s")


def test_health_and_updates_still_answer_under_1100_slow_connections(webhook):
    tg, proc, tmp, url, port, _ = webhook
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1300:
        if hard != resource.RLIM_INFINITY and hard < 1300:
            pytest.skip("this test process may not open 1,100 sockets")
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard if hard != resource.RLIM_INFINITY else 4096), hard))
    slow = []
    try:
        for _ in range(1100):  # more than the bot's 1,024 descriptors
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"POST /telegram HTTP/1.1\r\n")
            slow.append(sock)
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert health.status_code == 200 and health.json()["ok"] is True
        answer = httpx.post(url, json=update(30, 142, "prp safety"), headers={HEADER: SECRET}, timeout=5)
        assert answer.status_code == 200
        wait_text(tg, 142, "PRP — Safety")
    finally:
        for sock in slow:
            sock.close()
    log = (tmp / "bot.log").read_text()
    print(f"1,100 slow connections: /healthz answered; log has {len(log.splitlines())} lines")
    assert "Too many open files" not in log and len(log.splitlines()) < 200
    assert proc.poll() is None
