"""Start, run and stop the bot within bounds a supervisor can rely on.

python-telegram-bot's ``run_polling`` acknowledges updates as soon as it has fetched
them, drains the whole backlog on SIGTERM (1,500 queued questions took 47 s at
Telegram's 30 messages a second, past systemd's and compose's 30 s grace) and, when
Telegram answers 401 to getUpdates, stops polling but keeps the process alive. This
module runs the same Application with its own, documented building blocks instead
(``initialize``/``start``/``stop``/``shutdown`` and ``update_queue``, as PTB's
custom-webhook example does) so that:

* every fetched update is stored in the inbox before the next getUpdates acknowledges it;
* SIGINT/SIGTERM stops fetching, lets in-flight answers finish for a few seconds and
  leaves the rest pending in the inbox for the next start;
* a token Telegram rejects, at start or later, ends the process at once with one line
  (exit code 2), so the supervisor alerts or restarts instead of keeping a dead bot;
* SIGHUP reloads the knowledge base (``on_hangup``) without stopping anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Protocol

from telegram import Update
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application
from telegram.warnings import PTBUserWarning

from bot.config import ConfigError
from bot.telegram.delivery import InboxProcessor

log = logging.getLogger(__name__)

# In-flight answers get this long after SIGTERM; the query log then gets up to
# QUERYLOG_CLOSE_SECONDS to flush (or spill). Together well under 10 s.
SHUTDOWN_GRACE_SECONDS = 3.0
POLL_TIMEOUT_SECONDS = 10


class TokenRejected(ConfigError):
    """Telegram answered 401/404 for our token: no retry can fix that, a person must."""


class CannotReachTelegram(Exception):
    """The first call to the Bot API failed after its retries."""


class Source(Protocol):
    """Where updates come from: long polling or the webhook server."""

    async def start(self) -> None: ...

    async def run(self) -> None: ...

    async def stop(self) -> None: ...


class _NoRawBatch(logging.Filter):
    """python-telegram-bot logs a batch it cannot parse whole, at CRITICAL, with every
    update's names and questions; this bot logs the skipped update's id instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Error while parsing updates!")


for _name in ("telegram.Bot", "telegram.ext.ExtBot"):
    logging.getLogger(_name).addFilter(_NoRawBatch())


def parse_batch(raw: list, bot: object) -> tuple[list[Update], int | None]:
    """Each update of a getUpdates batch parsed on its own: one the library cannot read (a
    field it requires missing) is logged by id and skipped, not allowed to stop every later
    update, as parsing the batch whole did (the bot exited and every restart fetched the
    same batch). Returns the updates and the highest update id seen, to acknowledge."""
    updates: list[Update] = []
    last: int | None = None
    for item in raw:
        update_id = item.get("update_id") if isinstance(item, dict) else None
        if isinstance(update_id, int):
            last = update_id if last is None else max(last, update_id)
        try:
            update = Update.de_json(item, bot)  # type: ignore[arg-type]
        except Exception as exc:
            # The id and the kind of error only: the payload holds names and questions.
            log.warning("skipping update %s that cannot be parsed: %s", update_id, type(exc).__name__)
            continue
        if update is not None:
            updates.append(update)
    return updates, last


