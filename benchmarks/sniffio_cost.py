"""What a missing ``sniffio`` costs per HTTP request the bot makes.

httpcore (under python-telegram-bot's httpx) runs ``import sniffio`` inside
``current_async_library()`` whenever an async lock, event, semaphore or cancellation
shield is set up — several times per request. When sniffio is installed that import is a
``sys.modules`` lookup; when it is not, each one is a failed search of ``sys.path``. The
README and pyproject claimed "~1.7 ms per message" for this; this module measures it.

Method: two client processes that differ only in whether sniffio can be imported. Each
runs with ``python -S`` and a site directory made of symlinks to this environment's
site-packages — one farm with sniffio, one without — so "missing" is a real missing
package (the same failed search the interpreter does), not a ``sys.modules`` stub. Each
client sends keep-alive POSTs with ``httpx.AsyncClient`` to a small HTTP server in a third
process on 127.0.0.1, like the bot's sendMessage calls, and reports the median time per
request and how many failed ``import sniffio`` attempts each request made. The two
clients alternate over several rounds so the machine's noise falls on both.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODES = ("installed", "missing")
_BODY = json.dumps({"ok": True, "result": {"message_id": 1, "chat": {"id": 1, "type": "private"}, "text": "x"}})
_RESPONSE = (
    f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(_BODY)}\r\n\r\n{_BODY}"
).encode()


# -- the server process ---------------------------------------------------------------


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            writer.write(_RESPONSE)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _serve() -> None:
    server = await asyncio.start_server(_handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # serve until the parent closes stdin
    server.close()


# -- the client process ---------------------------------------------------------------


class _CountSniffio:
    """A meta-path finder that only counts lookups of ``sniffio`` that reach the finders
    (a failed import; once imported, ``sys.modules`` answers and this is never asked)."""

    count = 0

    @classmethod
    def find_spec(cls, name: str, path: object = None, target: object = None) -> None:
        if name == "sniffio":
            cls.count += 1
        return None


async def _client(url: str, requests: int) -> dict[str, float]:
    import httpx

    payload = {"chat_id": 1, "text": "PRP evidence", "parse_mode": "HTML"}
    async with httpx.AsyncClient() as client:
        for _ in range(100):  # warm-up: connection, caches
            (await client.post(url, json=payload)).json()
        before = _CountSniffio.count
        samples = []
        for _ in range(requests):
            start = time.perf_counter_ns()
            (await client.post(url, json=payload)).json()
            samples.append((time.perf_counter_ns() - start) / 1e6)
        attempts = (_CountSniffio.count - before) / requests
    # The failed import on its own, for the arithmetic: attempts x this ~ the difference.
    start = time.perf_counter_ns()
    for _ in range(2000):
        try:  # noqa: SIM105 - the import statement itself is measured; suppress() would add its own cost
            import sniffio  # noqa: F401
        except ImportError:
            pass
    per_import_us = (time.perf_counter_ns() - start) / 2000 / 1000
    return {
        "median_ms": statistics.median(samples),
        "mean_ms": statistics.fmean(samples),
        "attempts": attempts,
        "import_us": per_import_us,
    }


def client_main(mode: str, port: int, requests: int) -> None:
    sys.meta_path.insert(0, _CountSniffio)  # type: ignore[arg-type]
    try:
        import sniffio  # noqa: F401

        present = True
    except ImportError:
        present = False
    if present != (mode == "installed"):
        raise SystemExit(f"sniffio importable={present} in mode {mode}: the site farm is wrong")
    result = asyncio.run(_client(f"http://127.0.0.1:{port}/botTOKEN/sendMessage", requests))
    print(json.dumps(result), flush=True)


# -- the parent -----------------------------------------------------------------------


def _site_farm(root: Path, with_sniffio: bool) -> Path:
    """A site directory of symlinks to this environment's site-packages, sniffio optional."""
    import httpx

    site = Path(httpx.__file__).resolve().parent.parent
    farm = root / ("with-sniffio" if with_sniffio else "without-sniffio")
    farm.mkdir()
    for entry in site.iterdir():
        if not with_sniffio and entry.name.lower().startswith("sniffio"):
            continue
        (farm / entry.name).symlink_to(entry)
    return farm


_BOOT = (
    "import site, sys; site.addsitedir(sys.argv[1]); "
    "from benchmarks.sniffio_cost import client_main; client_main(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))"
)


def measure(rounds: int = 5, requests: int = 1500) -> dict[str, object]:
    """Median over ``rounds`` of each client's median ms per request, and the difference."""
    with tempfile.TemporaryDirectory() as tmp:
        farms = {"installed": _site_farm(Path(tmp), True), "missing": _site_farm(Path(tmp), False)}
        server = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.sniffio_cost", "serve"],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline())
            runs: dict[str, list[dict[str, float]]] = {m: [] for m in MODES}
            env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}
            for n in range(rounds):
                for mode in MODES if n % 2 == 0 else MODES[::-1]:
                    out = subprocess.run(
                        [sys.executable, "-S", "-c", _BOOT, str(farms[mode]), mode, str(port), str(requests)],
                        cwd=REPO,
                        env=env,
                        capture_output=True,
                        text=True,
                        timeout=300,
                        check=True,
                    )
                    runs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
        finally:
            if server.stdin:
                server.stdin.close()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
    summary: dict[str, object] = {"rounds": rounds, "requests": requests}
    for mode in MODES:
        summary[mode] = {key: statistics.median(r[key] for r in runs[mode]) for key in runs[mode][0]}
    diffs = [m["median_ms"] - i["median_ms"] for i, m in zip(runs["installed"], runs["missing"], strict=True)]
    summary["diff_ms"] = statistics.median(diffs)
    summary["diff_range"] = (min(diffs), max(diffs))
    return summary


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        asyncio.run(_serve())
    else:
        print(json.dumps(measure(), indent=2))
