"""API tokens a staff member makes and revokes for themselves, from the dashboard.

A user has at most one token (DRF's `Token` is one per user). Its key is returned once, by
`api_token_create`, for the page that shows it; afterwards only its first characters are ever
shown (`ApiToken.hint`). The audit trail records each change against the user, never the key.
"""

from __future__ import annotations

from typing import TypeGuard

from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from rest_framework.authtoken.models import Token

from referralhub.models import ApiToken
from referralhub.services import audit

# Who may make a token for themselves: the proxy model's "Can add API token".
CREATE_PERMISSION = "referralhub.add_apitoken"


class TokenExists(Exception):
    """The user has a token already: revoke or replace it."""


def api_token_of(user: User) -> ApiToken | None:
    return ApiToken.objects.filter(user=user).first()


def can_create_token(user: User | AnonymousUser) -> TypeGuard[User]:
    return bool(user.is_active and user.is_staff and user.has_perm(CREATE_PERMISSION))


@transaction.atomic
def api_token_create(*, user: User, replace: bool = False) -> str:
    """A new token for `user`, whose key is returned to be shown once. With `replace`, the
    user's current token stops working in the same transaction; without, TokenExists."""
    if not can_create_token(user):
        raise PermissionError(f"Creating an API token needs the {CREATE_PERMISSION} permission.")
    replaced = _delete_token(user) if replace else None
    try:
        with transaction.atomic():  # a concurrent create for the same user: the one-to-one key
            token = Token.objects.create(user=user)
    except IntegrityError:
        raise TokenExists from None
    note = f"key {ApiToken(key=token.key).hint}"
    if replaced:
        note += f", replacing key {replaced}"
    audit(actor=user, action="create API token", obj=user, note=note)
    return token.key


@transaction.atomic
def api_token_revoke(*, user: User) -> bool:
    """Revoke the user's token; False when there was none. Needs no permission: it only takes
    the user's own access away."""
    hint = _delete_token(user)
    if hint:
        audit(actor=user, action="revoke API token", obj=user, note=f"key {hint}")
    return hint is not None


def _delete_token(user: User) -> str | None:
    """Delete the user's token, returning its hint."""
    token = ApiToken.objects.select_for_update().filter(user=user).first()
    if token is None:
        return None
    Token.objects.filter(key=token.key).delete()
    return token.hint
