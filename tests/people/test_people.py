"""One person across providers: joined by address key, look-alikes flagged, staff merges."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db.models import Sum

from referralhub.addresses import address_key, mixes_scripts, skeleton
from referralhub.models import AuditEntry, Person, Promoter, Reward, person_key
from referralhub.people import (
    MergeRefused,
    look_alike_of,
    people_by_key,
    people_sync,
    person_merge,
    person_split,
    promoters_of,
)
from tests.conftest import make_staff
from tests.factories import PersonFactory, PromoterFactory, RewardFactory

pytestmark = pytest.mark.django_db

CYRILLIC_A = "\u0430"
FULLWIDTH_GRACE = "\uff47\uff52\uff41\uff43\uff45"


@pytest.fixture
def merger():
    return make_staff("mallory", "referralhub.merge_person")


@pytest.mark.parametrize(
    ("email", "key"),
    [
        ("  Grace@Example.COM ", "grace@example.com"),
        ("STRASSE@example.com", "strasse@example.com"),
        ("Straße@example.com", "strasse@example.com"),
        ("ÉLISE@example.com", "élise@example.com"),
        ("", ""),
    ],
)
def test_an_address_key_is_the_address_case_folded_and_trimmed(email, key) -> None:
    assert address_key(email) == key


def test_a_cyrillic_letter_in_a_latin_address_mixes_scripts_and_looks_alike() -> None:
    lookalike = f"gr{CYRILLIC_A}ce@example.com"

    assert mixes_scripts(lookalike)
    assert not mixes_scripts("grace@example.com")
    assert not mixes_scripts("иван@почта.рф")  # one script per part: not a mix
    assert skeleton(lookalike) == skeleton("grace@example.com")
    assert skeleton("b0b@example.com") == skeleton("bob@example.com")
    assert skeleton(FULLWIDTH_GRACE + "@example.com") == skeleton("grace@example.com")
    assert skeleton("alan@example.com") != skeleton("alain@example.com")


def test_promoters_with_one_address_at_three_providers_are_one_person() -> None:
    fp = PromoterFactory(provider="firstpromoter", email="Alan.Turing@example.com")
    ir = PromoterFactory(provider="invitereferrals", email=" alan.turing@example.com")
    rr = PromoterFactory(provider="referralrocket", email="ALAN.TURING@EXAMPLE.COM")
    PromoterFactory(email="someone.else@example.com")

    assert people_sync() == 2
    person = Person.objects.get(key="alan.turing@example.com")
    assert set(promoters_of(person)) == {fp, ir, rr}
    assert people_sync() == 0  # nothing new: nothing written


def test_a_promoter_without_an_address_has_no_person_but_a_key_of_its_own() -> None:
    shell = PromoterFactory(email="")
    PromoterFactory(email="")

    people_sync()
    keys = dict(Promoter.objects.values_list("pk", person_key()))

    assert not Person.objects.exists()
    assert keys[shell.pk] == f"promoter {shell.pk}"
    assert len(set(keys.values())) == 2


def test_deliveries_write_the_key_with_the_address_and_an_older_one_does_not(
    fp_endpoint, post_json, payload
) -> None:
    newer = payload("firstpromoter_promoter_signed_up.json")
    older = copy.deepcopy(newer)
    newer["data"]["promoter"]["email"] = " Second.Promoter@Example.com"
    older["event"].update(id=1, created_at="2020-01-01T00:00:00.000Z")
    older["data"]["promoter"]["email"] = "old.address@example.com"

    assert post_json(fp_endpoint, newer).status_code == 200
    assert post_json(fp_endpoint, older).status_code == 200

    promoter = Promoter.objects.get()
    assert (promoter.email, promoter.person_key) == (
        " Second.Promoter@Example.com",
        "second.promoter@example.com",
    )


def test_the_same_address_at_two_providers_by_webhook_is_one_person(
    fp_endpoint, ir_endpoint, post_json, payload, client
) -> None:
    fp = payload("firstpromoter_promoter_signed_up.json")
    fp["data"]["promoter"]["email"] = "Robert@Example.com"
    assert post_json(fp_endpoint, fp).status_code == 200
    ir = payload("invitereferrals_conversion_seed.json")  # referrer robert@example.com
    assert client.get(ir_endpoint.path, ir).status_code == 200

    people_sync()

    person = Person.objects.get()
    assert person.key == "robert@example.com"
    assert sorted(promoters_of(person).values_list("provider", flat=True)) == [
        "firstpromoter",
        "invitereferrals",
    ]


def test_look_alike_addresses_are_flagged_and_never_joined() -> None:
    PromoterFactory(email="grace@example.com", provider="firstpromoter")
    PromoterFactory(email=f"gr{CYRILLIC_A}ce@example.com", provider="referralrocket")

    people_sync()

    grace = Person.objects.get(key="grace@example.com")
    lookalike = Person.objects.get(key=f"gr{CYRILLIC_A}ce@example.com")
    assert Person.objects.count() == 2
    assert promoters_of(grace).count() == promoters_of(lookalike).count() == 1
    assert (grace.mixes_scripts, lookalike.mixes_scripts) == (False, True)
    assert list(look_alike_of(grace)) == [lookalike]
    assert list(look_alike_of(lookalike)) == [grace]


def test_staff_merge_two_addresses_into_one_person_and_split_them_again(merger) -> None:
    work = PromoterFactory(email="ada@work.example.com", provider="firstpromoter")
    home = PromoterFactory(email="ada@home.example.com", provider="referralrocket")
    RewardFactory(promoter=work, amount=Decimal("10"), currency="USD", unlinked=True)
    RewardFactory(promoter=home, amount=Decimal("5"), currency="USD", unlinked=True)
    people_sync()
    ada_work = Person.objects.get(key="ada@work.example.com")
    ada_home = Person.objects.get(key="ada@home.example.com")

    person_merge(person=ada_home, into=ada_work, actor=merger, note="Same Ada")

    assert set(promoters_of(ada_work)) == {work, home}
    totals = Reward.objects.values(person=person_key("promoter__")).annotate(total=Sum("amount"))
    assert [(t["person"], t["total"]) for t in totals] == [("ada@work.example.com", Decimal("15"))]
    assert people_by_key(["ada@work.example.com"]) == {"ada@work.example.com": ada_work}
    entries = AuditEntry.objects.filter(action="merge_person").order_by("object_id")
    assert {(e.object_id, e.note, e.actor_id) for e in entries} == {
        (str(ada_work.pk), "Same Ada", merger.pk),
        (str(ada_home.pk), "Same Ada", merger.pk),
    }

    person_split(person=ada_home, actor=merger, note="Two Adas after all")

    assert set(promoters_of(ada_work)) == {work}
    assert set(promoters_of(ada_home)) == {home}
    assert AuditEntry.objects.filter(action="split_person").count() == 2
    assert Reward.objects.values(person=person_key("promoter__")).distinct().count() == 2


def test_merging_a_person_brings_those_merged_into_it_along(merger) -> None:
    first, second, third = PersonFactory.create_batch(3)
    person_merge(person=third, into=second, actor=merger)

    person_merge(person=second, into=first, actor=merger)

    assert set(Person.objects.filter(merged_into=first)) == {second, third}


def test_a_merge_staff_may_not_do_is_refused_and_writes_nothing(merger) -> None:
    first, second, third = PersonFactory.create_batch(3)
    person_merge(person=second, into=first, actor=merger)
    looker = make_staff("lee", "referralhub.view_person")

    with pytest.raises(PermissionDenied):
        person_merge(person=third, into=first, actor=looker)
    with pytest.raises(MergeRefused, match="themselves"):
        person_merge(person=first, into=first, actor=merger)
    with pytest.raises(MergeRefused, match="part of another person"):
        person_merge(person=third, into=second, actor=merger)
    with pytest.raises(MergeRefused, match="split it off first"):
        person_merge(person=second, into=third, actor=merger)
    with pytest.raises(MergeRefused, match="not merged"):
        person_split(person=third, actor=merger)
    with pytest.raises(PermissionDenied):
        person_split(person=second, actor=looker)

    assert list(Person.objects.filter(merged_into__isnull=False)) == [second]
    assert AuditEntry.objects.count() == 2
