"""Logging in and out, and resetting a forgotten password by email where the hub can send mail.

Django's `auth.urls` would also serve its password reset pages without mail set up: the mail fails,
is logged, and the page still says "We've emailed you instructions". Here those pages exist only
with `EMAIL_URL` set; without it the login page says who can set a new password.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path


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


def needs_mail(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A reset page, answered only where the hub can send mail."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not reset_by_email():
            raise Http404("Password reset by email is not set up.")
        return view(request, *args, **kwargs)

    return wrapped


urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    *(
        path(route, needs_mail(view.as_view()), name=name)
        for route, view, name in (
            ("password_reset/", auth.PasswordResetView, "password_reset"),
            ("password_reset/done/", auth.PasswordResetDoneView, "password_reset_done"),
            ("reset/<uidb64>/<token>/", auth.PasswordResetConfirmView, "password_reset_confirm"),
            ("reset/done/", auth.PasswordResetCompleteView, "password_reset_complete"),
        )
    ),
]
