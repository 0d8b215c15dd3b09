"""Request ids for the log: one per request, taken from a sane incoming `X-Request-ID` (a proxy's
or load balancer's, so that both logs share it) or generated, and returned in the response.

The middleware keeps it in a context variable, which `RequestIdFilter` copies onto every log record
written while the request runs: with `LOG_FORMAT=json` each line carries it as `request_id`.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
NO_REQUEST = "-"
# Letters, digits and a little punctuation, as proxies generate (UUIDs, hex, base64url): anything
# else could forge log lines or carry far too much.
SANE_ID = re.compile(r"[A-Za-z0-9._:+/=-]{8,128}")

request_id: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)


def incoming_or_new(value: str | None) -> str:
    if value and SANE_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Not reset on the way out: Django logs the response's status ("Not Found: ...") after
        # the middleware returns. `request_finished` clears it once the response is closed.
        request_id.set(incoming_or_new(request.headers.get(HEADER)))
        response = self.get_response(request)
        response[HEADER] = request_id.get()
        return response


@receiver(request_finished, dispatch_uid="referralhub.logs.forget_request_id")
def forget_request_id(**kwargs: object) -> None:
    request_id.set(NO_REQUEST)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (`-` outside a request, e.g. in the task worker)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True
