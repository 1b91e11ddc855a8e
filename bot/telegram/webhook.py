"""Webhook mode: Telegram POSTs updates to us instead of us polling.

Built the way python-telegram-bot's custom-webhook example does it: the Application
runs without an Updater and a small tornado server (tornado comes with
python-telegram-bot[webhooks]) puts verified updates on its queue. Every request must
carry the secret token we registered with setWebhook; /healthz reports liveness for a
load balancer or container runtime.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal

import tornado.web
from telegram import Update
from telegram.ext import Application

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class UpdateHandler(tornado.web.RequestHandler):
    def initialize(self, bot_app: Application, secret: str) -> None:
        self.bot_app = bot_app
        self.secret = secret

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("webhook request with a wrong or missing secret token from %s", self.request.remote_ip)
            self.set_status(403)
            return
        try:
            data = json.loads(self.request.body)
            update = Update.de_json(data, self.bot_app.bot)
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("webhook: malformed update: %s", exc)
            self.set_status(400)
            return
        await self.bot_app.update_queue.put(update)
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
                "log_error": svc.qlog.last_error,
            }
        )


async def serve(application: Application, *, url: str, listen: str, port: int, secret: str, path: str) -> None:
    """Run until SIGINT/SIGTERM, then stop cleanly (post_shutdown flushes the log)."""
    web = tornado.web.Application(
        [
            (f"/{path.strip('/')}", UpdateHandler, {"bot_app": application, "secret": secret}),
            (r"/healthz", HealthHandler, {"bot_app": application}),
        ]
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await application.initialize()
    if application.post_init:
        await application.post_init(application)
    await application.bot.set_webhook(url=url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
    server = web.listen(port, address=listen)
    await application.start()
    log.info("webhook listening on %s:%d for %s", listen, port, url.split("?")[0])
    try:
        await stop.wait()
    finally:
        server.stop()
        await application.stop()
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)
