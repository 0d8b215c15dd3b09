"""The demo data shows what people are: one human at two providers, and a look-alike."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from referralhub.models import Person
from referralhub.people import look_alike_of, promoters_of

pytestmark = pytest.mark.django_db


def two_providers_and_a_look_alike() -> tuple[list[Person], list[Person]]:
    at_two = [
        p for p in Person.objects.all() if promoters_of(p).values("provider").distinct().count() > 1
    ]
    flagged = [p for p in Person.objects.filter(mixes_scripts=True) if look_alike_of(p).exists()]
    return at_two, flagged


def test_load_demo_makes_a_person_at_two_providers_and_a_look_alike() -> None:
    call_command("load_demo", stdout=io.StringIO())

    at_two, flagged = two_providers_and_a_look_alike()

    assert len(at_two) == 1
    assert len(flagged) == 1


def test_seed_demo_makes_people_at_two_providers_and_a_look_alike() -> None:
    call_command(
        "seed_demo",
        "--leads",
        "500",
        "--promoters",
        "100",
        "--seed",
        "3",
        "--no-progress",
        stdout=io.StringIO(),
    )

    at_two, flagged = two_providers_and_a_look_alike()

    assert len(at_two) >= 1
    assert len(flagged) >= 1
