"""Who may call what. Reading needs the model's `view` permission; acting needs the service's own
check (`can_act`), asked here too so that a caller without the right is refused (403) before their
body is validated (400)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from referralhub.services import PERMISSIONS, can_act
from webhooks.replays import can_replay

# Replaying changes the inbox, so it needs the inbox's change permission: the same one the
# dashboard and the admin's replay action ask for.


def _view_permission(view: Any) -> str:
    meta = view.get_queryset().model._meta
    return f"{meta.app_label}.view_{meta.model_name}"


class CanView(BasePermission):
    """Safe methods need the model's view permission. Other methods pass here: a read-only
    endpoint then answers 405, and every action declares its own permission."""

    message = "You do not have permission to view these records."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request.method not in SAFE_METHODS:
            return True
        return user.has_perm(_view_permission(view))


class StaffCanView(CanView):
    """The webhook inbox holds raw provider bodies: staff only."""

    message = "Only staff with the view permission may read the webhook inbox."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_staff) and super().has_permission(
            request, view
        )


class CanActOnRewards(BasePermission):
    """Single actions know their action from the route; `bulk` needs at least one of the rights
    (the service then refuses the requested action if it is not one of them)."""

    message = "You do not have permission to act on rewards."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        action = getattr(view, "action", None)
        actions = [action] if action in PERMISSIONS else ["approve", "fulfil"]
        return any(can_act(user, a) for a in actions)


class CanReplay(BasePermission):
    message = "You do not have permission to replay webhook deliveries."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and can_replay(request.user))
