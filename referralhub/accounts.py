"""Logging in and out, and resetting a forgotten password by email where the hub can send mail.

Django's `auth.urls` would also serve its password reset pages without mail set up: the mail fails,
is logged, and the page still says "We've emailed you instructions". Here those pages exist only
with `EMAIL_URL` set; without it the login page says who can set a new password.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

logger = logging.getLogger(__name__)


def reset_by_email() -> bool:
    return bool(settings.EMAIL_URL)


class LoginView(auth.LoginView):
    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(reset_by_email=reset_by_email(), **kwargs)


class LogoutView(auth.LogoutView):
    """Logging out is a POST (a link must not log anyone out); opening the address asks first."""

    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect(settings.LOGIN_URL)
        return render(request, "registration/logout_confirm.html")


# Django mails a reset link each time the form is sent, so anyone who knows a staff address could
# fill its inbox. At most this many mails per address and hour; past that the page answers the
# same (it never tells whether an address is known) and no mail leaves.
RESET_MAILS_PER_HOUR = 3
RESET_WINDOW = timedelta(hours=1)


def reset_mail_allowed(address: str) -> bool:
    """Count one more reset mail to `address`; False once the hour's allowance is spent.

    Counted in the database cache, which every app server shares, as (start of the hour, mails
    sent). Not with `cache.incr()`: on the database cache it resets the entry's expiry to the
    default five minutes. Two servers counting at the same instant may let one extra mail through.
    """
    key = "password-reset-mails:" + hashlib.sha256(address.lower().encode()).hexdigest()
    now = timezone.now()
    start, sent = cache.get(key, (now, 0))
    if now - start >= RESET_WINDOW:
        start, sent = now, 0
    if sent >= RESET_MAILS_PER_HOUR:
        return False
    left = start + RESET_WINDOW - now
    cache.set(key, (start, sent + 1), timeout=max(1, int(left.total_seconds())))
    return True


class PasswordResetForm(auth_forms.PasswordResetForm):
    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        if not reset_mail_allowed(to_email):
            logger.warning("Reset mail not sent: %d this hour already", RESET_MAILS_PER_HOUR)
            return
        super().send_mail(
            subject_template_name,
            email_template_name,
            context,
            from_email,
            to_email,
            html_email_template_name,
        )


def needs_mail(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A reset page, answered only where the hub can send mail."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not reset_by_email():
            raise Http404("Password reset by email is not set up.")
        return view(request, *args, **kwargs)

    return wrapped


urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    *(
        path(route, needs_mail(view), name=name)
        for route, view, name in (
            (
                "password_reset/",
                auth.PasswordResetView.as_view(form_class=PasswordResetForm),
                "password_reset",
            ),
            ("password_reset/done/", auth.PasswordResetDoneView.as_view(), "password_reset_done"),
            (
                "reset/<uidb64>/<token>/",
                auth.PasswordResetConfirmView.as_view(),
                "password_reset_confirm",
            ),
            ("reset/done/", auth.PasswordResetCompleteView.as_view(), "password_reset_complete"),
        )
    ),
]
