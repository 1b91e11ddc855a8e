"""HTTP requests to the Bot API that survive a flaky network or a 5xx.

python-telegram-bot's AIORateLimiter retries 429 (with ``max_retries``); this layer
retries what it does not: connection errors and 5xx answers, a bounded number of times
with exponential backoff. A read time-out is not retried for methods that send
something, since the first attempt may have arrived.
"""

from __future__ import annotations

import asyncio
import logging

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

log = logging.getLogger(__name__)

SAFE_TO_REPEAT = (
    "getMe",
    "getUpdates",
    "getMyCommands",
    "deleteWebhook",
    "setWebhook",
    "setMyCommands",
    "answerCallbackQuery",
    "answerInlineQuery",
    "getChat",
)


class RetryingRequest(HTTPXRequest):
    def __init__(self, *args: object, attempts: int = 4, backoff: float = 0.2, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.attempts = attempts
        self.backoff = backoff

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            try:
                code, payload = await super().do_request(
                    url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
                )
            except TimedOut:
                if api_method not in SAFE_TO_REPEAT or attempt == self.attempts:
                    raise
                log.warning("Bot API %s timed out (attempt %d/%d)", api_method, attempt, self.attempts)
            except NetworkError as exc:
                if attempt == self.attempts:
                    raise
                log.warning("Bot API %s network error (attempt %d/%d): %s", api_method, attempt, self.attempts, exc)
            else:
                if code < 500 or attempt == self.attempts:
                    return code, payload
                log.warning("Bot API %s answered %d (attempt %d/%d)", api_method, code, attempt, self.attempts)
            await asyncio.sleep(delay)
            delay *= 2
        raise NetworkError("unreachable")  # pragma: no cover - the loop returns or raises
