"""Who may see the dashboard: active staff only. Actions check their own permission in services."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

View = Callable[..., HttpResponseBase]


# Replaying a delivery changes the inbox, so it needs the inbox's change permission (the admin's
# replay action asks for the same one).
def staff_required(view: View) -> View:
    """Anonymous people go to the login page; a logged-in user who is not active staff gets 403.

    Not `staff_member_required`: that one sends non-staff users to the admin login, which loops
    for someone already logged in.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (user.is_active and user.is_staff):
            return forbidden(request, "The dashboard is for staff members only.")
        return view(request, *args, **kwargs)

    return wrapper


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "dashboard/forbidden.html", {"message": message}, status=403)
