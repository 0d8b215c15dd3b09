from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    QueryDict,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST

from dashboard import exports, selectors
from dashboard.access import forbidden, staff_required
from dashboard.exports import Column, ListExport
from dashboard.forms import DenyForm, ExportFilterForm, RewardActionForm, RewardQueueFilterForm
from dashboard.pagination import PAGE_SIZES, paginate
from dashboard.templatetags.dashboard import suspicion_label
from referralhub import services
from referralhub.models import Reward, format_amount
from referralhub.payouts.files import spreadsheet_csv
from referralhub.payouts.selectors import with_payout
from webhooks.models import CommissionPush
from webhooks.providers.firstpromoter import push

# The query parameter that carries a refused export's own query back to the approvals page.
EXPORT_REFUSED = "export"


def _permissions(request: HttpRequest) -> dict[str, bool]:
    return {
        "can_approve": services.can_act(request.user, "approve"),
        "can_fulfil": services.can_act(request.user, "fulfil"),
    }


def _queue(
    request: HttpRequest, queryset_for: Callable[[dict[str, Any]], QuerySet[Reward]], template: str
) -> HttpResponse:
    form = RewardQueueFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    page = paginate(queryset_for(filters), request)
    context = {
        "form": form,
        "page": page,
        "sizes": PAGE_SIZES,
        "max_bulk": services.MAX_BULK,  # a page can list more than one action may take
        "export_form": _export_form(request),
        "firstpromoter_api": push.account_endpoint() is not None,
        **_permissions(request),
    }
    return render(request, template, context)


def _export_form(request: HttpRequest) -> ExportFilterForm:
    """The export form, filled in again with what a refused export was sent (see below)."""
    if EXPORT_REFUSED in request.GET:
        return ExportFilterForm(QueryDict(request.GET[EXPORT_REFUSED]))
    return ExportFilterForm()


def _reward_columns(*more: Column) -> list[Column]:
    """What both queues show of a reward, then what one of them adds."""
    return [
        Column("Reward", lambda reward: reward.pk),
        Column("Provider", lambda reward: reward.get_provider_display()),
        Column("Provider's id", lambda reward: reward.external_id),
        Column("Amount", lambda reward: reward.amount),
        Column("Currency", lambda reward: reward.currency),
        Column("Unit", lambda reward: reward.unit),
        Column("Promoter", lambda reward: reward.promoter and reward.promoter.display_name),
        Column("Promoter's email", lambda reward: reward.promoter and reward.promoter.email),
        Column("Lead", lambda reward: reward.lead),
        Column("Campaign", lambda reward: reward.campaign),
        *more,
    ]


APPROVALS = ListExport(
    "approvals",
    _reward_columns(
        Column("Created", lambda reward: reward.provider_created_at or reward.created),
        Column(
            "Lead's suspicion",
            lambda reward: reward.lead and suspicion_label(reward.lead.suspicion),
        ),
    ),
)
FULFILMENTS = ListExport(
    "fulfilments",
    _reward_columns(
        Column("Decision", lambda reward: reward.get_status_display()),
        Column("Queued", lambda reward: reward.fulfilment_requested_at),
        Column("Last asked", lambda reward: reward.fulfilment_last_requested_at),
        Column("Times asked", lambda reward: reward.fulfilment_request_count),
    ),
)


@staff_required
def approval_queue(request: HttpRequest) -> HttpResponseBase:
    if exports.wanted(request):
        form = RewardQueueFilterForm(request.GET)
        return APPROVALS.download(request, form, selectors.approval_queue)
    return _queue(request, selectors.approval_queue, "dashboard/approvals.html")


@staff_required
def fulfilment_queue(request: HttpRequest) -> HttpResponseBase:
    if exports.wanted(request):
        form = RewardQueueFilterForm(request.GET)
        return FULFILMENTS.download(request, form, selectors.fulfilment_queue)
    return _queue(request, selectors.fulfilment_queue, "dashboard/fulfilments.html")


@staff_required
def reward_detail(request: HttpRequest, pk: int) -> HttpResponse:
    reward = get_object_or_404(
        with_payout(
            Reward.objects.select_related(
                "promoter", "lead", "campaign", "conversion", "decided_by", "fulfilled_by"
            )
        ),
        pk=pk,
    )
    pushes = list(CommissionPush.objects.filter(reward=reward).order_by("pk"))
    fulfil_pushed = any(p.action == CommissionPush.Action.MARK_FULFILLED for p in pushes)
    context = {
        "reward": reward,
        "pushes": pushes,
        "pushes_fulfil": fulfil_pushed,
        # FirstPromoter hears of this reward's fulfilment (see push.is_pushed), or has.
        "told_on_fulfil": fulfil_pushed
        or (
            reward.fulfilment != Reward.Fulfilment.FULFILLED
            and push.is_pushed(reward, "fulfil")
            and push.account_endpoint() is not None
        ),
        "history": selectors.audit_history(reward),
        "approve_refused": services.refusal_reason(reward, "approve"),
        "fulfil_refused": services.refusal_reason(reward, "fulfil"),
        "reopen_refused": services.refusal_reason(reward, "reopen"),
        **_permissions(request),
    }
    return render(request, "dashboard/reward.html", context)


