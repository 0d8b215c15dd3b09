"""People created and merged by several requests at once, each with its own connection, on
PostgreSQL (SQLite serialises writers, so it shows no race)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections

from referralhub.models import AuditEntry, Person
from referralhub.people import MergeRefused, people_sync, person_merge
from tests.conftest import make_staff
from tests.factories import PersonFactory, PromoterFactory
from tests.webhooks.conftest import needs_postgres

pytestmark = [needs_postgres, pytest.mark.django_db(transaction=True)]


def all_at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread, released together; their results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = calls[index]()
        except Exception as exc:  # returned to the test, in its own thread
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_syncing_people_at_once_creates_each_person_once() -> None:
    for n in range(40):
        PromoterFactory(email=f"Person{n}@example.com", provider="firstpromoter")
        PromoterFactory(email=f"person{n}@example.com ", provider="referralrocket")

    results = all_at_once([people_sync] * 6)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert Person.objects.count() == 40
    assert people_sync() == 0


def test_two_staff_merging_two_people_each_into_the_other_leave_one_merge() -> None:
    first, second = PersonFactory.create_batch(2)
    staff = make_staff("mallory", "referralhub.merge_person")

    results = all_at_once(
        [
            lambda: person_merge(person=first, into=second, actor=staff),
            lambda: person_merge(person=second, into=first, actor=staff),
        ]
    )

    assert sum(isinstance(r, MergeRefused) for r in results) == 1
    assert Person.objects.filter(merged_into__isnull=False).count() == 1
    assert AuditEntry.objects.count() == 2
