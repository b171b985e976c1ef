"""Request recording: every request an emulator receives (faulted or not), with its status."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from erpsync.emulation.base import Emulator

# -- recording ----------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """One request an emulator received, and the status it was answered with."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""
    #: the response status (None: no response started, e.g. a dropped connection)
    status: int | None = None

    @property
    def params(self) -> dict[str, str]:
        """Query parameters, one value each (the last, as Starlette's ``query_params[...]``)."""
        return {name: values[-1] for name, values in self.query.items() if values}

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        """A form-encoded body, one value per field."""
        return {k: v[-1] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


class _Recorder:
    """Pure ASGI: buffers the request body, records the request, replays the body to the app."""

    def __init__(self, app: ASGIApp, emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        recorded = RecordedRequest(scope["method"], scope["path"], query, headers, bytes(body))
        self.emulator._record(recorded)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                recorded.status = message["status"]
            await send(message)

        await self.app(scope, replay, send_and_note)
