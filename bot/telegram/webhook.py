"""Webhook mode: Telegram POSTs updates to us instead of us polling.

Built the way python-telegram-bot's custom-webhook example does it: the Application
runs without an Updater and a small tornado server (tornado comes with
python-telegram-bot[webhooks]) puts verified updates on its queue, after storing them in
the inbox: answering 200 is what tells Telegram it may forget an update.

The port faces the internet, so nothing a stranger sends may cost much:

* the secret header is checked as soon as the headers are in, before any body is read
  (bodies used to be read whole, up to tornado's 100 MB default, before the check);
* a body is capped at 1 MB (Telegram's updates are a few KB) and must arrive within a
  few seconds, as must the headers;
* connections are capped below the file-descriptor limit; past the cap the oldest is
  closed, so a crowd of slow clients cannot lock out Telegram or /healthz;
* anything that is not an update object (``[]``, ``null``, deep nesting) gets 400 and
  one log line, never a 500 with a traceback;
* /healthz tells a load balancer whether the bot runs, nothing a stranger should not see.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import resource
from collections import OrderedDict
from typing import Any

import tornado.httpserver
import tornado.iostream
import tornado.web
from telegram import Update
from telegram.ext import Application

from bot.telegram.delivery import InboxProcessor

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1 << 20
MAX_HEADER_BYTES = 16 << 10
HEADER_TIMEOUT_SECONDS = 10.0
BODY_TIMEOUT_SECONDS = 10.0
MAX_CONNECTIONS = 512
RESERVED_DESCRIPTORS = 256  # database, Bot API connections, logs: kept free of webhook clients


@tornado.web.stream_request_body
class UpdateHandler(tornado.web.RequestHandler):
    def initialize(self, bot_app: Application, secret: str) -> None:
        self.bot_app = bot_app
        self.secret = secret
        self.body = bytearray()
        self.rejected = False

    def prepare(self) -> None:
        """Runs once the headers are in: refuse here, and the body is never read."""
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("webhook: request with a wrong or missing secret token from %s", self.request.remote_ip)
            self._refuse(403)
            return
        length = self.request.headers.get("Content-Length", "")
        if length and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            log.warning("webhook: refused a %s-byte body (limit %d)", length[:20], MAX_BODY_BYTES)
            self._refuse(413)

    def data_received(self, chunk: bytes) -> None:
        if self.rejected:
            return
        self.body += chunk
        if len(self.body) > MAX_BODY_BYTES:
            log.warning("webhook: refused a body over %d bytes", MAX_BODY_BYTES)
            self._refuse(413)

    def _refuse(self, status: int) -> None:
        self.rejected = True
        self.body = bytearray()
        self.set_status(status)
        self.finish()  # before the body is read: tornado closes the connection instead of reading it

    async def post(self) -> None:
        if self.rejected:
            return
        try:
            data = json.loads(bytes(self.body))
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update object")
            update = Update.de_json(data, self.bot_app.bot)
            if update is None:
                raise ValueError("empty update")
        except Exception as exc:  # anything Telegram would never send is the sender's fault, not ours
            log.warning("webhook: malformed update from %s (%s)", self.request.remote_ip, type(exc).__name__)
            self.set_status(400)
            return
        processor = self.bot_app.update_processor
        assert isinstance(processor, InboxProcessor)
        for fresh in await processor.admit([update]):  # stored before the 200 that lets Telegram forget it
            self.bot_app.update_queue.put_nowait(fresh)
        self.set_status(200)


class HealthHandler(tornado.web.RequestHandler):
    def initialize(self, bot_app: Application) -> None:
        self.bot_app = bot_app

    def get(self) -> None:
        svc = self.bot_app.bot_data["services"]
        self.write(
            {
                "ok": self.bot_app.running,
                "kb_version": svc.pipeline.kb.version,
                "log_pending": svc.qlog.pending,
                "log_writing": svc.qlog.last_error is None,
                "inbox_durable": svc.inbox.durable,
            }
        )


class CappedHTTPServer(tornado.httpserver.HTTPServer):
    """An HTTPServer that keeps at most ``max_connections`` open, closing the oldest first."""

    def initialize(self, *args: Any, max_connections: int = MAX_CONNECTIONS, **kwargs: Any) -> None:
        super().initialize(*args, **kwargs)
        self.max_connections = max_connections
        self.evicted = 0
        self._streams: OrderedDict[tornado.iostream.IOStream, None] = OrderedDict()

    def handle_stream(self, stream: tornado.iostream.IOStream, address: tuple) -> None:
        self._streams[stream] = None
        while len(self._streams) > self.max_connections:
            oldest, _ = self._streams.popitem(last=False)
            oldest.close()
            self.evicted += 1
            log.warning("webhook: over %d open connections; closed the oldest", self.max_connections)
        super().handle_stream(stream, address)

    def on_close(self, server_conn: object) -> None:
        self._streams.pop(getattr(server_conn, "stream", None), None)  # type: ignore[arg-type]
        super().on_close(server_conn)


def connection_cap() -> int:
    """As many connections as the descriptor limit allows, after raising it as far as we may."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
    limit = soft if soft != resource.RLIM_INFINITY else 65536
    return max(16, min(MAX_CONNECTIONS, limit - RESERVED_DESCRIPTORS))


class Webhook:
    """The update source for webhook mode (see bot.telegram.lifecycle.Source)."""

    def __init__(self, application: Application, *, url: str, listen: str, port: int, secret: str, path: str) -> None:
        self.application = application
        self.url = url
        self.listen = listen
        self.port = port
        self.secret = secret
        self.path = path
        self.server: CappedHTTPServer | None = None

    async def start(self) -> None:
        web = tornado.web.Application(
            [
                (f"/{self.path.strip('/')}", UpdateHandler, {"bot_app": self.application, "secret": self.secret}),
                (r"/healthz", HealthHandler, {"bot_app": self.application}),
            ]
        )
        logging.getLogger("tornado.access").setLevel(logging.ERROR)  # our handlers log what matters
        self.server = CappedHTTPServer(
            web,
            max_connections=connection_cap(),
            idle_connection_timeout=HEADER_TIMEOUT_SECONDS,
            body_timeout=BODY_TIMEOUT_SECONDS,
            max_body_size=2 * MAX_BODY_BYTES,  # a backstop: UpdateHandler refuses past 1 MB with a 413
            max_header_size=MAX_HEADER_BYTES,
        )
        self.server.listen(self.port, address=self.listen)
        await self.application.bot.set_webhook(url=self.url, secret_token=self.secret, allowed_updates=Update.ALL_TYPES)
        log.info(
            "webhook listening on %s:%d for %s (at most %d connections)",
            self.listen,
            self.port,
            self.url.split("?")[0],
            self.server.max_connections,
        )

    async def run(self) -> None:
        await asyncio.Event().wait()  # updates arrive through UpdateHandler until we are stopped

    async def stop(self) -> None:
        if self.server is None:
            return
        self.server.stop()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.server.close_all_connections(), 2.0)
