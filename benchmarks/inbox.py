"""What the durable inbox costs per update, measured on its own (no network, no bot).

Every update is committed to the inbox before Telegram is told we have it, marked
'sending' just before its reply is written and 'handled' when done: one batched insert
per getUpdates call plus two single-row commits per update, all in the event loop's
thread. This measures those operations on a real file, the way the bot issues them.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from benchmarks.core import percentile
from bot.telegram.inbox import Inbox

BATCH = 100  # getUpdates returns up to 100 updates


def _payload(update_id: int) -> str:
    """About the size of a real message update as python-telegram-bot serialises it."""
    user = {"id": 10_000 + update_id, "is_bot": False, "first_name": "Dr", "language_code": "en"}
    message = {
        "message_id": update_id,
        "date": 1_760_000_000,
        "chat": {"id": 10_000 + update_id, "type": "private", "first_name": "Dr"},
        "from": user,
        "text": "what does the evidence say about exosomes after fractional laser?",
    }
    return json.dumps({"update_id": update_id, "message": message})


def cost(updates: int = 10_000) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Inbox(Path(tmp) / "bench.inbox.sqlite3")
        inbox.open()
        stores, sendings, handleds = [], [], []
        started = time.perf_counter()
        for first in range(1, updates + 1, BATCH):
            batch = [(i, _payload(i)) for i in range(first, min(updates + 1, first + BATCH))]
            t0 = time.perf_counter()
            inbox.store(batch)
            stores.append((time.perf_counter() - t0) * 1000)
            for update_id, _ in batch:
                t0 = time.perf_counter()
                inbox.sending(update_id)
                t1 = time.perf_counter()
                inbox.handled(update_id)
                t2 = time.perf_counter()
                sendings.append((t1 - t0) * 1e6)
                handleds.append((t2 - t1) * 1e6)
        total = time.perf_counter() - started
        inbox.close()
    return {
        "updates": updates,
        "store_batch_p50_ms": percentile(stores, 50),
        "store_batch_p99_ms": percentile(stores, 99),
        "sending_p50_us": percentile(sendings, 50),
        "sending_p99_us": percentile(sendings, 99),
        "handled_p50_us": percentile(handleds, 50),
        "handled_p99_us": percentile(handleds, 99),
        "per_update_us": total / updates * 1e6,
    }
