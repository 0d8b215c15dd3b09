"""Logging in and out, and resetting a forgotten password by email where the hub can send mail.

Guessing a password (settings, "Guessing a staff password"): django-axes locks a username for one
client address after a few wrong passwords; past a higher ceiling of failures for the username from
all addresses, each further try waits a cool-off that doubles (`username_wait`), so that nobody can
lock another person out and a guesser with many addresses still gets few tries. Setting a new
password (the reset link, the admin) lifts both.

Django's `auth.urls` would also serve its password reset pages without mail set up: the mail fails,
is logged, and the page still says "We've emailed you instructions". Here those pages exist only
with `EMAIL_URL` set; without it the login page says who can set a new password.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Max, Sum
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


def client_address(request: HttpRequest) -> str | None:
    """The client's address (AXES_CLIENT_IP_CALLABLE): the peer's, or, when the peer is one of
    TRUSTED_PROXIES, the last address in X-Forwarded-For that is not a trusted proxy. Anyone can
    send the header, so it counts only as far as it came through proxies the hub trusts."""
    chain = [request.META.get("REMOTE_ADDR", "")]
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    chain[:0] = [part.strip() for part in forwarded.split(",") if part.strip()]
    for address in reversed(chain):
        if not _trusted_proxy(address):
            return address if _is_address(address) else None
    return chain[0] if _is_address(chain[0]) else None


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXY_NETWORKS)


def username_wait(username: str) -> timedelta | None:
    """How long `username` must wait before its password is checked again, or None.

    Past LOGIN_USERNAME_CEILING failures for it within the cool-off (from every address together,
    as django-axes counted them), each further failure doubles the wait after the last one, from
    LOGIN_USERNAME_WAIT up to LOGIN_USERNAME_MAX_WAIT: a slowdown that lifts by itself, never a
    lock someone else can hold."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    tally = AccessAttempt.objects.filter(username=username, attempt_time__gte=since).aggregate(
        failures=Sum("failures_since_start"), last=Max("attempt_time")
    )
    excess = (tally["failures"] or 0) - settings.LOGIN_USERNAME_CEILING
    if excess < 0:
        return None
    wait = min(
        settings.LOGIN_USERNAME_WAIT * 2 ** min(excess, 30), settings.LOGIN_USERNAME_MAX_WAIT
    )
    left = tally["last"] + wait - timezone.now()
    return left if left > timedelta(0) else None


class UsernameSlowdownBackend:
    """Refuses to check a password while its username waits (`username_wait`). First among the
    backends; the refusal is not counted as a failure (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT
    is off), so waiting attempts do not make the wait longer."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, **kwargs: Any
    ) -> None:
        if request is None or not username:
            return None
        if (wait := username_wait(username)) is not None:
            request.axes_locked_out = True  # type: ignore[attr-defined]
            request.login_wait = wait  # type: ignore[attr-defined]
            raise PermissionDenied("This username is waiting after too many wrong passwords.")
        return None


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the page for either refusal, saying which and for how long."""
    wait = getattr(request, "login_wait", None)
    context = {
        "username": (credentials or {}).get("username") or request.POST.get("username", ""),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_timedelta": settings.AXES_COOLOFF_TIME,
        "wait_seconds": max(1, round(wait.total_seconds())) if wait is not None else None,
    }
    return render(request, "registration/locked_out.html", context, status=429)


def unlock(user: AbstractBaseUser) -> None:
    """Lift every lock and slowdown on `user`'s username: its password was just set anew."""
    axes_reset(username=user.get_username())


class PasswordResetConfirmView(auth.PasswordResetConfirmView):
    def form_valid(self, form: auth_forms.SetPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        unlock(form.user)
        return response


class AdminPasswordChangeForm(auth_forms.AdminPasswordChangeForm):
    """The admin's "set a password" form for another user: the new password lifts the lock."""

    def save(self, commit: bool = True) -> AbstractBaseUser:
        user = super().save(commit)
        if commit:
            unlock(user)
        return user


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
                PasswordResetConfirmView.as_view(),
                "password_reset_confirm",
            ),
            ("reset/done/", auth.PasswordResetCompleteView.as_view(), "password_reset_complete"),
        )
    ),
]
