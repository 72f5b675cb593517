"""A local stand-in for the Telegram Bot API, so tests run python-telegram-bot's real HTTP stack.

It listens on 127.0.0.1 (a free port) in a background thread, speaks the Bot API's HTTP shape
(`/bot<token>/<method>`, form-encoded, JSON or multipart bodies, `{"ok": ..., "result": ...}`),
keeps the chats' messages so edits and deletions can be checked, records every call, and lets a
test play the user: send text, commands, stickers, photos..., press inline buttons, edit messages,
add the bot to a group. Point PTB at it with `base_url=standin.base_url` (or
`TELEGRAM_BASE_URL=standin.url` for `flourish run`). Works for in-process bots and subprocesses.

With `limits=Limits()` it also enforces Telegram's flood limits as Telegram answers them: more
than `overall` messages in any second, or a second message in one chat within `per_chat` seconds,
is refused with 429 Too Many Requests and `retry_after` (whole seconds). Messages are sends, copies,
forwards and edits; deletions count towards the overall limit only; answering a button press,
getUpdates and the bot's settings are not limited.

    with BotApiStandIn() as api:
        alice = api.user(1001, "Alice")
        alice.send("/start CODE")
        api.wait_for(lambda c: c.method == "sendMessage")
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import email.parser
import email.policy
import itertools
import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

TOKEN = "123456:TEST-standin-token"
BOT_ID = 123456
BOT_USERNAME = "flourish_test_bot"
JSON_FIELDS = {"reply_markup", "commands", "scope", "allowed_updates", "entities",
               "link_preview_options", "reply_parameters", "media", "caption_entities",
               "message_ids"}
INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "user_id", "from_chat_id"}
MESSAGE_PREFIXES = ("send", "copy", "forward", "edit")
UNLIMITED = {"sendChatAction"}


def counted(method: str) -> tuple[bool, bool]:
    """(counts towards the overall limit, counts towards the per-chat limit) for a Bot API method,
    as the stand-in's limit mode counts them."""
    if method in UNLIMITED:
        return False, False
    if method.startswith(MESSAGE_PREFIXES):
        return True, True
    return method in ("deleteMessage", "deleteMessages"), False


@dataclass(frozen=True)
class Limits:
    """Telegram's flood limits: `overall` messages per second in all, one per `per_chat` seconds
    in a chat."""

    overall: int = 30
    per_chat: float = 1.0


@dataclass
class Call:
    """One Bot API request the bot made: the method, its decoded parameters and uploaded files."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, int]] = field(default_factory=dict)  # name -> (filename, size)
    content_type: str = ""
    at: float = field(default_factory=time.monotonic)
    status: int = 0  # the HTTP status it was answered with (0: not answered yet, or dropped)

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return value if isinstance(value, int) else None

    def reply_markup(self) -> dict[str, Any] | None:
        markup = self.params.get("reply_markup")
        return markup if isinstance(markup, dict) else None

    def button_data(self) -> list[str]:
        """The callback data of every inline button in this call's keyboard."""
        markup = self.reply_markup() or {}
        return [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row]


@dataclass
class Fault:
    """A planned failure for the next call(s) of a method."""

    method: str
    times: int = 1
    retry_after: int | None = None  # answer 429 Too Many Requests
    drop: bool = False  # close the connection without an answer
    error: tuple[int, str] | None = None  # (code, description)
    raw: bytes | None = None  # answer 200 with this body, as it is (say, not JSON)


