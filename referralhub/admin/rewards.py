"""Rewards and the audit trail: the admin's staff actions, all through referralhub.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from referralhub.admin.base import (
    EMPTY,
    ExactSearchMixin,
    MirroredAdmin,
    ReadOnlyAdmin,
    UnitFilter,
    audit_history,
    changes_text,
    choices_filter,
    datetime_column,
    link_column,
)
from referralhub.admin.referrals import (
    leads_by_email,
    promoters_by_email_or_code,
    suspicion_badge,
)
from referralhub.models import (
    SELF_REFERRAL_SUSPICIONS,
    AuditEntry,
    BulkApproval,
    Conversion,
    Reward,
)
from referralhub.services import (
    MAX_BULK,
    Action,
    RewardNotFound,
    TransitionNotAllowed,
    can_act,
    done_message,
    refusal_reason,
    rewards_act,
)

BUTTONS: dict[Action, str] = {
    "approve": "Approve",
    "deny": "Deny…",
    "fulfil": "Mark fulfilled…",
    "reopen": "Reopen…",
}
ASK = {
    "deny": ("Deny rewards", "Reason (required, kept in the audit trail)", True),
    "reopen": (
        "Reopen decisions (pending again)",
        "Reason (required, kept in the audit trail)",
        True,
    ),
    "fulfil": ("Mark rewards fulfilled", "Note (optional, e.g. how it was delivered)", False),
}


class ActionTextForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=2000)

    def __init__(self, *args: Any, label: str, required: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["text"].label = label
        self.fields["text"].required = required


class SelfReferralFilter(admin.SimpleListFilter):
    title = "self-referral suspect"
    parameter_name = "self_referral"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> Any:
        return (("yes", "Suspected"), ("no", "Not suspected"))

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(lead__suspicion__in=SELF_REFERRAL_SUSPICIONS)
        if self.value() == "no":
            return queryset.exclude(lead__suspicion__in=SELF_REFERRAL_SUSPICIONS)
        return queryset


def conversions_by_order_id(values: list[str]) -> QuerySet:
    return Conversion.objects.filter(order_id__in=values)


@admin.register(Reward)
class RewardAdmin(ExactSearchMixin, MirroredAdmin):
    list_display = (
        "external_id",
        "amount_display",
        "status",
        "fulfilment",
        "promoter_link",
        "lead_link",
        "suspicion",
        "provider",
        "created_at",
    )
    list_select_related = ("promoter", "lead")
    list_fields = ("status", "fulfilment", "provider", "created", "lead__suspicion")
    list_filter = (
        "status",
        "fulfilment",
        "provider",
        UnitFilter,
        SelfReferralFilter,
        "has_issues",
        "beneficiary",
        ("created", admin.DateFieldListFilter),
    )
    search_fields = ("=external_id", "=promoter__email", "=lead__email", "=conversion__order_id")
    # "see: rewards" on the pages of each of these
    link_filters = ("promoter", "lead", "promotion", "conversion", "campaign")
    search_help_text = "An exact reward id, promoter email or code, lead email or order id."
    exact_search_via = (
        ("promoter", promoters_by_email_or_code),
        ("lead", leads_by_email),
        ("conversion", conversions_by_order_id),
    )
    autocomplete_fields = ("promoter", "lead", "promotion", "campaign", "conversion", "rule")
    ordering = ("-id",)
    actions = ("approve_selected", "deny_selected", "fulfil_selected", "reopen_selected")
    readonly_fields = (*MirroredAdmin.readonly_fields, "amount_display", "history")
    fieldsets = (
        (None, {"fields": ("amount_display", "beneficiary", "promoter", "lead", "has_issues")}),
        ("Decision", {"fields": ("status", "decided_at", "decided_by", "decision_reason")}),
        (
            "Fulfilment",
            {
                "fields": (
                    "fulfilment",
                    "fulfilment_requested_at",
                    "fulfilment_last_requested_at",
                    "fulfilment_request_count",
                    "provider_asks_fulfilment",
                    "fulfilled_at",
                    "fulfilled_by",
                    "fulfilment_note",
                )
            },
        ),
        ("Staff actions", {"fields": ("history",)}),
        (
            "Details",
            {
                "fields": (
                    ("amount", "unit", "currency"),
                    "provider_status",
                    "provider_created_at",
                    "promotion",
                    "campaign",
                    "conversion",
                    "rule",
                    "sale_external_id",
                    "conversion_amount",
                    ("tier_level", "split_type"),
                    ("date_paid", "due_date"),
                )
            },
        ),
        MirroredAdmin.provider_fieldset,
    )

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return can_act(request.user, "approve")

    def has_fulfil_permission(self, request: HttpRequest) -> bool:
        return can_act(request.user, "fulfil")

    promoter_link = link_column("promoter", "promoter__email")

    lead_link = link_column("lead", "lead__email")

    @admin.display(description="suspicion")
    def suspicion(self, obj: Reward) -> str:
        return suspicion_badge(obj.lead)

    created_at = datetime_column("created", "created")

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, obj: Reward) -> str:
        return obj.amount_display

    @admin.display(description="audit trail")
    def history(self, obj: Reward) -> str:
        return audit_history(obj)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The reward's page offers the actions this user may take on it now, as buttons."""
        reward = self.get_object(request, object_id)
        buttons = []
        if reward is not None:
            buttons = [
                (f"{action}_selected", label)
                for action, label in BUTTONS.items()
                if can_act(request.user, action) and refusal_reason(reward, action) is None
            ]
        extra_context = {**(extra_context or {}), "reward_actions": buttons}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(permissions=["approve"], description="Approve selected rewards")
    def approve_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        if (ids := self._ids(request, queryset)) is None:
            return None
        self._act(request, "approve", ids, "")
        return self._back_to_reward(request, ids)

    @admin.action(permissions=["approve"], description="Deny selected rewards…")
    def deny_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._ask_then_act(request, queryset, "deny")

    @admin.action(permissions=["fulfil"], description="Mark selected rewards fulfilled…")
    def fulfil_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._ask_then_act(request, queryset, "fulfil")

    @admin.action(permissions=["approve"], description="Reopen selected decisions…")
    def reopen_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._ask_then_act(request, queryset, "reopen")

    def _back_to_reward(self, request: HttpRequest, ids: list[int]) -> HttpResponse | None:
        """Acting from a reward's own page returns there; from the list, to the list."""
        if request.POST.get("_from_change") and len(ids) == 1:
            return HttpResponseRedirect(reverse("admin:referralhub_reward_change", args=ids))
        return None

    def _ids(self, request: HttpRequest, queryset: QuerySet) -> list[int] | None:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[: MAX_BULK + 1])
        if len(ids) > MAX_BULK:
            messages.error(request, f"Select at most {MAX_BULK} rewards at a time.")
            return None
        return ids

    def _ask_then_act(
        self, request: HttpRequest, queryset: QuerySet, action: Action
    ) -> HttpResponse | None:
        """Ask for the reason or note on an intermediate page, then act on the same selection."""
        if (ids := self._ids(request, queryset)) is None:
            return None
        title, label, required = ASK[action]
        data = request.POST if request.POST.get("post") == "yes" else None
        form = ActionTextForm(data, label=label, required=required)
        if form.is_valid():
            self._act(request, action, ids, form.cleaned_data["text"])
            return self._back_to_reward(request, ids)
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "form": form,
            "rewards": queryset.filter(pk__in=ids).select_related("promoter", "lead"),
            "action": f"{action}_selected",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
            "from_change": request.POST.get("_from_change", ""),
        }
        return TemplateResponse(request, "admin/referralhub/reward/action_text.html", context)

    def _act(self, request: HttpRequest, action: Action, ids: list[int], text: str) -> None:
        try:
            rewards = rewards_act(action=action, reward_ids=ids, actor=request.user, text=text)
        except PermissionDenied as exc:
            messages.error(request, str(exc) or "You may not do that.")
        except TransitionNotAllowed as exc:
            # Staff know rewards by the provider's id (the list's first column), not our pk.
            names = dict(Reward.objects.filter(pk__in=exc.errors).values_list("pk", "external_id"))
            reasons = "; ".join(
                f"reward {names.get(pk, pk)}: {why}" for pk, why in sorted(exc.errors.items())
            )
            messages.error(request, f"Nothing was changed. {reasons}.")
        except (RewardNotFound, ValueError) as exc:
            messages.error(request, f"Nothing was changed. {exc}")
        else:
            messages.success(request, done_message(action, rewards, text, label=_by_provider_id))


