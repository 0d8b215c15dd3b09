"""People: the humans behind promoters, one across FirstPromoter, InviteReferrals and Referral
Rocket."""

from __future__ import annotations

from django.db import models
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Concat, NullIf


class Person(models.Model):
    """One human, known by the key of an email address (`referralhub.addresses.address_key`).

    A promoter belongs to the person whose `key` equals its `Promoter.person_key`: promoters with
    the same address at several providers are one person with no query at ingest (the mirror
    writes the key with the address). Addresses that differ are one person only when staff merge
    them: the merged person points at the one it joined (`merged_into`, never more than one step:
    the person merged into is never itself merged). A split clears it.

    Rows are created by `referralhub.people.people_sync`, one statement for every new key, not
    by the webhooks. To group promoters by person (payout lines, totals), annotate them with
    `person_key()`: it needs no `Person` row, follows merges, and gives a promoter without an
    address a key of its own::

        Reward.objects.values(person=person_key("promoter__")).annotate(total=Sum("amount"))

    and `referralhub.people.people_by_key(keys)` gives the `Person` (for its page) of each key.
    """

    key = models.CharField(max_length=800, unique=True, help_text="The address, case-folded.")
    skeleton = models.CharField(
        max_length=800, help_text="What the address looks like (look-alikes)."
    )
    mixes_scripts = models.BooleanField(
        default=False, help_text="Letters of two scripts in one part of the address."
    )
    merged_into = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="merged"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "people"
        ordering = ["key"]
        permissions = [("merge_person", "Can merge and split people")]
        indexes = [models.Index(fields=["skeleton"], name="person_skeleton")]
        constraints = [
            models.CheckConstraint(condition=~Q(key=""), name="person_key_not_empty"),
            models.CheckConstraint(
                condition=~Q(merged_into=F("pk")), name="person_not_merged_into_itself"
            ),
        ]

    def __str__(self) -> str:
        return self.key


def person_key(through: str = "") -> Coalesce:
    """The key of the person behind a promoter, for `.values()` and `.annotate()`: the key of the
    person it was merged into, or its own address key, or for a promoter with no address
    "promoter <id>" (a person of its own). `through` reaches the promoter from another model,
    e.g. "promoter__" from a reward."""
    own = F(f"{through}person_key")
    merged = Person.objects.filter(key=OuterRef(f"{through}person_key"), merged_into__isnull=False)
    return Coalesce(
        Subquery(merged.values("merged_into__key")[:1]),
        NullIf(own, Value("")),
        Concat(Value("promoter "), F(f"{through}pk"), output_field=models.CharField()),
        output_field=models.CharField(),
    )
