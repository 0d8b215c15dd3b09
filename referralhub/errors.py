"""One JSON error shape for every machine-facing response: `{"error": "<code>", "detail": ...}`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def error_response(code: str, detail: Any, status_code: int, **headers: str) -> Response:
    response = Response({"error": code, "detail": detail}, status=status_code)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


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
    if isinstance(exc, exceptions.ValidationError):
        code, detail = "invalid", exc.detail
    else:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        detail = exc.detail
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        code = "not_authenticated" if isinstance(exc, exceptions.NotAuthenticated) else code
    response.data = {"error": code, "detail": detail}
    return response
