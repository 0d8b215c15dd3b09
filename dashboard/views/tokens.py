"""A staff member's own API token: made (its key shown once, in the answer to that POST and
nowhere else), replaced and revoked here. Every other token is the admin's to revoke."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.access import forbidden, staff_required
from referralhub import tokens


def _staff(request: HttpRequest) -> User:
    """The user `staff_required` let in."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def _page(request: HttpRequest, key: str = "", status: int = 200) -> HttpResponse:
    context = {
        "token": tokens.api_token_of(_staff(request)),
        "key": key,
        "can_create": tokens.can_create_token(request.user),
        "permission": tokens.CREATE_PERMISSION,
    }
    return render(request, "dashboard/api_token.html", context, status=status)


@never_cache  # the answer to a POST holds a key: no cache may keep it
@require_http_methods(["GET", "POST"])
@staff_required
def api_token(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request)
    user = request.user
    if not tokens.can_create_token(user):
        return forbidden(request, "You may not create API tokens: ask an administrator.")
    try:
        key = tokens.api_token_create(user=user, replace="replace" in request.POST)
    except tokens.TokenExists:
        messages.error(request, "You have a token already: replace it or revoke it.")
        return redirect("dashboard:api_token")
    return _page(request, key=key)


@require_POST
@staff_required
def api_token_revoke(request: HttpRequest) -> HttpResponse:
    if tokens.api_token_revoke(user=_staff(request)):
        messages.success(request, "Your API token is revoked: requests that use it are refused.")
    else:
        messages.info(request, "You had no API token.")
    return redirect("dashboard:api_token")
