"""The webhook URL: thin HTTP handling around `webhooks.inbox.receive`."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import BinaryIO

from django.conf import settings
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from referralhub.errors import error_response, keep_path_out_of_log
from webhooks import inbox
from webhooks.models import WebhookEndpoint
from webhooks.providers import PROVIDERS, checks
from webhooks.providers.base import Incoming

logger = logging.getLogger(__name__)
READ_SIZE = 64 * 1024


class AlwaysJSON(BaseContentNegotiation):
    """Providers get JSON whatever their `Accept` says. DRF's negotiation would answer 406 to an
    `Accept` it cannot serve, before the delivery is stored, and HTML to a browser's."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> None:
        return None  # the view reads the raw body itself

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class WebhookView(APIView):
    """`/webhooks/<provider>/<token>/`: no session, no CSRF, no parsing before verification."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    parser_classes: list = []
    renderer_classes = [JSONRenderer]
    content_negotiation_class = AlwaysJSON
    schema = None  # not part of the public API schema

    @property
    def default_response_headers(self) -> dict[str, str]:
        # DRF puts these on every response, 405s included: Allow names the provider's methods.
        headers = super().default_response_headers
        if module := PROVIDERS.get(self.kwargs.get("provider", "")):
            headers["Allow"] = ", ".join(sorted(module.METHODS))
        return headers

    def get(self, request: Request, provider: str, token: str) -> Response:
        return self.receive(request, provider, token)

    post = put = get

    def receive(self, request: Request, provider: str, token: str) -> Response:
        # An unreachable database raises through here: DatabaseUnavailableMiddleware answers 503
        # with Retry-After, so nothing unstored is acknowledged and the provider redelivers.
        response = self._receive(request, provider, token)
        if response.status_code >= 400:
            keep_path_out_of_log(response)  # the path holds the endpoint's token
            logger.warning(
                "Webhook %s %s answered %s (%s)",
                provider,
                request.method,
                response.status_code,
                (response.data or {}).get("error", ""),
            )
        return response

    def _receive(self, request: Request, provider: str, token: str) -> Response:
        module = PROVIDERS.get(provider)
        endpoint = WebhookEndpoint.objects.receiving(provider, token) if module else None
        if module is None or endpoint is None:
            return error_response("not_found", "No such webhook endpoint.", 404)
        if request.method not in module.METHODS:
            response = error_response(
                "method_not_allowed",
                f"{provider} deliveries use {', '.join(sorted(module.METHODS))}.",
                405,
            )
            return response
        body = self._read_body(request)
        if body is None:
            limit = settings.WEBHOOK_MAX_BODY_BYTES
            return error_response("payload_too_large", f"The body exceeds {limit} bytes.", 413)
        django_request = request._request
        incoming = Incoming(
            method=request.method,
            headers=django_request.headers,  # case-insensitive, as HTTP header names are
            query_string=django_request.META.get("QUERY_STRING", ""),
            body=body,
            content_type=django_request.content_type or "",
        )
        if refused := checks.refusal(endpoint, incoming, module.SIGNATURE_HEADER):
            # Many clients send Basic credentials only once a 401's challenge asks for them.
            challenge = {"WWW_Authenticate": refused.challenge} if refused.challenge else {}
            return error_response(refused.error, refused.detail, 401, **challenge)
        answer = inbox.receive(endpoint, incoming)
        return Response(answer.body, status=answer.status_code)

    @staticmethod
    def _read_body(request: Request) -> bytes | None:
        """The raw body, or None when it is over the limit (read no further than the limit)."""
        limit = settings.WEBHOOK_MAX_BODY_BYTES
        meta = request._request.META
        if not meta.get("CONTENT_LENGTH") and meta.get("wsgi.input_terminated"):
            # A chunked body has no Content-Length, and Django reads no body without one. The
            # server removed the chunking and ends wsgi.input where the body ends (gunicorn
            # and mod_wsgi say so with wsgi.input_terminated, the flag Werkzeug relies on too),
            # so the stream itself is read, with the same bound. A server without the flag
            # (runserver) would block on the socket, so it keeps Django's reading.
            return read_at_most(meta["wsgi.input"], limit)
        try:
            declared = int(meta.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            return None
        body = request._request.read(limit + 1)
        return None if len(body) > limit else body


def read_at_most(stream: BinaryIO, limit: int) -> bytes | None:
    """What `stream` holds, or None if it holds over `limit` bytes (reading at most one more)."""
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        part = stream.read(min(READ_SIZE, limit + 1 - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return None if size > limit else b"".join(parts)
