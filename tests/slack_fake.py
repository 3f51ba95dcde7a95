"""A local fake of the Slack Web API on 127.0.0.1 that the real slack_sdk WebClient can talk to."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from contextlib import ExitStack
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.engine.served import served

BOT_USER_ID = "U0BOT"
TEAM_ID = "T0123ABCD"
BOT_ID = "B0123ABCD"

# Fields Slack takes as JSON even in a form body (slack_sdk sends them as JSON strings there),
# with the error Slack answers when one is not JSON.
_JSON_VALUED_FIELDS = {
    "blocks": "invalid_blocks_format",
    "attachments": "invalid_attachments",
    "metadata": "invalid_metadata_format",
}

_Reply = tuple[int, dict[str, Any], dict[str, str]]


@dataclass(frozen=True)
class SlackCall:
    """One Web API call the fake received, in the order received.

    Attributes:
        method: The API method, e.g. ``chat.postMessage``.
        body: The call's arguments, the same whichever encoding carried them: query string and
            body merged, ``token`` left out, and ``blocks``/``attachments``/``metadata`` decoded
            from JSON when a form sent them as strings. Other form values stay strings.
        token: The bearer token (or ``token`` argument) the call carried, if any.
    """

    method: str
    body: dict[str, Any]
    token: str | None


@dataclass
class _Failure:
    """An injected failure, answered to the next ``remaining`` calls of its method."""

    error: str
    status: int
    retry_after: int | None
    remaining: int


class _UnreadableError(Exception):
    """A request the fake cannot read; ``error`` is the Slack error code to answer with."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class FakeSlack:
    """The Slack Web API methods our engine uses, served over real HTTP on 127.0.0.1.

    Use as ``with FakeSlack(token="xoxb-test") as slack:`` and point a client at it with
    ``WebClient(token="xoxb-test", base_url=slack.base_url)``. Implements ``auth.test``,
    ``chat.postMessage`` (``thread_ts`` for a reply), ``chat.update``, ``chat.delete``,
    ``chat.postEphemeral`` and ``usergroups.users.list`` (groups given with
    `add_user_group`); any other method answers ``unknown_method``. Every call is recorded,
    whatever it is answered.
    """

    def __init__(
        self,
        token: str = "xoxb-test",
        *,
        known_channels: Collection[str] = frozenset({"C0123ABC"}),
    ) -> None:
        """Prepares the fake; it serves only inside its ``with`` block.

        Args:
            token: The only bearer token accepted; any other answers ``invalid_auth``.
            known_channels: Channel ids that exist; posting elsewhere answers
                ``channel_not_found``.
        """
        self._token = token
        self._known_channels = frozenset(known_channels)
        # The handlers run on uvicorn's thread while tests read from theirs.
        self._lock = threading.Lock()
        self._calls: list[SlackCall] = []
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._failures: dict[str, deque[_Failure]] = {}
        self._user_groups: dict[str, list[str]] = {}
        self._last_ts_us = 0
        self._stack: ExitStack | None = None
        self._base_url: str | None = None
        self._handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.delete": self._delete,
            "usergroups.users.list": self._user_group_members,
        }
        self._app = Starlette(
            routes=[Route("/api/{method}", self._endpoint, methods=["GET", "POST"])]
        )

    @property
    def token(self) -> str:
        """The bearer token this workspace accepts."""
        return self._token

    def __enter__(self) -> Self:
        if self._stack is not None:
            raise RuntimeError("FakeSlack is already serving")
        with ExitStack() as stack:
            root = stack.enter_context(served(self._app))
            # Only once the server is up: a failed start unwinds the stack and leaves us unstarted.
            self._stack = stack.pop_all()
        self._base_url = f"{root}/api/"
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._stack, self._base_url = self._stack, None, None
        if stack is not None:
            stack.close()

    @property
    def base_url(self) -> str:
        """The URL to give ``WebClient(base_url=...)``, ending in ``/api/``."""
        if self._base_url is None:
            raise RuntimeError("FakeSlack serves only inside its `with` block")
        return self._base_url

    def calls(self, method: str | None = None) -> list[SlackCall]:
        """The calls received so far, oldest first.

        Args:
            method: Only calls of this API method; all calls when None.
        """
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """The channel's messages as they stand now, oldest first.

        Each has ``ts``, ``text`` and ``blocks`` (and ``thread_ts`` for a reply). Ephemeral
        messages are not kept: Slack does not keep them in the channel either.
        """
        with self._lock:
            # Copies, so a test holding one sees no later update and cannot alter the fake.
            return copy.deepcopy(self._messages.get(channel, []))

    def add_user_group(self, group: str, members: Collection[str]) -> None:
        """Make user group ``group`` (an ID, S...) exist with ``members`` (user IDs)."""
        with self._lock:
            self._user_groups[group] = list(members)

    def fail_next(
        self,
        method: str,
        error: str,
        *,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Makes the next ``times`` authenticated calls of ``method`` fail.

        They answer ``{"ok": false, "error": error}`` with HTTP ``status``, plus a
        ``Retry-After`` header when ``retry_after`` is given. Failures queue up behind ones
        already injected for the method.
        """
        if times < 1:
            raise ValueError(f"times must be at least 1, not {times}")
        with self._lock:
            self._failures.setdefault(method, deque()).append(
                _Failure(error, status, retry_after, times)
            )

    def wait_for(self, method: str, count: int = 1, within: float = 10.0) -> list[SlackCall]:
        """Waits until at least ``count`` calls of ``method`` were received.

        Returns:
            All calls of ``method`` received by then.

        Raises:
            AssertionError: Fewer arrived within ``within`` seconds; names the calls seen.
        """
        deadline = time.monotonic() + within
        while True:
            found = self.calls(method)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                seen = [c.method for c in self.calls()]
                raise AssertionError(
                    f"expected {count} {method} call(s) within {within}s, "
                    f"got {len(found)}; all calls seen: {seen}"
                )
            time.sleep(0.01)

    async def _endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        error: str | None = None
        try:
            body = _arguments(request, await request.body())
        except _UnreadableError as unreadable:
            # Still recorded and authenticated (from the query string), then refused.
            body, error = dict(request.query_params), unreadable.error
        # Slack takes the token from the Authorization header or, failing that, an argument.
        argument = body.pop("token", None)
        token = _bearer(request.headers.get("authorization")) or (
            argument if isinstance(argument, str) else None
        )
        status, payload, headers = self._answer(SlackCall(method, body, token), error)
        return JSONResponse(payload, status_code=status, headers=headers)

    def _answer(self, call: SlackCall, unreadable: str | None) -> _Reply:
        # One lock over recording and answering, so the recorded order is the answered order.
        with self._lock:
            self._calls.append(call)
            # Authentication first: a bad token neither uses up an injected failure nor
            # gets past one, so tests of token handling and of failures stay independent.
            if call.token != self._token:
                return _error("invalid_auth")
            failure = self._take_failure(call.method)
            if failure is not None:
                headers = {}
                if failure.retry_after is not None:
                    headers["Retry-After"] = str(failure.retry_after)
                return _error(failure.error, status=failure.status, headers=headers)
            if unreadable is not None:
                return _error(unreadable)
            handler = self._handlers.get(call.method)
            if handler is None:
                return _error("unknown_method")
            return 200, handler(call.body), {}

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining == 0:
            queue.popleft()
        return failure

    def _next_ts(self) -> str:
        # Microseconds since the epoch, bumped when the clock has not moved, so every ts is
        # unique and later messages sort later, as Slack's do.
        now_us = max(time.time_ns() // 1000, self._last_ts_us + 1)
        self._last_ts_us = now_us
        return f"{now_us // 1_000_000}.{now_us % 1_000_000:06d}"

    # The handlers run under self._lock, from _answer.

    def _auth_test(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "user_id": BOT_USER_ID, "team_id": TEAM_ID, "bot_id": BOT_ID}

    def _post_message(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = body.get("channel")
        if channel not in self._known_channels:
            return {"ok": False, "error": "channel_not_found"}
        if not (body.get("text") or body.get("blocks") or body.get("attachments")):
            return {"ok": False, "error": "no_text"}
        ts = self._next_ts()
        stored: dict[str, Any] = {
            "ts": ts,
            "text": body.get("text", ""),
            "blocks": copy.deepcopy(body.get("blocks", [])),
        }
        if body.get("thread_ts"):
            stored["thread_ts"] = body["thread_ts"]
        self._messages.setdefault(channel, []).append(stored)
        return {"ok": True, "channel": channel, "ts": ts, "message": _as_posted(stored)}

    def _update(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = body.get("channel")
        if channel not in self._known_channels:
            return {"ok": False, "error": "channel_not_found"}
        ts = body.get("ts")
        stored = next((m for m in self._messages.get(channel, []) if m["ts"] == ts), None)
        if stored is None:
            return {"ok": False, "error": "message_not_found"}
        # A field left out keeps its old value, so an update of the text alone keeps the
        # blocks; an empty blocks list removes them.
        for field in ("text", "blocks"):
            if field in body:
                stored[field] = copy.deepcopy(body[field])
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": stored["text"],
            "message": _as_posted(stored),
        }

    def _delete(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = body.get("channel")
        if channel not in self._known_channels:
            return {"ok": False, "error": "channel_not_found"}
        kept = [m for m in self._messages.get(channel, []) if m["ts"] != body.get("ts")]
        if len(kept) == len(self._messages.get(channel, [])):
            return {"ok": False, "error": "message_not_found"}
        self._messages[channel] = kept
        return {"ok": True, "channel": channel, "ts": body["ts"]}

    def _user_group_members(self, body: dict[str, Any]) -> dict[str, Any]:
        members = self._user_groups.get(str(body.get("usergroup")))
        if members is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(members)}

    def _post_ephemeral(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("channel") not in self._known_channels:
            return {"ok": False, "error": "channel_not_found"}
        if not body.get("user"):
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "message_ts": self._next_ts()}


def _error(error: str, *, status: int = 200, headers: dict[str, str] | None = None) -> _Reply:
    return status, {"ok": False, "error": error}, headers or {}


def _as_posted(stored: dict[str, Any]) -> dict[str, Any]:
    """The ``message`` object Slack echoes back: the stored message as the bot's."""
    return {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "team": TEAM_ID, **stored}


def _bearer(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _arguments(request: Request, raw: bytes) -> dict[str, Any]:
    """The call's arguments from its query string and body, whichever encoding it used.

    slack_sdk sends JSON for the chat methods, a urlencoded form for ``params=`` calls (such
    as auth.test) and multipart for ``data=`` calls, so all three are read.
    """
    arguments: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "").lower()
    if not raw.strip():
        pass
    elif content_type.startswith("application/json"):
        try:
            parsed = json.loads(raw)
        except ValueError:  # UnicodeDecodeError included
            raise _UnreadableError("invalid_json") from None
        if not isinstance(parsed, dict):
            raise _UnreadableError("json_not_object")
        arguments.update(parsed)
    elif content_type.startswith("application/x-www-form-urlencoded"):
        try:
            arguments.update(parse_qsl(raw.decode(), keep_blank_values=True, strict_parsing=True))
        except ValueError:  # UnicodeDecodeError included
            raise _UnreadableError("invalid_form_data") from None
    elif content_type.startswith("multipart/form-data"):
        arguments.update(_multipart(content_type, raw))
    else:
        raise _UnreadableError("invalid_form_data")
    for field, error in _JSON_VALUED_FIELDS.items():
        value = arguments.get(field)
        if isinstance(value, str):
            try:
                arguments[field] = json.loads(value)
            except ValueError:
                raise _UnreadableError(error) from None
    return arguments


def _multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    # The stdlib MIME parser, because Starlette's form parsing needs python-multipart, which
    # is not installed. File parts keep their bytes; other parts become text.
    header = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(header + raw)
    if not message.is_multipart():
        raise _UnreadableError("invalid_form_data")
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        assert isinstance(part, EmailMessage)
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise _UnreadableError("invalid_form_data")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        fields[name] = data if part.get_filename() else data.decode(errors="replace")
    return fields
