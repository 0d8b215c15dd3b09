"""The people list, a person's page, and merging and splitting people from the dashboard."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from referralhub.models import AuditEntry, Person
from referralhub.people import people_sync, person_merge
from tests.conftest import make_staff
from tests.factories import (
    LeadFactory,
    PayoutBatchFactory,
    PayoutItemFactory,
    PersonFactory,
    PromoterFactory,
    PromotionFactory,
    RewardFactory,
)

CYRILLIC_A = "\u0430"


@pytest.fixture
def merger(db):
    return make_staff("mallory", "referralhub.merge_person")


@pytest.fixture
def as_merger(client: Client, merger) -> Client:
    client.force_login(merger)
    return client


@pytest.fixture
def alan(db):
    """Alan Turing at three providers, with one address in three spellings."""
    return [
        PromoterFactory(
            provider=provider, email=email, first_name="Alan", last_name="Turing", **extra
        )
        for provider, email, extra in [
            ("firstpromoter", "Alan@Bletchley.example", {"company_name": "Bombe Ltd"}),
            ("invitereferrals", "alan@bletchley.example ", {}),
            ("referralrocket", "ALAN@BLETCHLEY.EXAMPLE", {"code": "ENIGMA42"}),
        ]
    ]


def listed(client: Client, **params) -> list[str]:
    response = client.get(reverse("dashboard:people"), params)
    assert response.status_code == 200
    return [row.person.key for row in response.context["rows"]]


def test_the_list_shows_one_person_for_one_address_at_three_providers(as_bob, alan) -> None:
    PromoterFactory(email="grace@example.com", first_name="Grace", last_name="Hopper")

    response = as_bob.get(reverse("dashboard:people"))

    rows = {row.person.key: row for row in response.context["rows"]}
    assert set(rows) == {"alan@bletchley.example", "grace@example.com"}
    alan_row = rows["alan@bletchley.example"]
    assert alan_row.name == "Alan Turing"
    assert alan_row.providers == ["FirstPromoter", "InviteReferrals", "Referral Rocket"]
    assert len(alan_row.promoters) == 3
    assert "Bombe Ltd" in response.content.decode()


@pytest.mark.parametrize("search", ["turing", "Bombe", "enigma42", "BLETCHLEY", "alan turing"])
def test_the_list_finds_a_person_by_name_email_company_and_code(as_bob, alan, search) -> None:
    PromoterFactory(email="grace@example.com", first_name="Grace", last_name="Hopper")

    assert listed(as_bob, q=search) == ["alan@bletchley.example"]


def test_the_list_finds_a_person_by_a_promotion_code(as_bob, alan) -> None:
    PromotionFactory(promoter=alan[0], ref_id="turing-ref", promo_code="BOMBE10")
    PromoterFactory(email="grace@example.com")

    assert listed(as_bob, q="bombe10") == ["alan@bletchley.example"]


def test_a_merged_address_is_found_under_the_person_it_joined(as_bob, merger, alan) -> None:
    PromoterFactory(email="a.turing@home.example", provider="referralrocket")
    people_sync()
    person_merge(
        person=Person.objects.get(key="a.turing@home.example"),
        into=Person.objects.get(key="alan@bletchley.example"),
        actor=merger,
    )

    assert listed(as_bob, q="home.example") == ["alan@bletchley.example"]
    assert listed(as_bob) == ["alan@bletchley.example"]


def test_the_list_flags_look_alike_addresses_and_filters_them(as_bob) -> None:
    PromoterFactory(email="grace@example.com")
    PromoterFactory(email=f"gr{CYRILLIC_A}ce@example.com", provider="referralrocket")
    PromoterFactory(email="ada@example.com")

    response = as_bob.get(reverse("dashboard:people"))

    flags = {
        r.person.key: (r.person.looks_alike, r.person.mixes_scripts)
        for r in response.context["rows"]
    }
    assert flags == {
        "ada@example.com": (False, False),
        "grace@example.com": (True, False),
        f"gr{CYRILLIC_A}ce@example.com": (True, True),
    }
    assert "Look-alike" in response.content.decode()
    assert sorted(listed(as_bob, look_alikes="on")) == sorted(
        ["grace@example.com", f"gr{CYRILLIC_A}ce@example.com"]
    )


def test_the_list_pages_people(as_bob) -> None:
    for n in range(30):
        PromoterFactory(email=f"person{n:02}@example.com")

    first = listed(as_bob, size=25)
    second = listed(as_bob, size=25, page=2)

    assert len(first) == 25
    assert len(second) == 5
    assert not set(first) & set(second)


def test_a_search_too_long_is_a_form_error_not_a_failure(as_bob, alan) -> None:
    response = as_bob.get(reverse("dashboard:people"), {"q": "x " * 60})

    assert response.status_code == 200
    assert response.context["form"].errors["q"]


def test_a_persons_page_shows_every_record_and_lifetime_totals(as_bob, alan) -> None:
    lead = LeadFactory(unlinked=True, promoter=alan[1], email="referred@example.com")
    RewardFactory(unlinked=True, promoter=alan[0], amount=Decimal("10"), status="approved")
    RewardFactory(
        unlinked=True, promoter=alan[1], lead=lead, amount=Decimal("5"), status="approved"
    )
    RewardFactory(unlinked=True, promoter=alan[2], amount=Decimal("7"), currency="EUR")
    RewardFactory(unlinked=True, promoter=alan[2], amount=Decimal("2"), unit="free_months")
    PromotionFactory(promoter=alan[0], ref_id="turing-ref")
    people_sync()
    person = Person.objects.get()

    response = as_bob.get(reverse("dashboard:person", args=[person.pk]))

    assert response.status_code == 200
    assert {p.pk for p in response.context["promoters"]} == {p.pk for p in alan}
    totals = {(t.count, t.approved, t.pending) for t in response.context["totals"]}
    assert totals == {
        (2, "15.00 USD", "0.00 USD"),
        (1, "0.00 EUR", "7.00 EUR"),
        (1, "0 free months", "2 free months"),
    }
    assert response.context["leads"] == [lead]
    page = response.content.decode()
    assert reverse("dashboard:lead", args=[lead.pk]) in page
    assert "turing-ref" in page
    assert "Merge another person" not in page  # bob may not merge


def test_a_merged_persons_page_leads_to_the_person_it_joined(as_bob, merger) -> None:
    kept, merged = PersonFactory.create_batch(2)
    person_merge(person=merged, into=kept, actor=merger)

    response = as_bob.get(reverse("dashboard:person", args=[merged.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:person", args=[kept.pk])


def test_an_unknown_person_is_not_found(as_bob) -> None:
    assert as_bob.get("/dashboard/people/12345/").status_code == 404
    assert as_bob.get("/dashboard/people/99999999999999999999/").status_code == 404


def test_a_look_alike_is_named_on_the_persons_page(as_bob) -> None:
    PromoterFactory(email="grace@example.com")
    PromoterFactory(email=f"gr{CYRILLIC_A}ce@example.com", provider="referralrocket")
    people_sync()
    grace = Person.objects.get(key="grace@example.com")

    response = as_bob.get(reverse("dashboard:person", args=[grace.pk]))

    assert [p.key for p in response.context["look_alikes"]] == [f"gr{CYRILLIC_A}ce@example.com"]
    assert "never merges them by itself" in response.content.decode()


def test_staff_find_confirm_and_merge_a_person(as_merger, merger, alan) -> None:
    PromoterFactory(email="turing@home.example", first_name="Alan", last_name="Turing")
    people_sync()
    kept = Person.objects.get(key="alan@bletchley.example")
    other = Person.objects.get(key="turing@home.example")
    merge_url = reverse("dashboard:person_merge", args=[kept.pk])

    found = as_merger.get(merge_url, {"q": "turing"})
    assert [row.person for row in found.context["rows"]] == [other]
    confirm = as_merger.get(merge_url, {"other": other.pk})
    assert confirm.context["other"] == other
    done = as_merger.post(merge_url, {"other": other.pk, "note": "Same Alan"}, follow=True)

    assert done.redirect_chain[-1][0] == reverse("dashboard:person", args=[kept.pk])
    assert Person.objects.get(pk=other.pk).merged_into == kept
    assert len(done.context["promoters"]) == 4
    assert AuditEntry.objects.filter(action="merge_person", note="Same Alan").count() == 2
    assert "Merged turing@home.example into this person." in done.content.decode()


def test_staff_split_a_merged_address_off_again(as_merger, merger) -> None:
    kept, merged = PersonFactory.create_batch(2)
    person_merge(person=merged, into=kept, actor=merger)

    response = as_merger.post(
        reverse("dashboard:person_split", args=[merged.pk]), {"note": "Two people"}
    )

    assert response["Location"] == reverse("dashboard:person", args=[kept.pk])
    assert Person.objects.get(pk=merged.pk).merged_into is None
    assert AuditEntry.objects.filter(action="split_person", note="Two people").count() == 2


def test_a_refused_merge_says_why_and_changes_nothing(as_merger, merger) -> None:
    kept, other, third = PersonFactory.create_batch(3)
    person_merge(person=other, into=third, actor=merger)

    response = as_merger.post(
        reverse("dashboard:person_merge", args=[kept.pk]), {"other": other.pk}, follow=True
    )

    assert "already part of another person" in response.content.decode()
    assert Person.objects.get(pk=other.pk).merged_into == third
    assert (
        as_merger.get(
            reverse("dashboard:person_merge", args=[kept.pk]), {"other": "nope"}
        ).status_code
        == 200
    )


def test_staff_without_the_permission_may_not_merge_or_split(as_bob, merger) -> None:
    kept, other, merged = PersonFactory.create_batch(3)
    person_merge(person=merged, into=kept, actor=merger)
    merge_url = reverse("dashboard:person_merge", args=[kept.pk])

    assert as_bob.get(merge_url, {"q": "person"}).status_code == 403
    assert as_bob.post(merge_url, {"other": other.pk}).status_code == 403
    assert as_bob.post(reverse("dashboard:person_split", args=[merged.pk])).status_code == 403
    assert as_bob.get(reverse("dashboard:person_split", args=[merged.pk])).status_code == 405
    assert list(Person.objects.filter(merged_into__isnull=False)) == [merged]
    assert AuditEntry.objects.count() == 2


def test_the_promoter_and_lead_pages_link_to_the_person(as_bob, alan, merger) -> None:
    PromoterFactory(email="turing@home.example")
    people_sync()
    kept = Person.objects.get(key="alan@bletchley.example")
    person_merge(person=Person.objects.get(key="turing@home.example"), into=kept, actor=merger)
    home = PromoterFactory(email="Turing@Home.example")  # a new record at the merged address
    lead = LeadFactory(unlinked=True, promoter=home)
    person_url = reverse("dashboard:person", args=[kept.pk])

    for url in [
        reverse("dashboard:promoter", args=[home.pk]),
        reverse("dashboard:lead", args=[lead.pk]),
    ]:
        response = as_bob.get(url)
        assert response.context["person"] == kept, url
        assert person_url in response.content.decode()


def test_a_persons_page_shows_the_payout_batches_of_their_rewards(as_bob, alan) -> None:
    batch = PayoutBatchFactory()
    for promoter, amount in ((alan[0], "10"), (alan[2], "5")):
        reward = RewardFactory(unlinked=True, promoter=promoter, amount=Decimal(amount))
        PayoutItemFactory(batch=batch, reward=reward)
    PayoutItemFactory(batch=batch)  # someone else's
    people_sync()

    response = as_bob.get(
        reverse("dashboard:person", args=[Person.objects.get(key="alan@bletchley.example").pk])
    )

    shares = [(s.batch_id, s.rewards, s.amount) for s in response.context["payouts"]]
    assert shares == [(batch.pk, 2, "15.00 USD")]
