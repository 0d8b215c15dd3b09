"""API tokens in the admin: listed by user and revoked here, never shown.

DRF registers its own token admin, which lists every key in clear. Here a token is only named by
its user and the first characters of its key; a new one is made with
`manage.py drf_create_token <username>`, which prints it once to whoever runs the server.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from referralhub.admin.base import FilterValuesMixin
from referralhub.models import ApiToken

admin.site.unregister(TokenProxy)


@admin.register(ApiToken)
class ApiTokenAdmin(FilterValuesMixin, TokenAdmin):
    list_display = ("user", "key_hint", "created")
    list_select_related = ("user",)
    search_help_text = "Username. New tokens: manage.py drf_create_token <username>."

    @admin.display(description="key")
    def key_hint(self, token: ApiToken) -> str:
        return token.hint

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Adding one here would hand its key to the admin's messages and pages.
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
