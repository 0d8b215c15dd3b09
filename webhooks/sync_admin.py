"""Admin for the two-way sync with FirstPromoter: decisions told to its API (`CommissionPush`) and
imports of an account's history (`ImportRun`). Read-only: the sender and the importer write them;
the dashboard's sync page retries and starts them."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from referralhub.admin.base import ReadOnlyAdmin, datetime_column, link_column
from referralhub.admin.lookups import refuse_nul
from referralhub.models import Provider, Reward
from webhooks.models import CommissionPush, ImportRun


@admin.register(CommissionPush)
class CommissionPushAdmin(ReadOnlyAdmin):
    list_display = ("id", "action", "state", "attempts", "updated_at", "reward_link", "endpoint")
    list_select_related = ("reward", "endpoint")
    list_filter = ("state", "action", "endpoint")
    link_filters = ("reward",)
    search_fields = ("reward__external_id",)
    search_help_text = "The commission's id on FirstPromoter, exactly."
    ordering = ("-updated", "-id")

    updated_at = datetime_column("updated")
    reward_link = link_column("reward", "reward__external_id")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """By the reward's FirstPromoter id through its unique index, where Django's search
        would compare every reward's id case-insensitively."""
        refuse_nul(search_term)
        term = search_term.strip()
        if not term:
            return queryset, False
        rewards = Reward.objects.filter(provider=Provider.FIRSTPROMOTER, external_id=term)
        return queryset.filter(reward__in=rewards), False


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "state", "resource", "page", "total", "created_at", "endpoint")
    list_select_related = ("endpoint",)
    list_filter = ("state", "endpoint")
    # A few rows per account: a substring of the endpoint's name is search enough.
    search_fields = ("endpoint__name",)
    search_help_text = "Part of the endpoint's name."
    ordering = ("-created", "-id")

    created_at = datetime_column("created")

    @admin.display(description="objects imported")
    def total(self, obj: ImportRun) -> int:
        return obj.total
