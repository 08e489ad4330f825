"""An in-process fake of the Telegram Bot API server, for end-to-end tests.

The bot under test talks to it over real HTTP (aiohttp server on 127.0.0.1, ephemeral
port), exactly the way python-telegram-bot talks to ``api.telegram.org``: every request
goes to ``{url}/bot{token}/{method}`` as form data (multipart when files are attached),
success is HTTP 200 ``{"ok": true, "result": ...}`` and errors carry the HTTP status PTB
maps to its exception classes (400 BadRequest, 403 Forbidden, 429 RetryAfter, ...).

Typical use::

    async with FakeTelegram() as tg:
        app = ApplicationBuilder().token(tg.token).base_url(f"{tg.url}/bot").build()
        ...
        tg.push_message(42, "/start")
        sent = await tg.wait_message(42, contains="Welcome")
        assert tg.buttons(sent)[0].callback_data == "menu:new"
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from aiohttp import web

from bot.sandbox.common import LocalServer, Signal

__all__ = [
    "Call",
    "FakeTelegram",
    "InlineButton",
    "Sent",
    "StoredMessage",
]

JSONDict = dict[str, Any]
T = TypeVar("T")

#: Methods whose successful calls show something to a user and land in ``outbox``.
OUTBOX_METHODS: frozenset[str] = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
    }
)
#: Methods that count towards the emulated flood limits (editing is not counted).
_FLOOD_METHODS: frozenset[str] = frozenset({"sendMessage", "sendPhoto", "sendDocument"})

_DEFAULT_DESCRIPTIONS: dict[int, str] = {
    400: "Bad Request: bad request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot "
    "instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

_HTML_ERROR = (
    "<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)

_MAX_TEXT = 4096
_MAX_CAPTION = 1024
_MAX_CALLBACK_DATA = 64


# --------------------------------------------------------------------------- records


@dataclass
class Call:
    """One HTTP request the bot made to the fake (recorded for every request)."""

    method: str
    params: dict[str, str]
    files: dict[str, bytes]
    #: ``clock()`` when the request arrived (before the stand-in read its parameters).
    at: float
    #: HTTP status the fake answered with (0 while the request is still being handled).
    status: int = 0
    #: The decoded ``result`` (success) or the error body (failure), once answered.
    response: Any = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Sent:
    """Something the bot showed to a user (send* and successful edit* calls only)."""

    method: str
    chat_id: int
    message_id: int
    #: Message text; the caption for photos/documents.  For ``editMessageReplyMarkup``
    #: it is the (unchanged) text/caption the user now sees next to the new keyboard.
    text: str | None
    reply_markup: JSONDict | None
    file: bytes | None
    filename: str | None
    params: dict[str, str]
    at: float


@dataclass
class StoredMessage:
    """Current state of one message in a chat (after edits / deletion)."""

    chat_id: int
    message_id: int
    from_bot: bool
    kind: str  # "text" | "photo" | "document"
    text: str | None  # text, or caption for photo/document
    reply_markup: JSONDict | None
    raw: JSONDict  # the Telegram ``Message`` object as the Bot API would return it
    deleted: bool = False
    edit_count: int = 0


@dataclass(frozen=True)
class InlineButton:
    text: str
    url: str | None = None
    callback_data: str | None = None
    switch_inline_query: str | None = None
    switch_inline_query_current_chat: str | None = None
    row: int = 0
    col: int = 0


@dataclass
class _QueuedFailure:
    status: int
    times: int
    description: str | None
    retry_after: int | None


class _ApiError(Exception):
    def __init__(
        self,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        html: bool = False,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.html = html
        self.migrate_to_chat_id = migrate_to_chat_id


@dataclass
class _Request:
    method: str
    params: dict[str, str]
    files: dict[str, bytes]
    filenames: dict[str, str]
    call: Call


# --------------------------------------------------------------------------- the fake


class FakeTelegram(LocalServer):
    """Fake Bot API server.  See the module docstring."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        bot_username: str = "paybot_test_bot",
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 123456
        self.bot_user: JSONDict = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "PayBot",
            "username": bot_username,
        }

        # recordings
        self.calls: list[Call] = []
        self.outbox: list[Sent] = []
        self.answered_callbacks: dict[str, dict[str, str]] = {}
        #: update id -> ``clock()`` time when getUpdates handed it to the bot (its answer
        #: written to the bot's connection).
        self.delivered_at: dict[int, float] = {}
        self.inline_answers: dict[str, dict[str, str]] = {}
        self.menu_buttons: dict[int | None, JSONDict] = {}
        self.webhook: dict[str, str] | None = None
        #: Updates not yet confirmed by the bot (``update_id >= offset``).
        self.updates: list[JSONDict] = []

        # fault switches
        self.blocked_chats: set[int] = set()
        self.missing_chats: set[int] = set()
        #: Groups upgraded to supergroups: old chat id -> new. Calls naming the old id fail
        #: as Telegram's do (400 with ``parameters.migrate_to_chat_id``).
        self.migrated_chats: dict[int, int] = {}
        #: Groups the bot is not in (removed, or left): chat id -> the 403 description
        #: Telegram answers calls naming it with. Kept by :meth:`push_my_chat_member`.
        self.left_chats: dict[int, str] = {}
        self.delay: float = 0.0
        self.flood_limits: bool = False
        self.per_chat_per_second: float = 1.0
        self.chat_burst: int = 1
        self.overall_per_second: int = 30
        self.group_per_minute: int = 20
        self.too_many_requests: int = 0
        self.too_many_requests_by_chat: dict[int, int] = {}
        #: Which flood limit each emulated 429 was for: "chat", "overall" or "group".
        self.flood_limit_hits: Counter[str] = Counter()
        self.clock: Callable[[], float] = time.monotonic

        self._failures: dict[str, deque[_QueuedFailure]] = {}
        self._outage: tuple[int, frozenset[str] | None, bool] | None = None

        # state
        self._messages: dict[tuple[int, int], StoredMessage] = {}
        self._next_message_id: dict[int, int] = {}
        self._chats: dict[int, JSONDict] = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._pending_callbacks: set[str] = set()
        self._pending_inline: set[str] = set()
        self._update_ids = itertools.count(1)
        self._ids = itertools.count(1)
        self._flood_chat: dict[int, deque[float]] = {}
        self._flood_group: dict[int, deque[float]] = {}
        self._flood_all: deque[float] = deque()

        self._signal = Signal()
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._closing = False
        self._handlers: dict[str, Callable[[_Request], Awaitable[Any]]] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "senddocument": self._send_document,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "editmessagecaption": self._edit_message_caption,
            "answercallbackquery": self._answer_callback_query,
            "answerinlinequery": self._answer_inline_query,
            "deletemessage": self._delete_message,
            "setchatmenubutton": self._set_chat_menu_button,
            "getchatmenubutton": self._get_chat_menu_button,
        }

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:4242``; the bot calls ``{url}/bot{token}/{m}``."""
        if self._url is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._url

    @property
    def base_url(self) -> str:
        """What to pass to ``ApplicationBuilder().base_url(...)``."""
        return f"{self.url}/bot"

    async def start(self) -> None:
        if self._runner is not None:
            return
        self._closing = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        self._runner = runner
        self._url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._closing = True
        self._fire()  # release pending long polls
        await runner.cleanup()

    # ------------------------------------------------------------------ fault switches

    def fail(
        self,
        method: str,
        status: int,
        *,
        times: int = 1,
        description: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error (queued, FIFO)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        self._failures.setdefault(method, deque()).append(
            _QueuedFailure(status, times, description, retry_after)
        )

    def outage(
        self, status: int = 502, methods: set[str] | None = None, *, html: bool = True
    ) -> None:
        """Until ``restore()``, matching methods answer ``status``.

        ``methods=None`` means every send*/edit* method plus deleteMessage and
        answerCallbackQuery; ``{"*"}`` means every method (getUpdates included).  With
        ``html=True`` the body is an nginx-style HTML page (PTB raises NetworkError),
        otherwise the usual JSON error body.
        """
        self._outage = (status, frozenset(methods) if methods is not None else None, html)

    def restore(self) -> None:
        self._outage = None

    # ------------------------------------------------------------------ inspection

    def messages(
        self, chat_id: int | None = None, method: str | None = "sendMessage"
    ) -> list[Sent]:
        return [
            s
            for s in self.outbox
            if (chat_id is None or s.chat_id == chat_id) and (method is None or s.method == method)
        ]

    def calls_for(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def history(self, chat_id: int) -> list[StoredMessage]:
        """Every message in a chat, the user's and the bot's, oldest first (as shown)."""
        found = [m for (c, _), m in self._messages.items() if c == chat_id and not m.deleted]
        return sorted(found, key=lambda m: m.message_id)

    def file_of(self, chat_id: int, message_id: int) -> tuple[bytes, str | None] | None:
        """The bytes (and file name) the bot uploaded with a photo or document message."""
        for sent in reversed(self.outbox):
            if sent.chat_id == chat_id and sent.message_id == message_id and sent.file:
                return sent.file, sent.filename
        return None

    @property
    def version(self) -> int:
        """Grows with every request the bot makes: the sandbox page redraws when it changes."""
        return len(self.calls) + len(self._messages)

    def chat_message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        """Current state of a message (bot's or user's), ``None`` if it never existed."""
        return self._messages.get((chat_id, message_id))

    def mark(self) -> int:
        """Current outbox length; pass it as ``since=`` to only see later messages."""
        return len(self.outbox)

    @staticmethod
    def buttons(message: Sent | StoredMessage | JSONDict | None) -> list[InlineButton]:
        """Flattened inline keyboard of a sent/stored message (or a reply_markup dict)."""
        if message is None:
            return []
        if isinstance(message, Sent | StoredMessage):
            markup = message.reply_markup
        else:
            markup = message.get("reply_markup", message)
        if not isinstance(markup, dict):
            return []
        result: list[InlineButton] = []
        for r, row in enumerate(markup.get("inline_keyboard") or []):
            for c, b in enumerate(row):
                result.append(
                    InlineButton(
                        text=str(b.get("text", "")),
                        url=b.get("url"),
                        callback_data=b.get("callback_data"),
                        switch_inline_query=b.get("switch_inline_query"),
                        switch_inline_query_current_chat=b.get("switch_inline_query_current_chat"),
                        row=r,
                        col=c,
                    )
                )
        return result

    def commands(
        self, language_code: str | None = None, scope: str | JSONDict = "default"
    ) -> list[JSONDict]:
        """Commands set with setMyCommands for a scope (type name or scope dict) and language."""
        return list(self._commands.get((_scope_key(scope), language_code or ""), []))

    # ------------------------------------------------------------------ injecting updates

    def push_update(self, raw: JSONDict) -> int:
        """Queue a raw Update (``update_id`` is assigned when missing); returns its id."""
        update = dict(raw)
        if "update_id" in update:
            uid = int(update["update_id"])
            nxt = next(self._update_ids)
            self._update_ids = itertools.count(max(nxt, uid + 1))
        else:
            uid = next(self._update_ids)
            update = {"update_id": uid, **update}
        self.updates.append(update)
        self._fire()
        return uid

    def push_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        first_name: str = "Budi",
        language_code: str = "en",
        reply_to: int | None = None,
    ) -> int:
        """A user writes ``text`` in ``chat_id`` (in reply to message ``reply_to`` of that
        chat, if given); returns the update id."""
        user = self._user(user_id if user_id is not None else chat_id, first_name, language_code)
        chat = self._chat(chat_id, first_name)
        message_id = self._new_message_id(chat_id)
        msg: JSONDict = {
            "message_id": message_id,
            "from": user,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        replied = self._messages.get((chat_id, reply_to)) if reply_to is not None else None
        if replied is not None and not replied.deleted:
            # As the Bot API does: the replied-to message, without its own reply_to_message.
            quoted = _copy(replied.raw)
            quoted.pop("reply_to_message", None)
            msg["reply_to_message"] = quoted
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        self._messages[(chat_id, message_id)] = StoredMessage(
            chat_id=chat_id,
            message_id=message_id,
            from_bot=False,
            kind="text",
            text=text,
            reply_markup=None,
            raw=msg,
        )
        return self.push_update({"message": msg})

    def push_edited_message(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        user_id: int | None = None,
        first_name: str = "Budi",
        language_code: str = "en",
    ) -> int:
        """A user edits their message ``message_id`` to ``text``; returns the update id."""
        stored = self._messages.get((chat_id, message_id))
        if stored is None or stored.from_bot:
            raise ValueError(f"no message {message_id} of a user in chat {chat_id}")
        user = self._user(user_id if user_id is not None else chat_id, first_name, language_code)
        msg = _copy(stored.raw)
        msg.update({"from": user, "text": text, "edit_date": int(time.time())})
        msg.pop("entities", None)
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        stored.text, stored.raw = text, msg
        stored.edit_count += 1
        return self.push_update({"edited_message": _copy(msg)})

    def push_chat_migration(
        self, old_chat_id: int, new_chat_id: int, *, user_id: int, first_name: str = "Budi"
    ) -> None:
        """A group becomes a supergroup, as Telegram tells a bot: a service message with
        ``migrate_to_chat_id`` in the old group, one with ``migrate_from_chat_id`` in the new
        supergroup. From now on calls naming the old chat id fail with ``ChatMigrated``."""
        self.migrated_chats[old_chat_id] = new_chat_id
        user = self._user(user_id, first_name, "en")
        old_chat = self._chat(old_chat_id, first_name)
        self._chats[new_chat_id] = {
            "id": new_chat_id,
            "type": "supergroup",
            "title": old_chat.get("title", f"Group {new_chat_id}"),
        }
        for chat_id, field, other in (
            (old_chat_id, "migrate_to_chat_id", new_chat_id),
            (new_chat_id, "migrate_from_chat_id", old_chat_id),
        ):
            self.push_update(
                {
                    "message": {
                        "message_id": self._new_message_id(chat_id),
                        "from": user,
                        "chat": self._chat(chat_id, first_name),
                        "date": int(time.time()),
                        field: other,
                    }
                }
            )

    def push_my_chat_member(
        self,
        chat_id: int,
        status: str,
        *,
        user_id: int,
        old_status: str | None = None,
        first_name: str = "Budi",
        language_code: str = "en",
    ) -> int:
        """The bot's own membership of a group changes, as Telegram tells a bot: a
        ``my_chat_member`` update (a ``ChatMemberUpdated``) naming ``user_id`` as who did it.

        ``status``: "member" or "administrator" (added), "left" or "kicked" (removed);
        ``old_status`` defaults to the opposite. Once removed, calls naming the chat fail
        with 403 as Telegram's do; added again, they work. Returns the update id."""
        if old_status is None:
            old_status = "left" if status in ("member", "administrator") else "member"
        if status == "kicked":
            self.left_chats[chat_id] = "Forbidden: bot was kicked from the group chat"
        elif status == "left":
            self.left_chats[chat_id] = "Forbidden: bot is not a member of the group chat"
        else:
            self.left_chats.pop(chat_id, None)
        return self.push_update(
            {
                "my_chat_member": {
                    "chat": self._chat(chat_id, first_name),
                    "from": self._user(user_id, first_name, language_code),
                    "date": int(time.time()),
                    "old_chat_member": self._bot_member(old_status),
                    "new_chat_member": self._bot_member(status),
                }
            }
        )

    def _bot_member(self, status: str) -> JSONDict:
        """The bot as a ``ChatMember`` of a group, with the fields its kind requires."""
        member: JSONDict = {"status": status, "user": dict(self.bot_user)}
        if status == "administrator":
            rights = (
                "can_manage_chat can_delete_messages can_manage_video_chats "
                "can_restrict_members can_promote_members can_change_info can_invite_users "
                "can_post_stories can_edit_stories can_delete_stories can_pin_messages"
            )
            member.update({"can_be_edited": False, "is_anonymous": False})
            member.update(dict.fromkeys(rights.split(), False))
            member.update(can_delete_messages=True, can_invite_users=True, can_pin_messages=True)
        elif status == "kicked":
            member["until_date"] = 0  # for ever
        elif status not in ("member", "left"):
            raise ValueError(f"unsupported status for the bot: {status!r}")
        return member

    def push_callback(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user_id: int | None = None,
        language_code: str = "en",
        first_name: str = "Budi",
    ) -> str:
        """A user presses an inline button with ``data`` under a message; returns the query id."""
        user = self._user(user_id if user_id is not None else chat_id, first_name, language_code)
        stored = self._messages.get((chat_id, message_id))
        if stored is not None and not stored.deleted:
            message = _copy(stored.raw)
        else:
            message = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": self._chat(chat_id, first_name),
                "from": self.bot_user,
                "text": "",
            }
        query_id = str(4_000_000_000 + next(self._ids))
        self._pending_callbacks.add(query_id)
        self.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "message": message,
                    "chat_instance": f"ci{chat_id}",
                    "data": data,
                }
            }
        )
        return query_id

    def push_inline_query(
        self, user_id: int, query: str, language_code: str = "en", *, first_name: str = "Budi"
    ) -> str:
        """A user types ``@bot query`` somewhere; returns the inline query id."""
        query_id = str(5_000_000_000 + next(self._ids))
        self._pending_inline.add(query_id)
        self.push_update(
            {
                "inline_query": {
                    "id": query_id,
                    "from": self._user(user_id, first_name, language_code),
                    "query": query,
                    "offset": "",
                    "chat_type": "sender",
                }
            }
        )
        return query_id

    def name_group(self, chat_id: int, title: str) -> None:
        """Give a group its title before anyone writes in it (otherwise ``Group <id>``)."""
        self._chats[chat_id] = {**self._chat(chat_id), "title": title}

    # ------------------------------------------------------------------ waiting

    async def wait_for(
        self,
        predicate: Callable[[], T | bool | None],
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the fake's API
    ) -> T:
        """Wait until ``predicate()`` is truthy-ish (not None/False); return its value.

        Re-evaluated after every recorded call and every pushed update.
        """
        done, value = await self._signal.wait_until(predicate, timeout)
        if not done:
            raise AssertionError(
                f"FakeTelegram.wait_for: condition not met within {timeout}s\n{self.describe()}"
            )
        return cast(T, value)

    async def wait_message(
        self,
        chat_id: int,
        contains: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the fake's API
        method: str | None = "sendMessage",
        *,
        since: int = 0,
    ) -> Sent:
        """First outbox entry (already there or still to come) in ``chat_id`` matching."""

        def find() -> Sent | None:
            for s in self.outbox[since:]:
                if s.chat_id != chat_id or (method is not None and s.method != method):
                    continue
                if contains is None or (s.text is not None and contains in s.text):
                    return s
            return None

        done, value = await self._signal.wait_until(find, timeout)
        if not done:
            raise AssertionError(
                f"FakeTelegram.wait_message: no {method or 'outbox'} entry in chat {chat_id}"
                f"{f' containing {contains!r}' if contains is not None else ''} within "
                f"{timeout}s\n{self.describe()}"
            )
        return cast(Sent, value)

    def describe(self, last: int = 15) -> str:
        """Human-readable summary of recent outbox entries and non-polling calls."""
        lines = [f"recent outbox ({len(self.outbox)} total):"]
        for s in self.outbox[-last:]:
            lines.append(f"  {s.method} chat={s.chat_id} msg={s.message_id}: {s.text!r}")
        if not self.outbox:
            lines.append("  (empty)")
        calls = [c for c in self.calls if c.method != "getUpdates"][-last:]
        lines.append("recent calls (getUpdates omitted):")
        for c in calls:
            lines.append(f"  {c.method} -> {c.status} {dict(c.params)!r:.200}")
        if not calls:
            lines.append("  (none)")
        return "\n".join(lines)

    # ------------------------------------------------------------------ HTTP plumbing

    def _fire(self) -> None:
        self._signal.fire()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        arrived = self.clock()  # before the stand-in's own work of reading the call
        method = request.match_info["method"]
        params, files, filenames = await _read_params(request)
        call = Call(method=method, params=params, files=files, at=arrived)
        self.calls.append(call)
        self._fire()
        try:
            if request.match_info["token"] != self.token:
                raise _ApiError(401, "Unauthorized")
            result = await self._dispatch(_Request(method, params, files, filenames, call))
        except _ApiError as err:
            call.status = err.status
            if err.status == 429:
                self._count_429(params)
            if err.html:
                call.response = err.description
                self._fire()
                return web.Response(
                    status=err.status,
                    text=_HTML_ERROR.format(status=err.status, phrase=err.description),
                    content_type="text/html",
                )
            body: JSONDict = {
                "ok": False,
                "error_code": err.status,
                "description": err.description,
            }
            if err.retry_after is not None:
                body["parameters"] = {"retry_after": err.retry_after}
            if err.migrate_to_chat_id is not None:
                body["parameters"] = {"migrate_to_chat_id": err.migrate_to_chat_id}
            call.response = body
            self._fire()
            return web.json_response(body, status=err.status)
        call.status = 200
        call.response = result
        self._fire()
        response = web.json_response({"ok": True, "result": result})
        if method == "getUpdates" and result:
            # Delivered once the answer is written to the bot's connection: the stand-in's
            # own time to encode and write it is not the bot's.
            await response.prepare(request)
            await response.write_eof()
            delivered = self.clock()
            for update in result:
                self.delivered_at.setdefault(int(update["update_id"]), delivered)
        return response

    async def _dispatch(self, req: _Request) -> Any:
        method = req.method
        queue = self._failures.get(method)
        if queue:
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.popleft()
            raise _ApiError(
                failure.status,
                failure.description
                or (
                    f"Too Many Requests: retry after {failure.retry_after}"
                    if failure.status == 429
                    else _DEFAULT_DESCRIPTIONS.get(failure.status, f"Error {failure.status}")
                ),
                retry_after=failure.retry_after,
            )
        if self._outage is not None:
            status, methods, html = self._outage
            if (methods is None and _is_chat_write(method)) or (
                methods is not None and ("*" in methods or method in methods)
            ):
                phrase = _DEFAULT_DESCRIPTIONS.get(status, "Error")
                raise _ApiError(status, phrase, html=html)
        if self.delay > 0 and _is_send_or_edit(method):
            await asyncio.sleep(self.delay)
        if "chat_id" in req.params:
            chat = _maybe_int(req.params["chat_id"])
            if chat is not None and chat in self.blocked_chats:
                raise _ApiError(403, "Forbidden: bot was blocked by the user")
            if chat is not None and chat in self.left_chats:
                raise _ApiError(403, self.left_chats[chat])
            if chat is not None and chat in self.missing_chats:
                raise _ApiError(400, "Bad Request: chat not found")
            if chat is not None and chat in self.migrated_chats:
                raise _ApiError(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    migrate_to_chat_id=self.migrated_chats[chat],
                )
        handler = self._handlers.get(method.lower())
        if handler is None:
            return True  # catch-all: recorded in calls, answered with True
        return await handler(req)

    def _count_429(self, params: dict[str, str]) -> None:
        self.too_many_requests += 1
        chat = _maybe_int(params.get("chat_id", ""))
        if chat is not None:
            self.too_many_requests_by_chat[chat] = self.too_many_requests_by_chat.get(chat, 0) + 1

    # ------------------------------------------------------------------ helpers

    def _user(self, user_id: int, first_name: str, language_code: str) -> JSONDict:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }

    def _chat(self, chat_id: int, first_name: str = "Budi") -> JSONDict:
        chat = self._chats.get(chat_id)
        if chat is None:
            if chat_id > 0:
                chat = {"id": chat_id, "type": "private", "first_name": first_name}
            elif chat_id <= -1_000_000_000_000:
                chat = {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}
            else:
                chat = {"id": chat_id, "type": "group", "title": f"Group {chat_id}"}
            self._chats[chat_id] = chat
        return dict(chat)

    def _new_message_id(self, chat_id: int) -> int:
        mid = self._next_message_id.get(chat_id, 0) + 1
        self._next_message_id[chat_id] = mid
        return mid

    def _chat_id(self, params: dict[str, str]) -> int:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _ApiError(400, "Bad Request: chat_id is empty")
        value = _maybe_int(raw)
        if value is None:
            raise _ApiError(400, "Bad Request: chat not found")
        return value

    def _flood_check(self, chat_id: int) -> None:
        if not self.flood_limits:
            return
        now = self.clock()
        waits: list[float] = []
        checks: list[tuple[str, deque[float], float, int]] = []
        rate = max(self.per_chat_per_second, 1e-9)
        burst = max(1, self.chat_burst)
        checks.append(("chat", self._flood_chat.setdefault(chat_id, deque()), burst / rate, burst))
        checks.append(("overall", self._flood_all, 1.0, max(1, self.overall_per_second)))
        if chat_id < 0:
            checks.append(
                (
                    "group",
                    self._flood_group.setdefault(chat_id, deque()),
                    60.0,
                    max(1, self.group_per_minute),
                )
            )
        for limit_name, window_q, window, limit in checks:
            while window_q and window_q[0] <= now - window:
                window_q.popleft()
            if len(window_q) >= limit:
                waits.append(window_q[len(window_q) - limit] + window - now)
                self.flood_limit_hits[limit_name] += 1
        if waits:
            retry = max(1, math.ceil(max(waits)))
            raise _ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
        for _, window_q, _, _ in checks:
            window_q.append(now)

    def _parse_markup(self, params: dict[str, str]) -> JSONDict | None:
        raw = params.get("reply_markup")
        if raw is None or raw == "":
            return None
        try:
            markup = json.loads(raw)
        except ValueError:
            raise _ApiError(
                400, "Bad Request: can't parse reply keyboard markup JSON object"
            ) from None
        if not isinstance(markup, dict):
            raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard") or []:
            for button in row:
                data = button.get("callback_data")
                if data is not None and not (
                    0 < len(str(data).encode("utf-8")) <= _MAX_CALLBACK_DATA
                ):
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _file_param(self, req: _Request, name: str) -> tuple[bytes | None, str | None, str]:
        """(uploaded bytes, filename, file_id-or-url) for a photo/document parameter."""
        value = req.params.get(name)
        part = name
        if value is not None and value.startswith("attach://"):
            part = value[len("attach://") :]
        if part in req.files:
            return req.files[part], req.filenames.get(part), ""
        if value:
            return None, None, value
        raise _ApiError(400, f"Bad Request: there is no {name} in the request")

    def _store_bot_message(
        self,
        req: _Request,
        *,
        kind: str,
        text: str | None,
        extra: JSONDict,
        file: bytes | None = None,
        filename: str | None = None,
    ) -> JSONDict:
        chat_id = self._chat_id(req.params)
        markup = self._parse_markup(req.params)
        self._flood_check(chat_id)
        message_id = self._new_message_id(chat_id)
        msg: JSONDict = {
            "message_id": message_id,
            "from": self.bot_user,
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            **extra,
        }
        if kind == "text":
            msg["text"] = text
        elif text is not None:
            msg["caption"] = text
        entity_key = "entities" if kind == "text" else "caption_entities"
        if entity_key in req.params:
            try:
                msg[entity_key] = json.loads(req.params[entity_key])
            except ValueError:
                raise _ApiError(400, "Bad Request: can't parse entities JSON object") from None
        if markup is not None and "inline_keyboard" in markup:
            # A Message carries only an inline keyboard; ForceReply and reply keyboards
            # act on the user's app and are not part of the message.
            msg["reply_markup"] = markup
        self._messages[(chat_id, message_id)] = StoredMessage(
            chat_id=chat_id,
            message_id=message_id,
            from_bot=True,
            kind=kind,
            text=text,
            reply_markup=markup,
            raw=msg,
        )
        self.outbox.append(
            Sent(
                method=req.method,
                chat_id=chat_id,
                message_id=message_id,
                text=text,
                reply_markup=markup,
                file=file,
                filename=filename,
                params=req.params,
                at=req.call.at,
            )
        )
        return _copy(msg)  # detached from the stored state

    def _editable(self, req: _Request) -> StoredMessage | None:
        """The message an edit targets; ``None`` for inline messages."""
        if "inline_message_id" in req.params and "chat_id" not in req.params:
            return None
        chat_id = self._chat_id(req.params)
        message_id = _maybe_int(req.params.get("message_id", ""))
        if message_id is None:
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        stored = self._messages.get((chat_id, message_id))
        if stored is None or stored.deleted:
            raise _ApiError(400, "Bad Request: message to edit not found")
        if not stored.from_bot:
            raise _ApiError(400, "Bad Request: message can't be edited")
        return stored

    def _apply_edit(
        self, req: _Request, stored: StoredMessage, text: str | None, markup: JSONDict | None
    ) -> JSONDict:
        if text == stored.text and markup == stored.reply_markup:
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup of "
                "the message",
            )
        stored.text = text
        stored.reply_markup = markup
        stored.edit_count += 1
        stored.raw["text" if stored.kind == "text" else "caption"] = text
        if markup is None:
            stored.raw.pop("reply_markup", None)
        else:
            stored.raw["reply_markup"] = markup
        stored.raw["edit_date"] = int(time.time())
        self.outbox.append(
            Sent(
                method=req.method,
                chat_id=stored.chat_id,
                message_id=stored.message_id,
                text=text,
                reply_markup=markup,
                file=None,
                filename=None,
                params=req.params,
                at=req.call.at,
            )
        )
        return _copy(stored.raw)

    def _inline_edit(self, req: _Request, text: str | None, markup: JSONDict | None) -> bool:
        self.outbox.append(
            Sent(
                method=req.method,
                chat_id=0,
                message_id=0,
                text=text,
                reply_markup=markup,
                file=None,
                filename=None,
                params=req.params,
                at=req.call.at,
            )
        )
        return True

    # ------------------------------------------------------------------ API methods

    async def _get_me(self, req: _Request) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }

    async def _get_updates(self, req: _Request) -> Any:
        if self.webhook is not None:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = _maybe_int(req.params.get("offset", "")) or 0
        limit = _maybe_int(req.params.get("limit", "")) or 100
        try:
            timeout = float(req.params.get("timeout") or 0)
        except ValueError:
            timeout = 0.0
        allowed: list[str] | None = None
        if req.params.get("allowed_updates"):
            try:
                parsed = json.loads(req.params["allowed_updates"])
            except ValueError:
                parsed = None
            if isinstance(parsed, list) and parsed:
                allowed = [str(x) for x in parsed]
        if offset > 0:
            self.updates = [u for u in self.updates if int(u["update_id"]) >= offset]

        def available() -> list[JSONDict] | None:
            if self._closing:
                return []
            pool = self.updates[offset:] if offset < 0 else self.updates
            found = [u for u in pool if allowed is None or _update_type(u) in allowed]
            return found[: max(1, min(limit, 100))] or None

        _, result = await self._signal.wait_until(available, max(0.0, timeout))
        return result or []

    async def _delete_webhook(self, req: _Request) -> Any:
        self.webhook = None
        if _truthy(req.params.get("drop_pending_updates")):
            self.updates.clear()
        return True

    async def _set_webhook(self, req: _Request) -> Any:
        url = req.params.get("url", "")
        self.webhook = dict(req.params) if url else None
        if _truthy(req.params.get("drop_pending_updates")):
            self.updates.clear()
        return True

    async def _get_webhook_info(self, req: _Request) -> Any:
        info: JSONDict = {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }
        if self.webhook and self.webhook.get("allowed_updates"):
            info["allowed_updates"] = json.loads(self.webhook["allowed_updates"])
        return info

    def _commands_key(self, req: _Request) -> tuple[str, str]:
        scope: str | JSONDict = "default"
        if req.params.get("scope"):
            try:
                scope = json.loads(req.params["scope"])
            except ValueError:
                raise _ApiError(
                    400, "Bad Request: can't parse BotCommandScope JSON object"
                ) from None
        return _scope_key(scope), req.params.get("language_code", "")

    async def _set_my_commands(self, req: _Request) -> Any:
        try:
            commands = json.loads(req.params.get("commands", ""))
        except ValueError:
            raise _ApiError(400, "Bad Request: can't parse commands JSON object") from None
        if not isinstance(commands, list):
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        self._commands[self._commands_key(req)] = [dict(c) for c in commands]
        return True

    async def _get_my_commands(self, req: _Request) -> Any:
        return list(self._commands.get(self._commands_key(req), []))

    async def _delete_my_commands(self, req: _Request) -> Any:
        self._commands.pop(self._commands_key(req), None)
        return True

    async def _send_message(self, req: _Request) -> Any:
        text = req.params.get("text", "")
        if not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text) > _MAX_TEXT:
            raise _ApiError(400, "Bad Request: message is too long")
        return self._store_bot_message(req, kind="text", text=text, extra={})

    def _caption(self, req: _Request) -> str | None:
        caption = req.params.get("caption")
        if caption is not None and len(caption) > _MAX_CAPTION:
            raise _ApiError(400, "Bad Request: message caption is too long")
        return caption

    async def _send_photo(self, req: _Request) -> Any:
        caption = self._caption(req)
        data, filename, ref = self._file_param(req, "photo")
        n = next(self._ids)
        photo = [
            {
                "file_id": ref or f"photo-{n}",
                "file_unique_id": f"uphoto-{n}",
                "width": 320,
                "height": 320,
                "file_size": len(data) if data is not None else 0,
            }
        ]
        return self._store_bot_message(
            req, kind="photo", text=caption, extra={"photo": photo}, file=data, filename=filename
        )

    async def _send_document(self, req: _Request) -> Any:
        caption = self._caption(req)
        data, filename, ref = self._file_param(req, "document")
        n = next(self._ids)
        document: JSONDict = {
            "file_id": ref or f"document-{n}",
            "file_unique_id": f"udocument-{n}",
            "file_name": filename or "document",
            "file_size": len(data) if data is not None else 0,
        }
        return self._store_bot_message(
            req,
            kind="document",
            text=caption,
            extra={"document": document},
            file=data,
            filename=filename,
        )

    async def _edit_message_text(self, req: _Request) -> Any:
        text = req.params.get("text", "")
        if not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text) > _MAX_TEXT:
            raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        markup = self._parse_markup(req.params)
        stored = self._editable(req)
        if stored is None:
            return self._inline_edit(req, text, markup)
        if stored.kind != "text":
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        return self._apply_edit(req, stored, text, markup)

    async def _edit_message_caption(self, req: _Request) -> Any:
        caption = self._caption(req)
        markup = self._parse_markup(req.params)
        stored = self._editable(req)
        if stored is None:
            return self._inline_edit(req, caption, markup)
        if stored.kind == "text":
            raise _ApiError(400, "Bad Request: there is no caption in the message to edit")
        return self._apply_edit(req, stored, caption, markup)

    async def _edit_message_reply_markup(self, req: _Request) -> Any:
        markup = self._parse_markup(req.params)
        stored = self._editable(req)
        if stored is None:
            return self._inline_edit(req, None, markup)
        return self._apply_edit(req, stored, stored.text, markup)

    async def _answer_callback_query(self, req: _Request) -> Any:
        query_id = req.params.get("callback_query_id", "")
        if query_id not in self._pending_callbacks:
            raise _ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self._pending_callbacks.discard(query_id)
        self.answered_callbacks[query_id] = dict(req.params)
        return True

    async def _answer_inline_query(self, req: _Request) -> Any:
        query_id = req.params.get("inline_query_id", "")
        if query_id not in self._pending_inline:
            raise _ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        try:
            results = json.loads(req.params.get("results", "[]"))
        except ValueError:
            raise _ApiError(400, "Bad Request: can't parse inline query results JSON") from None
        if not isinstance(results, list) or len(results) > 50:
            raise _ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        self._pending_inline.discard(query_id)
        self.inline_answers[query_id] = dict(req.params)
        return True

    async def _delete_message(self, req: _Request) -> Any:
        chat_id = self._chat_id(req.params)
        message_id = _maybe_int(req.params.get("message_id", ""))
        stored = self._messages.get((chat_id, message_id or 0))
        if stored is None or stored.deleted:
            raise _ApiError(400, "Bad Request: message to delete not found")
        stored.deleted = True
        return True

    async def _set_chat_menu_button(self, req: _Request) -> Any:
        chat = _maybe_int(req.params.get("chat_id", ""))
        button: JSONDict = {"type": "default"}
        if req.params.get("menu_button"):
            try:
                button = json.loads(req.params["menu_button"])
            except ValueError:
                raise _ApiError(400, "Bad Request: can't parse menu button JSON object") from None
        self.menu_buttons[chat] = button
        return True

    async def _get_chat_menu_button(self, req: _Request) -> Any:
        chat = _maybe_int(req.params.get("chat_id", ""))
        return self.menu_buttons.get(chat, self.menu_buttons.get(None, {"type": "default"}))