class Polling:
    """getUpdates in a loop; each batch is in the inbox before the next call acknowledges it."""

    def __init__(self, application: Application, processor: InboxProcessor) -> None:
        self.application = application
        self.processor = processor
        self.offset = 0
        self.token_rejected = False

    async def start(self) -> None:
        # A webhook left over from webhook mode would make getUpdates fail with 409.
        await self.application.bot.delete_webhook()

    async def run(self) -> None:
        bot = self.application.bot
        backoff = 0.0
        while True:
            try:
                updates = list(
                    await bot.get_updates(
                        offset=self.offset, timeout=POLL_TIMEOUT_SECONDS, allowed_updates=Update.ALL_TYPES
                    )
                )
                last = updates[-1].update_id if updates else None
            except InvalidToken:
                self.token_rejected = True
                raise
            except RetryAfter as exc:
                wait = exc.retry_after
                await asyncio.sleep(wait.total_seconds() if isinstance(wait, timedelta) else float(wait))
                continue
            except TimedOut:
                continue
            except (NetworkError, TelegramError) as exc:
                backoff = min(30.0, backoff * 2 or 1.0)
                log.warning("getUpdates failed (retrying in %.0f s): %s", backoff, exc)
                await asyncio.sleep(backoff)
                continue
            except Exception:
                # The library could not parse the batch as a whole: fetch it raw and parse each
                # update on its own, so one it cannot read does not stop all the others.
                updates, last = await self._one_by_one(bot)
            backoff = 0.0
            if updates:
                for update in await self.processor.admit(updates):
                    self.application.update_queue.put_nowait(update)
            if last is not None:
                self.offset = last + 1  # acknowledged by the next call, once stored (or skipped)

    async def _one_by_one(self, bot: object) -> tuple[list[Update], int | None]:
        with warnings.catch_warnings():  # the library prefers get_updates, which is what failed
            warnings.simplefilter("ignore", PTBUserWarning)
            raw = await bot.do_api_request(  # type: ignore[attr-defined]
                "getUpdates",
                api_kwargs={"offset": self.offset, "timeout": 0, "allowed_updates": list(Update.ALL_TYPES)},
            )
        return parse_batch(raw if isinstance(raw, list) else [], bot)

    async def stop(self) -> None:
        """Acknowledge what is stored (it is safe in the inbox) so Telegram does not resend it."""
        if self.offset and not self.token_rejected:
            with contextlib.suppress(TelegramError, asyncio.TimeoutError):
                await asyncio.wait_for(self.application.bot.get_updates(offset=self.offset, timeout=0), 2.0)


async def serve(
    application: Application,
    source: Source,
    on_hangup: Callable[[Application], Awaitable[None]] | None = None,
) -> int:
    """Run until SIGINT/SIGTERM or a fatal error; return the exit code."""
    processor = application.update_processor
    assert isinstance(processor, InboxProcessor)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    hangups: set[asyncio.Task[None]] = set()
    if on_hangup is not None:

        def hangup() -> None:
            task = loop.create_task(on_hangup(application), name="regenbot-reload")
            hangups.add(task)  # keep a reference until it is done
            task.add_done_callback(hangups.discard)

        loop.add_signal_handler(signal.SIGHUP, hangup)
    try:
        await application.initialize()  # getMe: the first time Telegram sees the token
    except InvalidToken:
        raise TokenRejected(
            "Telegram rejected TELEGRAM_BOT_TOKEN (401/404): it was revoked or mistyped; get one from @BotFather"
        ) from None
    except TelegramError as exc:
        raise CannotReachTelegram(f"cannot reach the Bot API at start: {exc}") from None
    started = False
    running: asyncio.Task[None] | None = None
    try:
        if application.post_init:
            await application.post_init(application)
        await application.start()
        started = True
        for update in await processor.recover(application.bot):
            application.update_queue.put_nowait(update)
        await source.start()
        running = asyncio.create_task(source.run(), name="regenbot-updates")
        stopping = asyncio.create_task(stop.wait(), name="regenbot-stop-signal")
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        error = _error(running) if running.done() else None
        if error is not None:
            if isinstance(error, InvalidToken):
                raise TokenRejected(
                    "Telegram rejected TELEGRAM_BOT_TOKEN while polling (401): the token was revoked; "
                    "set a new one from @BotFather"
                ) from None
            raise error  # type: ignore[misc]
        return 0
    finally:
        # With a rejected token nothing in flight can be sent: stop at once, answer after the fix.
        token_rejected = running is not None and running.done() and isinstance(_error(running), InvalidToken)
        grace = 0.0 if token_rejected else SHUTDOWN_GRACE_SECONDS
        await _shut_down(application, processor, source, running, started, grace)


def _error(task: asyncio.Task[None]) -> BaseException | None:
    return None if task.cancelled() else task.exception()


async def _shut_down(
    application: Application,
    processor: InboxProcessor,
    source: Source,
    running: asyncio.Task[None] | None,
    started: bool,
    grace: float,
) -> None:
    """Stop fetching, give in-flight answers a few seconds, leave the rest in the inbox."""
    if running is not None and not running.done():
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await running
    with contextlib.suppress(Exception):
        await source.stop()
    cancelled = await processor.drain(grace)
    if started:
        await application.stop()
    await application.shutdown()
    if application.post_shutdown:
        await application.post_shutdown(application)
    if processor.skipped or cancelled:
        log.info(
            "left %d queued update(s) pending in the inbox for the next start (%d cancelled in flight)",
            processor.skipped + cancelled,
            cancelled,
        )