def _back(request: HttpRequest, target: str | None) -> str:
    """Where the page that posted asked to go back to: a path on this site, else the queue."""
    if (
        target
        and target.startswith("/")
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return reverse("dashboard:approvals")


@staff_required
@require_POST
def reward_act(request: HttpRequest) -> HttpResponse:
    """Approve, deny or fulfil the selected rewards, all through `services.rewards_act`."""
    if not any(services.can_act(request.user, a) for a in services.PERMISSIONS):
        return forbidden(request, "You do not have permission to act on rewards.")
    form = RewardActionForm(request.POST)
    back = _back(request, request.POST.get("next"))
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(str(e) for e in error))
        return HttpResponseRedirect(back)
    data = form.cleaned_data
    try:
        rewards = services.rewards_act(
            action=data["action"], reward_ids=data["ids"], actor=request.user, text=data["text"]
        )
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    except services.TransitionNotAllowed as exc:
        reasons = "; ".join(f"reward #{pk} is {why}" for pk, why in exc.errors.items())
        messages.error(request, f"Nothing was changed: {reasons}.")
    except (services.RewardNotFound, ValueError) as exc:
        messages.error(request, f"Nothing was changed: {exc}")
    else:
        messages.success(request, services.done_message(data["action"], rewards, data["text"]))
    return HttpResponseRedirect(back)


@staff_required
def reward_deny(request: HttpRequest) -> HttpResponse:
    """Deny, a step apart from approving: the rewards and the reason asked for on a page of its
    own, reached by a reward's "Deny…" or the approvals list's "Deny selected…"."""
    if not services.can_act(request.user, "deny"):
        return forbidden(request, "You do not have permission to deny rewards.")
    form = DenyForm(request.POST if request.method == "POST" else request.GET)
    back = _back(request, form.data.get("next"))
    if not form.is_valid() and "ids" in form.errors:
        messages.error(request, " ".join(str(e) for e in form.errors["ids"]))
        return HttpResponseRedirect(back)
    confirmed = request.method == "POST" and form.cleaned_data.get("confirm")
    if confirmed and form.is_valid():
        data = form.cleaned_data
        try:
            rewards = services.rewards_act(
                action="deny", reward_ids=data["ids"], actor=request.user, text=data["reason"]
            )
        except PermissionDenied as exc:
            return forbidden(request, str(exc))
        except services.TransitionNotAllowed as exc:
            reasons = "; ".join(f"reward #{pk} is {why}" for pk, why in exc.errors.items())
            messages.error(request, f"Nothing was changed: {reasons}.")
        except (services.RewardNotFound, ValueError) as exc:
            messages.error(request, f"Nothing was changed: {exc}")
        else:
            messages.success(request, services.done_message("deny", rewards, data["reason"]))
            return HttpResponseRedirect(back)
    rewards = selectors.rewards_to_decide(form.cleaned_data["ids"])
    context = {
        "form": form,
        "rewards": rewards,
        "rows": [(r, services.refusal_reason(r, "deny")) for r in rewards],
        "missing": sorted(set(form.cleaned_data["ids"]) - {r.pk for r in rewards}),
        "totals": _totals(rewards),
        "back": back,
        # The reason's error only once it was asked for, not on arriving from a list.
        "show_errors": confirmed,
    }
    return render(request, "dashboard/deny.html", context)


def _totals(rewards: list[Reward]) -> list[str]:
    """What the rewards add up to, per unit and currency (15.00 USD, 3 free months)."""
    sums: dict[tuple[str, str], Any] = {}
    for reward in rewards:
        if reward.amount is not None:
            key = (reward.unit, reward.currency)
            sums[key] = sums.get(key, 0) + reward.amount
    return [
        format_amount(total, unit, currency) for (unit, currency), total in sorted(sums.items())
    ]


@staff_required
def export_approved(request: HttpRequest) -> HttpResponseBase:
    form = ExportFilterForm(request.GET)
    if not form.is_valid():
        problems = " ".join(
            f"{form[name].label}: {' '.join(str(e) for e in errors)}"
            for name, errors in form.errors.items()
        )
        messages.error(request, f"Nothing was exported. {problems}")
        # Back to the form, with the values sent and the errors beside them.
        refused = urlencode({EXPORT_REFUSED: request.GET.urlencode()})
        return HttpResponseRedirect(f"{reverse('dashboard:approvals')}?{refused}#export")
    filters = form.cleaned_data
    rows = exports.payout_rows(selectors.approved_rewards_for_export(filters))
    lines = spreadsheet_csv(rows)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    # The staff's date (TIME_ZONE), as the pages show it.
    name = f"approved-rewards-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
