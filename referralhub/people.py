"""People: bringing `Person` rows up to date with the promoters, and staff's merges and splits.

- `people_sync` creates the person of every promoter address that has none, in one read and one
  insert, whenever a page about people is shown: the webhooks never pay for people. Two requests
  syncing at once cannot create a person twice (the key is unique; the insert skips conflicts).
- Only staff join different addresses (`person_merge`, undone by `person_split`), with the
  permission `referralhub.merge_person`, under row locks, audited. Look-alike addresses are
  flagged (`look_alike_of`), never joined.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeGuard

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce

from referralhub.addresses import mixes_scripts, skeleton
from referralhub.models import Person, Promoter
from referralhub.search import search_filter
from referralhub.services import audit

MERGE_PERMISSION = "referralhub.merge_person"


class MergeRefused(ValueError):
    """A merge or split that cannot be done, with the reason staff read."""


def people_sync() -> int:
    """Create the missing people; returns how many."""
    has_person = Person.objects.filter(key=OuterRef("person_key"))
    new_keys = (
        Promoter.objects.exclude(person_key="")
        .filter(~Exists(has_person))
        .values_list("person_key", flat=True)
        .distinct()
    )
    people = [_new_person(key) for key in new_keys]
    Person.objects.bulk_create(people, batch_size=500, ignore_conflicts=True)
    return len(people)


def _new_person(key: str) -> Person:
    return Person(key=key, skeleton=skeleton(key), mixes_scripts=mixes_scripts(key))


def people_by_key(keys: Iterable[str]) -> dict[str, Person]:
    """The person of each key `person_key()` gives (a promoter without an address has none)."""
    people_sync()
    return {p.key: p for p in Person.objects.filter(key__in=set(keys))}


def person_of(promoter: Promoter | None) -> Person | None:
    """The person behind `promoter` (the one its address was merged into, if so); None for a
    promoter without an address. One query, two more the first time its address is seen."""
    if promoter is None or not promoter.person_key:
        return None
    key = promoter.person_key
    person = Person.objects.select_related("merged_into").filter(key=key).first()
    if person is None:
        Person.objects.bulk_create([_new_person(key)], ignore_conflicts=True)
        person = Person.objects.select_related("merged_into").get(key=key)
    return person.merged_into or person


def promoters_of(person: Person) -> QuerySet[Promoter]:
    """Every promoter record of `person`, at every provider, its merged addresses included."""
    keys = Person.objects.filter(Q(pk=person.pk) | Q(merged_into=person.pk)).values("key")
    return Promoter.objects.filter(person_key__in=keys)


def people_found(*, search: str = "", look_alikes_only: bool = False) -> QuerySet[Person]:
    """The people (never a merged one: the person it joined instead) whose address or promoters
    match `search` (`referralhub.search`), by address, with their look-alike flag; people whose
    promoters all changed address since are left out."""
    found = Person.objects.filter(Exists(Promoter.objects.filter(person_key=OuterRef("key"))))
    if search:
        found = found.filter(search_filter(Person, search))
    people = Person.objects.filter(pk__in=found.values(root=Coalesce("merged_into", "pk")))
    people = people.annotate(looks_alike=Exists(_look_alikes(OuterRef("skeleton"), OuterRef("pk"))))
    if look_alikes_only:
        people = people.filter(Q(looks_alike=True) | Q(mixes_scripts=True))
    return people.order_by("key")


def look_alike_of(person: Person) -> QuerySet[Person]:
    """The other people whose address looks like this person's (merged people are one)."""
    return _look_alikes(person.skeleton, person.merged_into_id or person.pk).order_by("key")


def _look_alikes(skeleton: Any, root: Any) -> QuerySet[Person]:
    """People with this skeleton but another root (values or `OuterRef`s)."""
    return Person.objects.filter(skeleton=skeleton).exclude(Q(pk=root) | Q(merged_into=root))


def can_merge(user: User | AnonymousUser) -> TypeGuard[User]:
    return bool(user.is_active and user.is_staff and user.has_perm(MERGE_PERMISSION))


@transaction.atomic
def person_merge(
    *, person: Person, into: Person, actor: User | AnonymousUser, note: str = ""
) -> Person:
    """Make `person`, and whoever was merged into it, part of `into`; returns `into`."""
    if not can_merge(actor):
        raise PermissionDenied("You do not have permission to merge people.")
    person, into = _locked(person, into)
    if person.pk == into.pk:
        raise MergeRefused("A person cannot be merged with themselves.")
    if into.merged_into_id is not None:
        raise MergeRefused(f"{into} is part of another person: merge into that one.")
    if person.merged_into_id is not None:
        raise MergeRefused(f"{person} is already part of another person: split it off first.")
    # Merges stay one step deep: those merged into `person` now point at `into` directly.
    joining = [person, *Person.objects.select_for_update().filter(merged_into=person)]
    Person.objects.filter(pk__in=[p.pk for p in joining]).update(merged_into=into)
    for joined in joining:
        before = joined.merged_into.key if joined.merged_into else None
        _audit(actor, "merge_person", joined, {"merged_into": [before, into.key]}, note)
    _audit(actor, "merge_person", into, {"merged": [None, person.key]}, note)
    return into


@transaction.atomic
def person_split(*, person: Person, actor: User | AnonymousUser, note: str = "") -> Person:
    """Undo a merge: `person`'s address is a person of its own again; returns the one it left."""
    if not can_merge(actor):
        raise PermissionDenied("You do not have permission to split people.")
    (person,) = _locked(person)
    if person.merged_into is None:
        raise MergeRefused(f"{person} is not merged into anyone.")
    left = person.merged_into
    Person.objects.filter(pk=person.pk).update(merged_into=None)
    _audit(actor, "split_person", person, {"merged_into": [left.key, None]}, note)
    _audit(actor, "split_person", left, {"merged": [person.key, None]}, note)
    person.merged_into = None
    return left


def _locked(*people: Person) -> list[Person]:
    """`people` read again under a row lock, in id order (two staff merging the same two people
    the other way round wait for each other instead of deadlocking)."""
    rows = Person.objects.select_for_update(of=("self",)).filter(pk__in=[p.pk for p in people])
    by_pk = {p.pk: p for p in rows.select_related("merged_into").order_by("pk")}
    return [by_pk[p.pk] for p in people]


def _audit(actor: User, action: str, person: Person, changes: dict, note: str) -> None:
    audit(actor=actor, action=action, obj=person, changes=changes, note=note)
