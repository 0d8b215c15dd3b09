"""People: the list, a person's page, and staff's merges and splits (`referralhub.people`)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from dashboard import people_pages
from dashboard.access import forbidden, staff_required
from dashboard.exports import Column, ListExport, in_chunks, wanted
from dashboard.forms import PersonFilterForm, PersonMergeForm, PersonSplitForm
from dashboard.pagination import PAGE_SIZES, paginate
from referralhub.models import Person
from referralhub.people import (
    MergeRefused,
    can_merge,
    people_found,
    people_sync,
    person_merge,
    person_split,
)

MERGE_CANDIDATES = 10


PEOPLE = ListExport(
    "people",
    [
        Column("Person", lambda row: row.person.pk),
        Column("Name", lambda row: row.name),
        Column("Address", lambda row: row.person.key),
        Column("Addresses", lambda row: row.addresses),
        Column("Providers", lambda row: ", ".join(row.providers)),
        Column("Promoter records", lambda row: len(row.promoters)),
        Column("Company", lambda row: ", ".join(row.companies)),
        Column("Ref id or code", lambda row: ", ".join(row.codes)),
        Column("Looks like another", lambda row: bool(row.person.looks_alike)),
    ],
)


def _people(filters: dict[str, Any]) -> QuerySet[Person]:
    return people_found(
        search=filters.get("q", ""), look_alikes_only=filters.get("look_alikes", False)
    )


@staff_required
def person_list(request: HttpRequest) -> HttpResponseBase:
    people_sync()
    form = PersonFilterForm(request.GET)
    if wanted(request):
        return PEOPLE.download(
            request, form, lambda filters: in_chunks(_people(filters), people_pages.people_rows)
        )
    filters = form.cleaned_data if form.is_valid() else {}
    people = _people(filters)
    page = paginate(people, request)
    rows = people_pages.people_rows(list(page.items))
    context = {"form": form, "page": page, "rows": rows, "sizes": PAGE_SIZES}
    return render(request, "dashboard/people.html", context)


@staff_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    people_sync()
    person = get_object_or_404(Person, pk=pk)
    if person.merged_into_id is not None:  # its promoters are on the page of the one it joined
        return redirect("dashboard:person", pk=person.merged_into_id)
    context = {
        "person": person,
        "can_merge": can_merge(request.user),
        **people_pages.person_page(person),
    }
    return render(request, "dashboard/person.html", context)


@staff_required
def person_merge_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Find the person to merge (GET ?q=), confirm (GET ?other=), merge (POST)."""
    person = get_object_or_404(Person, pk=pk, merged_into=None)
    if not can_merge(request.user):
        return forbidden(request, "You do not have permission to merge people.")
    if request.method == "POST":
        return _merge(request, person)
    search = PersonFilterForm(request.GET)
    query = search.cleaned_data.get("q", "") if search.is_valid() else ""
    candidates = (
        people_found(search=query).exclude(pk=person.pk) if query else Person.objects.none()
    )
    confirm = PersonMergeForm(request.GET) if "other" in request.GET else None
    other = _other(confirm, person)
    context = {
        "person": person,
        "search": search,
        "rows": people_pages.people_rows(list(candidates[:MERGE_CANDIDATES])),
        "other": other,
        "other_rows": people_pages.people_rows([other]) if other else [],
        "form": confirm or PersonMergeForm(),
    }
    return render(request, "dashboard/person_merge.html", context)


def _other(form: PersonMergeForm | None, person: Person) -> Person | None:
    """The person the confirmation form names, when it names one that can be merged."""
    if form is None or not form.is_valid():
        return None
    found = people_found().filter(pk=form.cleaned_data["other"]).exclude(pk=person.pk).first()
    if found is None:
        form.add_error("other", "There is no such person to merge (merged or gone since?).")
    return found


def _merge(request: HttpRequest, person: Person) -> HttpResponse:
    form = PersonMergeForm(request.POST)
    other = (
        Person.objects.filter(pk=form.cleaned_data["other"]).first() if form.is_valid() else None
    )
    if other is None:
        messages.error(request, "Choose a person to merge.")
        return redirect("dashboard:person_merge", pk=person.pk)
    try:
        person_merge(person=other, into=person, actor=request.user, note=form.cleaned_data["note"])
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    except MergeRefused as exc:
        messages.error(request, str(exc))
        return redirect("dashboard:person_merge", pk=person.pk)
    messages.success(request, f"Merged {other.key} into this person.")
    return redirect("dashboard:person", pk=person.pk)


@staff_required
@require_POST
def person_split_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Split the address `pk` off the person it was merged into."""
    person = get_object_or_404(Person, pk=pk)
    form = PersonSplitForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        left = person_split(person=person, actor=request.user, note=note)
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    except MergeRefused as exc:
        messages.error(request, str(exc))
        return redirect("dashboard:person", pk=person.pk)
    messages.success(request, f"Split {person.key} off: a person of its own again.")
    return redirect("dashboard:person", pk=left.pk)
