"""A real HTTP receiver on 127.0.0.1 that verifies signatures with the standardwebhooks library,
and subscriptions pointing at it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.contrib.auth.models import User
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from referralhub.events.subscriptions import subscription_create
from referralhub.models import EventSubscription
from tests.conftest import make_staff


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    client_port: int = 0  # which connection it came on

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)

    def verifies_with(self, secret: str) -> bool:
        try:
            Webhook(secret).verify(self.body, self.headers)
        except WebhookVerificationError:
            return False
        return True


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    # What to answer, in turn: (status, headers, body); then 204.
    answers: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    # Set, the first request is held until it is set free (a sender killed mid-send).
    stall: threading.Event | None = None

    def answer(self, status: int, body: bytes = b"", **headers: str) -> None:
        self.answers.append((status, headers, body))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keeps the connection open, as most receivers do

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            state.received.append(
                Received(dict(self.headers.items()), body, self.client_address[1])
            )
            if state.stall is not None and len(state.received) == 1:
                state.stall.wait(30)
            status, headers, answer = state.answers.pop(0) if state.answers else (204, {}, b"")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/events"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def carol(db) -> User:
    """Staff who manage event subscriptions."""
    return make_staff(
        "carol", "referralhub.manage_eventsubscription", "referralhub.view_eventsubscription"
    )


@pytest.fixture
def subscribe(carol, receiver) -> Callable[..., tuple[EventSubscription, str]]:
    def make(events: list[str] | None = None, url: str | None = None) -> tuple[Any, str]:
        return subscription_create(actor=carol, url=url or receiver.url, events=events or [])

    return make
