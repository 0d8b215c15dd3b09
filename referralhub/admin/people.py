"""People, read-only: created by `referralhub.people.people_sync`, merged on the dashboard."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from referralhub.admin.base import ReadOnlyAdmin, datetime_column
from referralhub.models import Person


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ("key", "mixes_scripts", "merged_into", "created_at", "dashboard_link")
    list_select_related = ("merged_into",)
    list_filter = ("mixes_scripts",)
    search_fields = ("key",)
    ordering = ("key",)
    readonly_fields = ("dashboard_link",)
    fields = ("key", "skeleton", "mixes_scripts", "merged_into", "created", "dashboard_link")

    created_at = datetime_column("created", "created")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the next sync would create the person again, without its merges

    @admin.display(description="dashboard")
    def dashboard_link(self, obj: Person) -> str:
        url = reverse("dashboard:person", args=[obj.merged_into_id or obj.pk])
        return format_html('<a href="{}">Their page, every provider →</a>', url)
