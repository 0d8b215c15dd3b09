"""One JSON error shape for every machine-facing response: `{"error": "<code>", "detail": ...}`,
and the rules for input no handler should see (NUL characters) or log (paths with a token)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import (
    DisallowedHost,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.template import loader
from django.urls import Resolver404, URLPattern, re_path, resolve
from django.utils.deprecation import MiddlewareMixin
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


def error_response(code: str, detail: Any, status_code: int, **headers: str) -> Response:
    response = Response({"error": code, "detail": detail}, status=status_code)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def json_error(code: str, detail: Any, status_code: int) -> JsonResponse:
    """The same shape outside DRF's views: URL catch-alls and Django's error handlers."""
    return JsonResponse({"error": code, "detail": detail}, status=status_code)


# URL namespaces whose clients are programs: an error there is JSON, never an HTML page.
MACHINE_NAMESPACES = frozenset({"api", "webhooks"})


def nul_params(query: QueryDict) -> list[str]:
    """The parameters whose name or a value holds a NUL, which PostgreSQL text cannot hold
    (psycopg refuses to send such a query): refuse them before any query is built."""
    return [name for name, values in query.lists() if "\x00" in "".join([name, *values])]


def keep_path_out_of_log(response: HttpResponse) -> None:
    """Django's request log prints the path of every 4xx/5xx: not for a path that holds a
    webhook endpoint's token. The caller logs what it needs without the path."""
    response._has_been_logged = True  # type: ignore[attr-defined]


def for_machines(request: HttpRequest) -> bool:
    # An error raised before the URL was resolved (a middleware refusing the Host header, say)
    # still belongs to the namespace its path would resolve to.
    match = request.resolver_match
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
    return bool(MACHINE_NAMESPACES.intersection(match.namespaces))


def catch_all(detail: str, *, secret_path: bool = False) -> URLPattern:
    """The last route of a machine namespace: any other path there, any method, is a JSON 404.

    `secret_path`: the path may hold a credential (a webhook token), so Django's request log must
    not print it."""

    @csrf_exempt  # a POST to a wrong URL is a 404, whatever its cookies
    def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
        # Every path here resolves (to this view), so Django's APPEND_SLASH never redirects:
        # say what the client probably meant instead.
        slashed = f"{request.path_info}/"
        text = f"{detail} Did you mean {slashed} (with the slash)?" if _real(slashed) else detail
        response = json_error("not_found", text, 404)
        if secret_path:
            keep_path_out_of_log(response)
            namespace = request.resolver_match.namespace if request.resolver_match else ""
            logger.warning("Not Found: a %s path, not logged as it may hold a token", namespace)
        return response

    def _real(path: str) -> bool:
        """Whether `path` is one of the namespace's own URLs, not this catch-all."""
        if path.endswith("//"):
            return False
        try:
            return resolve(path).func is not not_found
        except Resolver404:
            return False

    return re_path(r"^(?P<path>[\s\S]*)$", not_found)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """`handler400`: Django's answer to a request it refuses before any view (a Host header not
    in `ALLOWED_HOSTS`, too many fields…), as JSON for programs, the styled page for people."""
    if not for_machines(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, DisallowedHost):
        # What a provider's delivery log should show when ALLOWED_HOSTS lacks the hub's name.
        return json_error("bad_host", "This server does not serve the host in the request.", 400)
    return json_error("bad_request", "The request was refused before it was read.", 400)


def server_error(request: HttpRequest) -> HttpResponse:
    """`handler500`: JSON for the API and the webhook receivers, the styled page for people."""
    if for_machines(request):
        return json_error("server_error", "The server failed to handle this request.", 500)
    return defaults.server_error(request)


# How long a client should wait before retrying while the database is unreachable.
RETRY_AFTER_SECONDS = "30"


class DatabaseUnavailableMiddleware(MiddlewareMixin):
    """A view that cannot reach the database answers 503 with `Retry-After`, not a 500: JSON
    for programs (providers redeliver what was not acknowledged, the API's clients retry), a page
    for people saying to try again shortly."""

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        view = request.resolver_match.view_name if request.resolver_match else ""
        logger.error(
            "Database unavailable: %s %s answered 503 (%s)", request.method, view, exception
        )
        if for_machines(request):
            detail = "The database is unavailable; retry later."
            response: HttpResponse = json_error("service_unavailable", detail, 503)
        else:
            # Rendered without the request: its user and session live in the database too.
            page = loader.get_template("503.html").render()
            response = HttpResponse(page, status=503)
        response["Retry-After"] = RETRY_AFTER_SECONDS
        # Django's request log would print the path, which may hold a webhook token.
        keep_path_out_of_log(response)
        return response


class MethodNotAllowedPageMiddleware(MiddlewareMixin):
    """A person who opens an address that only takes a form (logging out, a reward action) gets
    a page saying so. Django answers 405 with an empty body, which browsers show as their own
    error page. Programs keep their JSON 405."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if response.status_code != 405 or response.streaming or response.content:
            return response
        if for_machines(request):
            return response
        page = render(request, "405.html", status=405)
        if allow := response.get("Allow"):
            page["Allow"] = allow
        return page


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "payload_too_large"
    default_detail = "The request body is too large."


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        # e.g. more query parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS: the client's fault, and
        # Django would otherwise answer with an HTML page.
        exc = exceptions.ParseError(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    code: Any
    detail: Any
    if isinstance(exc, exceptions.ValidationError):
        code, detail = "invalid", exc.detail
    else:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        detail = exc.detail
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        code = "not_authenticated" if isinstance(exc, exceptions.NotAuthenticated) else code
    response.data = {"error": code, "detail": detail}
    return response
