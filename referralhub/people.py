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
from typing import TypeGuard

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from referralhub.addresses import mixes_scripts, skeleton
from referralhub.models import Person, Promoter
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
    people = [
        Person(key=key, skeleton=skeleton(key), mixes_scripts=mixes_scripts(key))
        for key in new_keys
    ]
    Person.objects.bulk_create(people, batch_size=500, ignore_conflicts=True)
    return len(people)


def people_by_key(keys: Iterable[str]) -> dict[str, Person]:
    """The person of each key `person_key()` gives (a promoter without an address has none)."""
    people_sync()
    return {p.key: p for p in Person.objects.filter(key__in=set(keys))}


def promoters_of(person: Person) -> QuerySet[Promoter]:
    """Every promoter record of `person`, at every provider, its merged addresses included."""
    keys = Person.objects.filter(Q(pk=person.pk) | Q(merged_into=person.pk)).values("key")
    return Promoter.objects.filter(person_key__in=keys)


def look_alike_of(person: Person) -> QuerySet[Person]:
    """The other people whose address looks like this person's (merged people are one)."""
    root = person.merged_into_id or person.pk
    return Person.objects.filter(skeleton=person.skeleton).exclude(Q(pk=root) | Q(merged_into=root))


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
