"""FirstPromoter sync: the decisions its API has not taken, with a retry button, and the imports
of its history (webhooks.providers.firstpromoter.push and .pull)."""

from __future__ import annotations

from typing import TypeGuard

from django.contrib import messages
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dashboard.access import forbidden, staff_required
from dashboard.exports import Column, ListExport, wanted
from dashboard.forms import ImportForm
from dashboard.pagination import PAGE_SIZES, paginate
from referralhub import services
from referralhub.models import MAX_ID
from webhooks.models import CommissionPush, ImportRun
from webhooks.providers.firstpromoter import push

VIEW_PERMISSION = "referralhub.view_reward"
RECENT_IMPORTS = 10
ACTIVE = (ImportRun.State.QUEUED, ImportRun.State.RUNNING)


RETRY_ACTIONS: tuple[services.Action, ...] = ("approve", "fulfil")


def _can_retry(user: User | AnonymousUser) -> TypeGuard[User]:
    return any(services.can_act(user, action) for action in RETRY_ACTIONS)


SYNC_PROBLEMS = ListExport(
    "firstpromoter-sync-problems",
    [
        Column("Reward", lambda problem: problem.reward_id),
        Column("Commission", lambda problem: problem.reward.external_id),
        Column("Decision", lambda problem: problem.get_action_display()),
        Column("State", lambda problem: _state(problem)),
        Column("Why", lambda problem: problem.error),
        Column("Attempts", lambda problem: problem.attempts),
        Column("Next attempt", lambda problem: _next_attempt(problem)),
        Column("Since", lambda problem: problem.since),
    ],
)


def _state(problem: CommissionPush) -> str:
    return (
        "Retrying" if problem.state == CommissionPush.State.PENDING else problem.get_state_display()
    )


def _next_attempt(problem: CommissionPush) -> object:
    return problem.next_attempt_at if problem.state == CommissionPush.State.PENDING else None


@staff_required
def sync_problems(request: HttpRequest) -> HttpResponseBase:
    if not request.user.has_perm(VIEW_PERMISSION):
        return forbidden(request, "You do not have permission to view rewards.")
    if wanted(request):
        return SYNC_PROBLEMS.stream(push.problems())
    imports = list(ImportRun.objects.select_related("endpoint", "started_by")[:RECENT_IMPORTS])
    context = {
        "page": paginate(push.problems(), request),
        "sizes": PAGE_SIZES,
        "can_retry": _can_retry(request.user),
        "account": push.account_endpoint(),
        "imports": imports,
        "importing": any(r.state in ACTIVE for r in imports),
        "can_import": request.user.has_perm(services.IMPORT_PERMISSION),
        "import_form": ImportForm(),
    }
    return render(request, "dashboard/sync.html", context)


@staff_required
@require_POST
def sync_retry(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not _can_retry(user):
        return forbidden(request, "You do not have permission to act on rewards.")
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit() and int(i) <= MAX_ID]
    if not ids:
        messages.error(request, "Select the decisions to send again.")
    else:
        try:
            count = services.commission_pushes_retry(push_ids=ids, actor=user)
        except PermissionDenied as exc:
            return forbidden(request, str(exc))
        if count:
            messages.success(request, f"Sending {count} decision{'s' if count != 1 else ''} again.")
        else:
            messages.error(request, "Nothing to send again: those decisions have not failed.")
    return HttpResponseRedirect(reverse("dashboard:sync"))


@staff_required
@require_POST
def import_start(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User) or not user.has_perm(services.IMPORT_PERMISSION):
        return forbidden(request, "You do not have permission to start an import.")
    form = ImportForm(request.POST)
    endpoint = push.account_endpoint()
    if endpoint is None:
        messages.error(request, "No FirstPromoter endpoint has API credentials to import with.")
    elif not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    else:
        run = services.provider_import_start(
            endpoint=endpoint,
            resources=form.cleaned_data["resources"],
            since=form.cleaned_data["since"],
            actor=user,
        )
        messages.success(request, f"Import #{run.pk} queued: its progress shows below.")
    return HttpResponseRedirect(reverse("dashboard:sync"))