def _by_provider_id(reward: Reward) -> str:
    """Staff know rewards in the admin by the provider's id (the list's first column)."""
    return f"{reward.get_provider_display()} {reward.external_id}"


ObjectTypeFilter = choices_filter(
    "content_type__model", "object type", [("reward", "Reward"), ("webhookdelivery", "Delivery")]
)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit trail is evidence: nobody edits or deletes it from the admin."""

    list_display = ("created_at", "actor", "action", "object_link", "changes_summary", "note")
    list_select_related = ("actor", "content_type")
    list_filter = ("action", ObjectTypeFilter)
    search_fields = ("object_repr", "=object_id", "=actor__username", "note")
    date_hierarchy = "created"
    readonly_fields = ("object_link", "changes_summary")
    fields = (
        "created",
        "actor",
        "action",
        "content_type",
        "object_id",
        "object_link",
        "changes_summary",
        "note",
    )

    created_at = datetime_column("created", "when")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="object")
    def object_link(self, obj: AuditEntry) -> str:
        ct = obj.content_type
        try:
            url = reverse(f"admin:{ct.app_label}_{ct.model}_change", args=[obj.object_id])
        except NoReverseMatch:
            return obj.object_repr or EMPTY
        return format_html('<a href="{}">{}</a>', url, obj.object_repr)

    @admin.display(description="changes")
    def changes_summary(self, obj: AuditEntry) -> str:
        return changes_text(obj) or EMPTY


@admin.register(BulkApproval)
class BulkApprovalAdmin(ReadOnlyAdmin):
    """ "Approve all matching" runs, as confirmed and as far as they went (the dashboard shows
    their progress); the ids are left out of the page, which would list thousands."""

    list_display = ("id", "actor", "state", "count", "approved", "skipped", "created_at")
    list_select_related = ("actor",)
    list_filter = ("state",)
    exclude = ("reward_ids", "skipped_ids")

    created_at = datetime_column("created", "confirmed")
