"""Each update handled once, through the inbox: admitted, handled, and stopped in time.

``InboxProcessor`` is python-telegram-bot's extension point for running updates
(``ApplicationBuilder.concurrent_updates``). It admits updates into the inbox before
they are acknowledged, hands each to the handlers at most once per run, records the
moment its first reply leaves for Telegram, and at shutdown stops starting new ones so
that a backlog waits in the inbox for the next start instead of holding the process
past its supervisor's grace period.

"The first reply leaves" is taken literally: an httpx request hook asks httpcore to
report when it starts writing a request body, and the update is marked 'sending' right
there, with no await (so no other task) between that commit and the write to the socket.
Exactly once is impossible over the Bot API (a sent reply cannot be looked up), so a
crash must err one way: marking after the write would leave a gap of one event-loop pass
(milliseconds under load, measured at about one duplicate answer per SIGKILL in a burst)
in which the update is answered but not marked; marking before it leaves only the
microseconds of Python between the commit and the syscall in which a reply could be
lost. When Telegram says it did not take the reply (429, a gateway error, a failed write)
the mark is undone, so a crash during the retry still answers it after the restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import httpx
from telegram import Bot, Update
from telegram.ext import BaseUpdateProcessor

from bot.telegram.inbox import Inbox

log = logging.getLogger(__name__)

# An answer to a message older than this says it is late (the sender may have moved on).
LATE_AFTER_SECONDS = 60.0
SEEN_CAPACITY = 100_000  # update ids admitted this run, for spotting redeliveries without the inbox


@dataclass
class Delivery:
    """The update being handled in this task, as the request hooks and replies see it."""

    update_id: int
    late: bool
    inbox: Inbox | None = None
    sent: bool = False  # a reply has been (or is being) written: never handle this update again
    delivered: int = 0  # replies Telegram accepted
    late_noted: bool = False
    asked_at: float | None = None  # the message's date, for the late note

    async def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace callback for a request that answers this update."""
        if event.endswith("send_request_body.started") and not self.sent:
            # Committed now, with no await between here and the write to the socket.
            self.sent = True
            if self.inbox is not None:
                self.inbox.sending(self.update_id)
        elif event.endswith("send_request_body.failed"):
            self.not_sent()

    def not_sent(self) -> None:
        """The reply did not reach Telegram; unless an earlier one did, the update is pending again."""
        if self.sent and not self.delivered:
            self.sent = False
            if self.inbox is not None:
                self.inbox.not_sent(self.update_id)


CURRENT: ContextVar[Delivery | None] = ContextVar("regenbot_delivery", default=None)
# Answers that mean Telegram did not process the request (flood control, its gateways).
NOT_PROCESSED = frozenset({429, 502, 503, 504})


def current() -> Delivery | None:
    return CURRENT.get()


async def on_request(request: httpx.Request) -> None:
    """httpx request hook: ask to be told when a reply to the current update is written out."""
    delivery = CURRENT.get()
    if delivery is None:
        return
    method = request.url.path.rsplit("/", 1)[-1]
    if method.startswith("get"):
        return  # reading from Telegram changes nothing the user sees
    request.extensions["trace"] = delivery.trace


async def on_response(response: httpx.Response) -> None:
    """httpx response hook: count what Telegram accepted; undo the mark for what it refused unseen."""
    delivery = CURRENT.get()
    if delivery is None or "trace" not in response.request.extensions:
        return
    if response.status_code < 300:
        delivery.delivered += 1
    elif response.status_code in NOT_PROCESSED:
        delivery.not_sent()


def to_payload(update: Update) -> str:
    return json.dumps(update.to_dict(), ensure_ascii=True, separators=(",", ":"))


@dataclass
class _Flight:
    task: asyncio.Task[Any] | None
    delivery: Delivery = field(repr=False)


class InboxProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int, inbox: Inbox) -> None:
        super().__init__(max_concurrent_updates)
        self.inbox = inbox
        self.draining = False
        self.recovered: set[int] = set()
        self._flights: dict[int, _Flight] = {}
        self._seen: OrderedDict[int, None] = OrderedDict()  # admitted this run, bounded
        self.skipped = 0

    # -- admission: before Telegram is told we have them -----------------------------------

    async def admit(self, updates: list[Update]) -> list[Update]:
        """Store ``updates``; return those to handle now (a redelivered one is not handled twice)."""
        if not updates:
            return []
        fresh = self.inbox.store((u.update_id, to_payload(u)) for u in updates)
        admitted = []
        for update in updates:
            if update.update_id in self._seen:
                continue  # admitted earlier in this run (Telegram or the webhook sent it again)
            if fresh is not None and update.update_id not in fresh:
                continue  # stored by an earlier run: handled then, or recovered at this start
            self._remember(update.update_id)
            admitted.append(update)
        return admitted

    def _remember(self, update_id: int) -> None:
        self._seen[update_id] = None
        while len(self._seen) > SEEN_CAPACITY:
            self._seen.popitem(last=False)

    async def recover(self, bot: Bot) -> list[Update]:
        """Updates an earlier run stored but never handled (it crashed or stopped first)."""
        updates = []
        for update_id, payload in self.inbox.pending():
            try:
                update = Update.de_json(json.loads(payload), bot)
            except Exception as exc:  # a payload we cannot read will not become readable
                log.warning("inbox: dropping update %d that cannot be read back: %s", update_id, exc)
                self.inbox.handled(update_id)
                continue
            if update is not None:
                updates.append(update)
                self.recovered.add(update_id)
                self._remember(update_id)
        if updates:
            log.info("inbox: %d update(s) left by the last run will be answered now, as late answers", len(updates))
        return updates

    # -- running one update -----------------------------------------------------------------

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if not isinstance(update, Update):
            await coroutine
            return
        update_id = update.update_id
        if self.draining or update_id in self._flights:
            _discard(coroutine)  # still pending in the inbox: the next start handles it
            self.skipped += 1
            return
        delivery = Delivery(update_id, late=self._late(update), inbox=self.inbox if self.inbox.durable else None)
        if update.message is not None:
            delivery.asked_at = update.message.date.timestamp()
        self._flights[update_id] = _Flight(asyncio.current_task(), delivery)
        token = CURRENT.set(delivery)
        finished = False
        try:
            await coroutine
            finished = True
        finally:
            CURRENT.reset(token)
            del self._flights[update_id]
            self.recovered.discard(update_id)
            if finished or delivery.sent:
                self.inbox.handled(update_id)  # done with it: the payload is wiped

    def _late(self, update: Update) -> bool:
        if update.update_id in self.recovered:
            return True
        message = update.message
        return message is not None and time.time() - message.date.timestamp() > LATE_AFTER_SECONDS

    # -- shutdown ------------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        return len(self._flights)

    async def drain(self, grace: float) -> int:
        """Start nothing new; let what is running finish within ``grace`` s, then cancel it.

        Returns how many were cancelled. A cancelled update whose reply had not left yet
        stays pending in the inbox, so it is answered after the restart.
        """
        self.draining = True
        tasks = [f.task for f in self._flights.values() if f.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
        late = [t for t in tasks if not t.done()]
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=1.0)
        return len(late)

    async def initialize(self) -> None:
        """Nothing to allocate: the inbox is opened with the other services in post_init."""

    async def shutdown(self) -> None:
        """Nothing to free: the inbox is closed with the other services in post_shutdown."""


def _discard(coroutine: Awaitable[Any]) -> None:
    close = getattr(coroutine, "close", None)
    if close is not None:
        with contextlib.suppress(RuntimeError):
            close()