class BotApiStandIn:
    """The Bot API on 127.0.0.1 for tests: state, a call log, user actions and fault injection."""

    def __init__(self, *, token: str = TOKEN, limits: Limits | None = None) -> None:
        self.token = token
        self.limits = limits
        self.limited = 0  # calls answered 429 by the limit mode
        self._sent_at: collections.deque[float] = collections.deque()  # overall, last second
        self._chat_sent_at: dict[int, float] = {}
        self.delivered: dict[int, float] = {}  # update id -> when getUpdates first handed it over
        self.listeners: list[Callable[[Call], None]] = []  # told of every answered call
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self.confirmed_offset = 0
        self.messages: dict[int, dict[int, dict[str, Any]]] = {}  # chat_id -> message_id -> msg
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.faults: list[Fault] = []
        self.injected: list[tuple[int, int]] = []  # (position in the call log, update_id)
        self.processed: set[int] = set()  # update ids an in-process bot reported finished
        self.watching_processing = False
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._cond = threading.Condition()
        self._server = _QuietServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._closed = False

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The server root, as `TELEGRAM_BASE_URL`."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """PTB's `base_url` (the token is appended by PTB)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    def start(self) -> BotApiStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> BotApiStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the user's side --------------------------------------------------------------------

    def user(self, user_id: int, first_name: str = "Test") -> FakeUser:
        """A Telegram user in a private chat with the bot (chat id == user id)."""
        return FakeUser(self, user_id, first_name)

    def inject(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (an `update_id` is added unless given) and wake long polls."""
        with self._cond:
            if "update_id" not in update:
                update = {"update_id": next(self._update_ids), **update}
            self.updates.append(update)
            self.injected.append((len(self.calls), update["update_id"]))
            self._cond.notify_all()
        return update

    def new_message_id(self) -> int:
        return next(self._message_ids)

    def store_message(self, chat_id: int, message: dict[str, Any]) -> None:
        with self._cond:
            self.messages.setdefault(chat_id, {})[message["message_id"]] = message

    def chat(self, chat_id: int) -> list[dict[str, Any]]:
        """The messages now visible in a chat (after edits and deletions), oldest first."""
        with self._cond:
            return [dict(m) for _, m in sorted(self.messages.get(chat_id, {}).items())]

    def fail(self, method: str, *, times: int = 1, retry_after: int | None = None,
             drop: bool = False, error: tuple[int, str] | None = None,
             raw: bytes | None = None) -> None:
        """Make the next `times` calls of `method` fail (429, dropped connection, an error, or a
        body that is not what the Bot API would send)."""
        with self._cond:
            self.faults.append(Fault(method, times, retry_after, drop, error, raw))

    # --- what the bot did ------------------------------------------------------------------

    def calls_of(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def mark(self) -> int:
        """A position in the call log, for `since=`."""
        with self._cond:
            return len(self.calls)

    def since(self, mark: int, method: str | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self.calls[mark:] if method is None or c.method == method]

    def wait_for(self, predicate: Callable[[Call], bool], *, since: int = 0,
                 timeout: float = 15.0, count: int = 1) -> list[Call]:
        """Block until `count` calls after `since` match; fail with the call log if they don't."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.calls[since:] if predicate(c)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    methods = [c.method for c in self.calls[since:]]
                    raise AssertionError(f"timed out waiting for {count} call(s); saw {methods}")
                self._cond.wait(left)

    async def await_for(self, predicate: Callable[[Call], bool], *, since: int = 0,
                        within: float = 15.0, count: int = 1) -> list[Call]:
        """`wait_for` for async tests: polls without blocking the event loop."""
        deadline = time.monotonic() + within
        while True:
            with self._cond:
                found = [c for c in self.calls[since:] if predicate(c)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                methods = [c.method for c in self.calls[since:]]
                raise AssertionError(f"timed out waiting for {count} call(s); saw {methods}")
            await asyncio.sleep(0.02)

    def wait_idle(self, *, quiet: float = 0.4, timeout: float = 15.0) -> None:
        """Block until no call has arrived (other than getUpdates) for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._cond:
                last = max((c.at for c in self.calls if c.method != "getUpdates"), default=0.0)
            if time.monotonic() - last >= quiet:
                return
            time.sleep(0.05)
        raise AssertionError("the bot never went quiet")

    async def await_idle(self, *, quiet: float = 0.4, within: float = 15.0) -> None:
        """`wait_idle` for async tests."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            with self._cond:
                last = max((c.at for c in self.calls if c.method != "getUpdates"), default=0.0)
            if time.monotonic() - last >= quiet:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the bot never went quiet")

    def note_processed(self, update_id: int) -> None:
        """Called by `run_application(app, api)` when the bot has finished an update."""
        with self._cond:
            self.processed.add(update_id)
            self._cond.notify_all()

    def injected_since(self, mark: int) -> list[int]:
        """The update ids offered to the bot since a position in the call log."""
        with self._cond:
            return [update_id for position, update_id in self.injected if position >= mark]

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by a later getUpdates offset."""
        with self._cond:
            return [u for u in self.updates if u["update_id"] >= self.confirmed_offset]

    # --- the API -----------------------------------------------------------------------------

    def bot_user(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Flourish", "username": BOT_USERNAME,
                "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    def _take_fault(self, method: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    def dispatch(self, call: Call) -> tuple[int, dict[str, Any] | bytes] | None:
        """Answer one call: (HTTP status, body), or None to drop the connection."""
        result = self._dispatch(call)
        if result is not None:
            call.status = result[0]
            for listener in list(self.listeners):
                listener(call)
        return result

    def _over_limit(self, call: Call) -> int | None:
        """Seconds to wait, when this call breaks Telegram's flood limits (limit mode only);
        otherwise the call is counted."""
        if self.limits is None:
            return None
        overall, per_chat = counted(call.method)
        if not overall:
            return None
        now = time.monotonic()
        with self._cond:
            while self._sent_at and self._sent_at[0] <= now - 1.0:
                self._sent_at.popleft()
            wait = 0.0
            if len(self._sent_at) >= self.limits.overall:
                wait = self._sent_at[0] + 1.0 - now
            chat = call.chat_id
            if per_chat and chat is not None:
                wait = max(wait, self._chat_sent_at.get(chat, -math.inf) + self.limits.per_chat
                           - now)
            if wait > 0:
                self.limited += 1
                return max(1, math.ceil(wait))
            self._sent_at.append(now)
            if per_chat and chat is not None:
                self._chat_sent_at[chat] = now
        return None

    def _dispatch(self, call: Call) -> tuple[int, dict[str, Any]] | None:
        with self._cond:
            fault = self._take_fault(call.method)
            self.calls.append(call)
            self._cond.notify_all()
        if fault is None and (wait := self._over_limit(call)) is not None:
            fault = Fault(call.method, retry_after=wait)
        if fault is not None:
            if fault.drop:
                return None
            if fault.retry_after is not None:
                return 429, {"ok": False, "error_code": 429,
                             "description": f"Too Many Requests: retry after {fault.retry_after}",
                             "parameters": {"retry_after": fault.retry_after}}
            if fault.raw is not None:
                return 200, fault.raw
            if fault.error is not None:
                return fault.error[0], {"ok": False, "error_code": fault.error[0],
                                        "description": fault.error[1]}
        if call.method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(call.params)}
        handler = getattr(self, f"_api_{call.method}", None)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        try:
            return 200, {"ok": True, "result": handler(call.params)}
        except _ApiError as exc:
            return exc.code, {"ok": False, "error_code": exc.code, "description": exc.description}

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        with self._cond:
            if offset:
                self.confirmed_offset = max(self.confirmed_offset, offset)
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            while True:
                ready = [u for u in self.updates if u["update_id"] >= offset][:limit]
                left = deadline - time.monotonic()
                if ready or left <= 0 or self._closed:
                    now = time.monotonic()
                    for update in ready:
                        self.delivered.setdefault(update["update_id"], now)
                    return ready
                self._cond.wait(min(left, 0.5))

    def _chat_of(self, chat_id: int) -> dict[str, Any]:
        if chat_id < 0:
            return {"id": chat_id, "type": "group", "title": "A group"}
        return {"id": chat_id, "type": "private", "first_name": "Test"}

    def _new_bot_message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message: dict[str, Any] = {"message_id": self.new_message_id(), "date": int(time.time()),
                                   "chat": self._chat_of(chat_id), "from": self.bot_user(), **extra}
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.store_message(chat_id, message)
        return message

    def _find(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        with self._cond:
            message = self.messages.get(chat_id, {}).get(message_id)
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return message

    def _api_getMe(self, params: dict[str, Any]) -> Any:
        return self.bot_user()

    def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        text = str(params.get("text", ""))
        if not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        return self._new_bot_message(params, text=text)

    def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        message = self._find(params)
        text = str(params.get("text", ""))
        if len(text) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        if message.get("text") == text and message.get("reply_markup") == markup:
            raise _ApiError(400, "Bad Request: message is not modified: specified new message "
                                 "content and reply markup are exactly the same")
        with self._cond:
            message["text"] = text
            message["edit_date"] = int(time.time())
            if markup:
                message["reply_markup"] = markup
            else:
                message.pop("reply_markup", None)
        return message

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        message = self._find(params)
        with self._cond:
            if params.get("reply_markup"):
                message["reply_markup"] = params["reply_markup"]
            else:
                message.pop("reply_markup", None)
        return message

    def _api_deleteMessage(self, params: dict[str, Any]) -> Any:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        with self._cond:
            if self.messages.get(chat_id, {}).pop(message_id, None) is None:
                raise _ApiError(400, "Bad Request: message to delete not found")
        return True

    def _api_deleteMessages(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        with self._cond:
            for message_id in params.get("message_ids") or []:
                self.messages.get(chat_id, {}).pop(int(message_id), None)
        return True

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    def _api_setMyCommands(self, params: dict[str, Any]) -> Any:
        return True

    def _api_getMyCommands(self, params: dict[str, Any]) -> Any:
        return []

    def _api_deleteMyCommands(self, params: dict[str, Any]) -> Any:
        return True

    def _api_leaveChat(self, params: dict[str, Any]) -> Any:
        return True

    def _api_sendChatAction(self, params: dict[str, Any]) -> Any:
        return True

    def _api_sendPhoto(self, params: dict[str, Any]) -> Any:
        photo = [{"file_id": f"photo{self.new_message_id()}", "file_unique_id": "p",
                  "width": 1, "height": 1}]
        return self._new_bot_message(params, photo=photo, caption=params.get("caption"))

    def _api_sendDocument(self, params: dict[str, Any]) -> Any:
        document = {"file_id": f"doc{self.new_message_id()}", "file_unique_id": "d"}
        return self._new_bot_message(params, document=document, caption=params.get("caption"))

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {"url": self.webhook_url, "has_custom_certificate": False,
                "pending_update_count": len(self.pending_updates())}

    def _api_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url = str(params.get("url", ""))
        self.webhook_secret = params.get("secret_token")
        return True

    def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url = ""
        self.webhook_secret = None
        if str(params.get("drop_pending_updates", "")).lower() == "true":
            with self._cond:
                self.updates.clear()
        return True

    def _api_close(self, params: dict[str, Any]) -> Any:
        return True

    def _api_logOut(self, params: dict[str, Any]) -> Any:
        return True


class _ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


class FakeUser:
    """A person in a private chat with the bot: what they can send and press."""

    def __init__(self, api: BotApiStandIn, user_id: int, first_name: str) -> None:
        self.api = api
        self.id = user_id
        self.first_name = first_name

    @property
    def tg_user(self) -> dict[str, Any]:
        return {"id": self.id, "is_bot": False, "first_name": self.first_name, "language_code": "en"}

    def _message(self, chat: dict[str, Any] | None = None, **content: Any) -> dict[str, Any]:
        chat = chat or {"id": self.id, "type": "private", "first_name": self.first_name}
        message = {"message_id": self.api.new_message_id(), "date": int(time.time()),
                   "chat": chat, "from": self.tg_user, **content}
        self.api.store_message(chat["id"], message)
        return message

    def send(self, text: str) -> dict[str, Any]:
        """Type a message (a `/command` gets its bot_command entity, as Telegram adds one)."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            length = len(text.split()[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self.api.inject({"message": self._message(**content)})

    def send_content(self, kind: str) -> dict[str, Any]:
        """Send something that is not text: sticker, photo, voice, location, contact, document..."""
        return self.api.inject({"message": self._message(**_CONTENT[kind])})

    def edit(self, message: dict[str, Any], text: str) -> dict[str, Any]:
        """Edit a message sent earlier (Telegram sends an `edited_message` update)."""
        edited = {**message, "text": text, "edit_date": int(time.time())}
        return self.api.inject({"edited_message": edited})

    def press(self, data: str, message: dict[str, Any] | None = None) -> dict[str, Any]:
        """Press an inline button by its callback data (on the newest bot message that has it)."""
        if message is None:
            message = self.message_with_button(data)
        query = {"id": str(self.api.new_message_id()), "from": self.tg_user,
                 "chat_instance": str(self.id), "data": data, "message": message}
        return self.api.inject({"callback_query": query})

    def message_with_button(self, data: str) -> dict[str, Any]:
        for message in reversed(self.api.chat(self.id)):
            if data in buttons_of(message):
                return message
        raise AssertionError(f"no message in the chat has a button {data!r}")

    def in_group(self, text: str, group_id: int = -100200) -> dict[str, Any]:
        """Send a message in a group the bot is in."""
        chat = {"id": group_id, "type": "group", "title": "Staff room"}
        return self.api.inject({"message": self._message(chat=chat, text=text)})

    def add_bot_to_group(self, group_id: int = -100200) -> dict[str, Any]:
        """Add the bot to a group (Telegram sends `my_chat_member`)."""
        member = {
            "chat": {"id": group_id, "type": "group", "title": "Staff room"},
            "from": self.tg_user, "date": int(time.time()),
            "old_chat_member": {"user": self.api.bot_user(), "status": "left"},
            "new_chat_member": {"user": self.api.bot_user(), "status": "member"},
        }
        return self.api.inject({"my_chat_member": member})

    def visible(self) -> list[dict[str, Any]]:
        """Messages now in this user's chat with the bot."""
        return self.api.chat(self.id)


def buttons_of(message: dict[str, Any]) -> list[str]:
    """The callback data of a stored message's inline keyboard."""
    markup = message.get("reply_markup") or {}
    return [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row]


_CONTENT: dict[str, dict[str, Any]] = {
    "sticker": {"sticker": {"file_id": "stk", "file_unique_id": "stk", "type": "regular",
                            "width": 512, "height": 512, "is_animated": False,
                            "is_video": False, "emoji": "👍"}},
    "photo": {"photo": [{"file_id": "ph", "file_unique_id": "ph", "width": 90, "height": 90}]},
    "voice": {"voice": {"file_id": "vc", "file_unique_id": "vc", "duration": 3}},
    "location": {"location": {"latitude": 51.5, "longitude": -0.12}},
    "contact": {"contact": {"phone_number": "+440000000000", "first_name": "Synthetic"}},
    "document": {"document": {"file_id": "dc", "file_unique_id": "dc", "file_name": "notes.pdf"}},
    "video": {"video": {"file_id": "vd", "file_unique_id": "vd", "width": 1, "height": 1,
                        "duration": 1}},
}
UNSUPPORTED_KINDS = ("sticker", "photo", "voice", "location", "contact", "document", "video")


# --- HTTP ---------------------------------------------------------------------------------------


def _decode(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, str) and key in JSON_FIELDS:
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        elif isinstance(value, str) and key in INT_FIELDS:
            with contextlib.suppress(ValueError):
                value = int(value)
        out[key] = value
    return out


def parse_body(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, tuple[str, int]]]:
    """A request body as parameters (and uploaded files), whatever its encoding."""
    files: dict[str, tuple[str, int]] = {}
    if not body:
        return {}, files
    if content_type.startswith("application/json"):
        return _decode(json.loads(body)), files
    if content_type.startswith("multipart/form-data"):
        raw = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + body
        parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
        params: dict[str, Any] = {}
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            if filename is not None:
                files[str(name)] = (filename, len(payload))
                params[str(name)] = f"attach://{name}"
            else:
                params[str(name)] = payload.decode("utf-8")
        return _decode(params), files
    return _decode(dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))), files


class _QuietServer(ThreadingHTTPServer):
    """A threading HTTP server that does not print a traceback when a client hangs up."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


def _make_handler(api: BotApiStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms ACK stalls

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            prefix = f"/bot{api.token}/"
            if not self.path.startswith(prefix):
                self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                return
            method = self.path[len(prefix):].split("?", 1)[0]
            content_type = self.headers.get("Content-Type", "")
            params, files = parse_body(content_type, body)
            result = api.dispatch(Call(method, params, files, content_type))
            if result is None:
                self.close_connection = True
                self.connection.close()
                return
            self._send(*result)

        def _send(self, status: int, body: dict[str, Any] | bytes) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except OSError:  # the client went away (a killed bot, a cancelled long poll)
                self.close_connection = True

        do_POST = _answer
        do_GET = _answer

    return Handler


def callback_data_in(calls: list[Call]) -> Iterator[str]:
    for call in calls:
        yield from call.button_data()
