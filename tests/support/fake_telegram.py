"""A stand-in Telegram Bot API server on 127.0.0.1 that enforces Telegram's rules.

The real bot talks to it over HTTP through TELEGRAM_API_URL, exactly as it would to
api.telegram.org: form-encoded bodies (objects as JSON strings), multipart for
documents, the {"ok": ..., "result"|"description"} envelope. It rejects what Telegram
rejects (4096-character messages, bad HTML, 64-byte callback_data, poll limits, more
than 50 inline results, more than 20 messages a minute to one group, sends to a user who
blocked the bot) and can inject 429 (retry_after), 502, 401/404 (a rejected token) and
slow answers.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.support.telegram_html import EntityParseError, parse_html, utf16_len

BOT_ID = 7000001
BOT_USERNAME = "regen_test_bot"
# Telegram allows a bot about 20 messages a minute in one group.
GROUP_MESSAGES_PER_MINUTE = 20
SENDING = ("sendMessage", "sendPoll", "sendDocument")


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    ok: bool = True
    error: str = ""
    done_at: float = 0.0  # when the answer went back (after any injected delay)


@dataclass
class Fault:
    kind: str  # "429" | "502" | "401" | "404" | "slow"
    retry_after: int = 1
    delay: float = 0.0


@dataclass
class State:
    token: str
    updates: deque = field(default_factory=deque)
    calls: list[Call] = field(default_factory=list)
    faults: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    next_update_id: int = 1
    next_message_id: int = 1000
    polls: dict[str, dict[str, Any]] = field(default_factory=dict)
    commands: list[dict[str, Any]] = field(default_factory=list)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    poll_chats: dict[str, int] = field(default_factory=dict)
    cond: threading.Condition = field(default_factory=threading.Condition)
    webhook: str = ""
    blocked: set[int] = field(default_factory=set)
    group_sends: dict[int, deque] = field(default_factory=lambda: defaultdict(deque))
    # Called with each getUpdates offset before answering: a test can check what the bot
    # has stored by the time it acknowledges updates.
    on_get_updates: Callable[[int], None] | None = None
    # Methods whose calls are received (the body is in) but not processed until release().
    holding: set[str] = field(default_factory=set)
    held: int = 0
    released: threading.Event = field(default_factory=threading.Event)


def _user(user_id: int, name: str = "Dr") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": f"{name}{user_id}", "language_code": "en"}


def _chat(chat_id: int, chat_type: str) -> dict[str, Any]:
    chat = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = f"Dr{chat_id}"
    else:
        chat["title"] = f"Group {chat_id}"
    return chat


class FakeTelegram:
    """Start with ``with FakeTelegram() as tg:``; point the bot at ``tg.api_url``."""

    def __init__(self, token: str = "123456789:AAFakeTokenForTestsOnly_abcdefghijkl") -> None:
        self.state = State(token=token)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle ---------------------------------------------------------------------

    def __enter__(self) -> FakeTelegram:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        with self.state.cond:
            self.state.cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    @property
    def api_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def token(self) -> str:
        return self.state.token

    # -- test helpers: updates in, calls out ---------------------------------------------

    def hold(self, method: str) -> None:
        """From now on, receive calls to ``method`` but process them only after release().

        Telegram processes a request whose body it has received even if the client dies
        before reading the answer; a held call therefore counts as delivered.
        """
        self.state.released.clear()
        self.state.holding.add(method)

    def release(self) -> None:
        self.state.holding.clear()
        self.state.released.set()

    def inject(self, method: str, kind: str, *, retry_after: int = 1, delay: float = 0.0, times: int = 1) -> None:
        for _ in range(times):
            self.state.faults[method].append(Fault(kind, retry_after, delay))

    def push(self, update: dict[str, Any]) -> int:
        with self.state.cond:
            update_id = self.state.next_update_id
            self.state.next_update_id += 1
            self.state.updates.append({"update_id": update_id, **update})
            self.state.cond.notify_all()
        return update_id

    def _message(
        self, user_id: int, chat_id: int, chat_type: str, date: int | None = None, **extra: Any
    ) -> dict[str, Any]:
        with self.state.cond:
            self.state.next_message_id += 1
            message_id = self.state.next_message_id
        return {
            "message_id": message_id,
            "date": int(time.time()) if date is None else date,
            "from": _user(user_id),
            "chat": _chat(chat_id, chat_type),
            **extra,
        }

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to: dict[str, Any] | None = None,
        date: int | None = None,
    ) -> dict[str, Any]:
        extra: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            extra["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if reply_to:
            extra["reply_to_message"] = reply_to
        message = self._message(user_id, chat_id or user_id, chat_type, date, **extra)
        self.state.messages[(message["chat"]["id"], message["message_id"])] = message
        self.push({"message": message})
        return message

    def send_sticker(self, user_id: int) -> None:
        sticker = {
            "file_id": "CAAC",
            "file_unique_id": "u1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        self.push({"message": self._message(user_id, user_id, "private", sticker=sticker)})

    def edit_text(self, message: dict[str, Any], text: str) -> None:
        edited = {**message, "text": text, "edit_date": int(time.time())}
        self.push({"edited_message": edited})

    def press(self, user_id: int, bot_message: dict[str, Any], data: str) -> None:
        self.push(
            {
                "callback_query": {
                    "id": f"cb{time.monotonic_ns()}",
                    "from": _user(user_id),
                    "chat_instance": "ci",
                    "message": bot_message,
                    "data": data,
                }
            }
        )

    def inline(self, user_id: int, query: str) -> None:
        self.push(
            {"inline_query": {"id": f"iq{time.monotonic_ns()}", "from": _user(user_id), "query": query, "offset": ""}}
        )

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to their chat fail with 403 from now on."""
        self.state.blocked.add(user_id)

    def polls_for(self, chat_id: int) -> list[dict[str, Any]]:
        return [p for pid, p in self.state.polls.items() if self.state.poll_chats.get(pid) == chat_id]

    def answer_poll(self, user_id: int, poll_id: str, option: int, name: str = "Dr") -> None:
        poll = self.state.polls.get(poll_id) or {"options": [{"persistent_id": "x"}] * (option + 1)}
        persistent = poll["options"][option]["persistent_id"]
        self.push(
            {
                "poll_answer": {
                    "poll_id": poll_id,
                    "user": _user(user_id, name),
                    "option_ids": [option],
                    "option_persistent_ids": [persistent],
                }
            }
        )

    def last_bot_message(self, chat_id: int) -> dict[str, Any]:
        """The newest message the bot sent to ``chat_id`` that has buttons, as Telegram stored it."""
        mine = [
            m
            for (chat, _), m in self.state.messages.items()
            if chat == chat_id and m["from"]["id"] == BOT_ID and m.get("reply_markup")
        ]
        return max(mine, key=lambda m: m["message_id"])

    def calls(self, method: str | None = None, *, ok: bool | None = True) -> list[Call]:
        return [
            c for c in list(self.state.calls) if (method is None or c.method == method) and (ok is None or c.ok == ok)
        ]

    def sent_to(self, chat_id: int) -> list[Call]:
        return [
            c
            for c in self.calls()
            if c.method in ("sendMessage", "sendPoll", "sendDocument") and str(c.params.get("chat_id")) == str(chat_id)
        ]

    def wait_for(self, predicate, timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(0.01)
        raise AssertionError(f"timed out after {timeout}s waiting for {getattr(predicate, '__name__', predicate)}")

    # -- the API -----------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out as two writes; without TCP_NODELAY, Nagle's algorithm
                # and the client's delayed ACK add ~40 ms to every keep-alive request.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args: object) -> None:  # keep test output clean
                return

            def do_GET(self) -> None:
                self._dispatch({})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                self._dispatch(_parse_body(self.headers.get("Content-Type", ""), body))

            def _dispatch(self, params: dict[str, Any]) -> None:
                path = urlparse(self.path)
                params = {**{k: v[-1] for k, v in parse_qs(path.query).items()}, **params}
                m = re.fullmatch(r"/bot([^/]+)/(\w+)", path.path)
                if not m:
                    return self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                token, method = m.groups()
                if token != fake.state.token:
                    return self._send(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                call = Call(method, params, time.monotonic())
                fake.state.calls.append(call)
                try:
                    result = fake._call(method, params)
                    call.done_at = time.monotonic()
                except ApiError as err:
                    call.done_at = time.monotonic()
                    call.ok, call.error = False, err.description
                    payload: dict[str, Any] = {"ok": False, "error_code": err.code, "description": err.description}
                    if err.retry_after is not None:
                        payload["parameters"] = {"retry_after": err.retry_after}
                    return self._send(err.code, payload)
                return self._send(200, {"ok": True, "result": result})

            def _send(self, code: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler

    def _call(self, method: str, p: dict[str, Any]) -> Any:
        if method in self.state.holding:
            with self.state.cond:
                self.state.held += 1
            self.state.released.wait()
        faults = self.state.faults.get(method)
        if faults:
            fault = faults.popleft()
            if fault.kind == "429":
                raise ApiError(429, f"Too Many Requests: retry after {fault.retry_after}", fault.retry_after)
            if fault.kind == "502":
                raise ApiError(502, "Bad Gateway")
            if fault.kind == "401":
                raise ApiError(401, "Unauthorized")
            if fault.kind == "404":
                raise ApiError(404, "Not Found")
            if fault.kind == "slow":
                time.sleep(fault.delay)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            raise ApiError(404, f"Not Found: method {method} is not supported by the stand-in")
        if method in SENDING and p.get("chat_id") is not None:
            self._check_recipient(int(p["chat_id"]))
        return handler(p)

    def _check_recipient(self, chat_id: int) -> None:
        if chat_id in self.state.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id < 0:
            with self.state.cond:
                sends, now = self.state.group_sends[chat_id], time.monotonic()
                while sends and now - sends[0] >= 60:
                    sends.popleft()
                if len(sends) >= GROUP_MESSAGES_PER_MINUTE:
                    retry = int(60 - (now - sends[0])) + 1
                    raise ApiError(429, f"Too Many Requests: retry after {retry}", retry)
                sends.append(now)

    # Individual methods ------------------------------------------------------------------

    def _api_getMe(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Regen",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }

    def _api_deleteWebhook(self, p: dict[str, Any]) -> bool:
        self.state.webhook = ""
        return True

    def _api_setWebhook(self, p: dict[str, Any]) -> bool:
        self.state.webhook = p.get("url", "")
        return True

    def _api_getUpdates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(p.get("offset") or 0)
        if self.state.on_get_updates is not None:
            self.state.on_get_updates(offset)
        timeout = min(float(p.get("timeout") or 0), 2.0)
        deadline = time.monotonic() + timeout
        with self.state.cond:
            while True:
                while self.state.updates and self.state.updates[0]["update_id"] < offset:
                    self.state.updates.popleft()
                if self.state.updates or time.monotonic() >= deadline:
                    limit = int(p.get("limit") or 100)
                    return list(self.state.updates)[:limit]
                self.state.cond.wait(timeout=max(0.0, deadline - time.monotonic()))

    def _api_setMyCommands(self, p: dict[str, Any]) -> bool:
        commands = _json(p.get("commands"), "commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be a list of at most 100")
        for c in commands:
            if (
                not re.fullmatch(r"[a-z0-9_]{1,32}", c.get("command", ""))
                or not 1 <= len(c.get("description", "")) <= 256
            ):
                raise ApiError(400, f"Bad Request: BOT_COMMAND_INVALID {c!r}")
        self.state.commands = commands
        return True

    def _api_getMyCommands(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        return self.state.commands

    def _check_markup(self, p: dict[str, Any]) -> None:
        markup = _json(p.get("reply_markup"), "reply_markup") if p.get("reply_markup") else None
        if not markup:
            return
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")

    def _check_text(self, text: str | None, parse_mode: str | None, limit: int = 4096) -> str:
        if text is None:
            raise ApiError(400, "Bad Request: message text is empty")
        plain = text
        if parse_mode and parse_mode.upper() == "HTML":
            try:
                plain = parse_html(text)
            except EntityParseError as exc:
                raise ApiError(400, f"Bad Request: {exc}") from exc
        if not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(plain) > limit:
            raise ApiError(400, "Bad Request: message is too long")
        return plain

    def _new_message(self, p: dict[str, Any], **extra: Any) -> dict[str, Any]:
        chat_id = int(p["chat_id"])
        with self.state.cond:
            self.state.next_message_id += 1
            message_id = self.state.next_message_id
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Regen", "username": BOT_USERNAME},
            "chat": _chat(chat_id, "private" if chat_id > 0 else "group"),
            **extra,
        }
        if p.get("reply_markup"):
            message["reply_markup"] = _json(p["reply_markup"], "reply_markup")
        if p.get("reply_parameters"):
            quoted = _json(p["reply_parameters"], "reply_parameters").get("message_id")
            original = self.state.messages.get((chat_id, int(quoted)))
            if original is not None:
                message["reply_to_message"] = original
        self.state.messages[(chat_id, message_id)] = message
        return message

    def _api_sendMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        if "chat_id" not in p:
            raise ApiError(400, "Bad Request: chat_id is empty")
        plain = self._check_text(p.get("text"), p.get("parse_mode"))
        self._check_markup(p)
        return self._new_message(p, text=plain)

    def _api_sendChatAction(self, p: dict[str, Any]) -> bool:
        return True

    def _api_answerCallbackQuery(self, p: dict[str, Any]) -> bool:
        if not p.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if len(p.get("text") or "") > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _api_editMessageReplyMarkup(self, p: dict[str, Any]) -> bool:
        self._check_markup(p)
        return True

    def _api_answerInlineQuery(self, p: dict[str, Any]) -> bool:
        results = _json(p.get("results"), "results")
        if len(results) > 50:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        ids = [r.get("id") for r in results]
        if len(set(ids)) != len(ids) or any(not i or len(i.encode()) > 64 for i in ids):
            raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
        for r in results:
            content = r.get("input_message_content") or {}
            self._check_text(content.get("message_text"), content.get("parse_mode"))
            if not r.get("title"):
                raise ApiError(400, "Bad Request: RESULT_TITLE_EMPTY")
            self._check_markup({"reply_markup": json.dumps(r["reply_markup"])} if r.get("reply_markup") else {})
        return True

    def _api_sendPoll(self, p: dict[str, Any]) -> dict[str, Any]:
        question = p.get("question") or ""
        if not 1 <= len(question) <= 300:
            raise ApiError(400, "Bad Request: POLL_QUESTION_INVALID")
        options = _json(p.get("options"), "options")
        texts = [o if isinstance(o, str) else o.get("text", "") for o in options]
        if not 2 <= len(texts) <= 12 or any(not 1 <= len(t) <= 100 for t in texts):
            raise ApiError(400, "Bad Request: POLL_OPTION_INVALID")
        if len(set(texts)) != len(texts):
            raise ApiError(400, "Bad Request: POLL_OPTION_DUPLICATE")
        is_quiz = p.get("type") == "quiz"
        # Bot API 9.6+ takes correct_option_ids (a JSON list); a quiz needs exactly one here.
        correct_ids = _json(p["correct_option_ids"], "correct_option_ids") if p.get("correct_option_ids") else []
        if p.get("correct_option_id") is not None:
            correct_ids = [int(p["correct_option_id"])]
        if is_quiz and (len(correct_ids) != 1 or not 0 <= int(correct_ids[0]) < len(texts)):
            raise ApiError(400, "Bad Request: wrong correct option ID specified")
        correct = correct_ids[0] if correct_ids else None
        explanation = p.get("explanation") or ""
        if explanation:
            plain = self._check_text(explanation, p.get("explanation_parse_mode"), limit=200)
            if plain.count("\n") > 2:
                raise ApiError(400, "Bad Request: explanation can't contain more than 2 line feeds")
        poll_id = f"poll{len(self.state.polls) + 1}"
        poll = {
            "id": poll_id,
            "question": question,
            "options": [{"text": t, "voter_count": 0, "persistent_id": f"{poll_id}o{i}"} for i, t in enumerate(texts)],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": str(p.get("is_anonymous", "true")).lower() in ("true", "1"),
            "type": "quiz" if is_quiz else "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }
        if is_quiz:
            poll["correct_option_ids"] = [int(correct)]
            poll["correct_option_id"] = int(correct)  # kept for the tests' convenience
        self.state.polls[poll_id] = poll
        self.state.poll_chats[poll_id] = int(p["chat_id"])
        return self._new_message(p, poll=poll)

    def _api_stopPoll(self, p: dict[str, Any]) -> dict[str, Any]:
        for poll in self.state.polls.values():
            poll["is_closed"] = True
        return next(iter(self.state.polls.values()))

    def _api_sendDocument(self, p: dict[str, Any]) -> dict[str, Any]:
        document = p.get("document")
        if not document:
            raise ApiError(400, "Bad Request: there is no document in the request")
        caption = p.get("caption")
        if caption:
            self._check_text(caption, p.get("parse_mode"), limit=1024)
        name, content = document if isinstance(document, tuple) else ("file", b"")
        return self._new_message(
            p, document={"file_id": "doc1", "file_unique_id": "d1", "file_name": name, "file_size": len(content)}
        )

    def _api_close(self, p: dict[str, Any]) -> bool:
        return True

    def _api_logOut(self, p: dict[str, Any]) -> bool:
        return True


def _json(value: Any, name: str) -> Any:
    if isinstance(value, (list, dict)):
        return value
    try:
        return json.loads(value)
    except (TypeError, ValueError) as exc:
        raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from exc


def _parse_body(content_type: str, body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        return json.loads(body)
    if content_type.startswith("application/x-www-form-urlencoded"):
        return {k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        out: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            out[name] = (filename, payload) if filename else payload.decode()
        return out
    raise ApiError(400, f"Bad Request: unsupported content type {content_type}")