# --------------------------------------------------------------------------- module helpers


async def _read_params(
    request: web.Request,
) -> tuple[dict[str, str], dict[str, bytes], dict[str, str]]:
    """Decode query string + form/multipart/JSON body into (params, files, filenames)."""
    params: dict[str, str] = dict(request.query)
    files: dict[str, bytes] = {}
    filenames: dict[str, str] = {}
    if not request.can_read_body:
        return params, files, filenames
    ctype = request.content_type
    if ctype == "application/json":
        try:
            body = await request.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            for key, value in body.items():
                params[str(key)] = value if isinstance(value, str) else json.dumps(value)
        return params, files, filenames
    if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, str):
                params[key] = value
            elif isinstance(value, bytes | bytearray):
                files[key] = bytes(value)
            else:  # web.FileField
                files[key] = value.file.read()
                filenames[key] = value.filename
    return params, files, filenames


def _copy(value: JSONDict) -> JSONDict:
    return cast(JSONDict, json.loads(json.dumps(value)))


def _maybe_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1")


def _scope_key(scope: str | JSONDict) -> str:
    if isinstance(scope, str):
        scope = {"type": scope}
    return json.dumps(scope, sort_keys=True)


def _update_type(update: JSONDict) -> str:
    for key in update:
        if key != "update_id":
            return key
    return ""


def _is_send_or_edit(method: str) -> bool:
    return method.startswith(("send", "edit"))


def _is_chat_write(method: str) -> bool:
    return _is_send_or_edit(method) or method in ("deleteMessage", "answerCallbackQuery")
