"""One search for the dashboard and the API: the words of a search, each found anywhere in a row.

Every word must match (so "ada lovelace" finds Ada Lovelace, whose names are two columns); a word
matches a row when one of its columns contains it, whatever the case, or when a row it points to
does (a lead is found by its promoter's company, or by its promotion's ref id). What each list
searches is declared once, in `SEARCHES`, and the API's `search` parameter and the dashboard's
search box both go through `search_filter`.

On PostgreSQL, trigram indexes (pg_trgm, migration 0011) serve the substring matches. The rows a
word finds through a relation are looked up first and compared by id: an OR over a subquery
would make PostgreSQL read every lead. A word that finds more than `MAX_RELATED_IDS` of them is
common enough to be found among the newest rows, and a word shorter than a trigram has no index
to find it: each row then looks its related row up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import reduce
from operator import and_, or_

from django.db import models
from django.db.models import Exists, OuterRef, Q

from referralhub.models import Conversion, Lead, Person, Promoter, Promotion, Reward

MAX_SEARCH = 100  # characters
MAX_SEARCH_TERMS = 10  # words
MAX_RELATED_IDS = 1000
TRIGRAM = 3  # pg_trgm indexes find words of at least three characters
_WORDS = re.compile(r"[\s,]+")

LEAD_FIELDS = ("email", "name", "username", "uid", "external_id", "referred_by_code")
PROMOTER_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "company_name",
    "paypal_email",
    "default_ref_id",
    "code",
    "external_id",
)
PROMOTION_FIELDS = ("ref_id", "promo_code", "customer_promo_code")


@dataclass(frozen=True)
class Related:
    """Rows of `model` whose `fields` contain the word, compared through `column` (a foreign
    key of the searched row, or its `pk`) with `key` (the model's column it points to).
    `whose` names them in the documentation: "promoter's"."""

    column: str
    model: type[models.Model]
    fields: tuple[str, ...]
    whose: str
    key: str = "pk"


@dataclass(frozen=True)
class Search:
    fields: tuple[str, ...]
    related: tuple[Related, ...] = ()


SEARCHES: dict[type[models.Model], Search] = {
    Lead: Search(
        LEAD_FIELDS,
        (
            Related("promoter_id", Promoter, PROMOTER_FIELDS, "promoter's"),
            Related("promotion_id", Promotion, PROMOTION_FIELDS, "promotion's"),
        ),
    ),
    # A promoter is found by the ref ids and promo codes of its promotions too.
    Promoter: Search(
        PROMOTER_FIELDS,
        (Related("pk", Promotion, PROMOTION_FIELDS, "promotions'", key="promoter_id"),),
    ),
    Promotion: Search(
        PROMOTION_FIELDS, (Related("promoter_id", Promoter, PROMOTER_FIELDS, "promoter's"),)
    ),
    Reward: Search(
        ("external_id", "sale_external_id"),
        (
            Related("lead_id", Lead, LEAD_FIELDS, "lead's"),
            Related("promoter_id", Promoter, PROMOTER_FIELDS, "promoter's"),
            Related("promotion_id", Promotion, PROMOTION_FIELDS, "promotion's"),
        ),
    ),
    # A person is found by what its promoters, at every provider, and their promotions say.
    Person: Search(
        ("key",),
        (
            Related("key", Promoter, PROMOTER_FIELDS, "promoters'", key="person_key"),
            Related(
                "key", Promotion, PROMOTION_FIELDS, "promoters' promotions'", "promoter__person_key"
            ),
        ),
    ),
    Conversion: Search(
        ("order_id", "external_id"),
        (
            Related("lead_id", Lead, LEAD_FIELDS, "lead's"),
            Related("promoter_id", Promoter, PROMOTER_FIELDS, "promoter's"),
        ),
    ),
}


class SearchTooLong(ValueError):
    def __init__(self) -> None:
        super().__init__(f"At most {MAX_SEARCH} characters and {MAX_SEARCH_TERMS} words.")


def search_words(text: str) -> list[str]:
    """The words of a search; SearchTooLong beyond what one search may ask."""
    words = [w for w in _WORDS.split(text.strip()) if w]
    if len(text) > MAX_SEARCH or len(words) > MAX_SEARCH_TERMS:
        raise SearchTooLong
    return words


def search_filter(model: type[models.Model], text: str) -> Q:
    """The rows of `model` that every word of `text` matches (all rows for an empty search)."""
    search = SEARCHES[model]
    return reduce(and_, (_word_filter(search, word) for word in search_words(text)), Q())


def describe(model: type[models.Model]) -> str:
    """What a search of `model` looks in, in words (for the API's documentation)."""
    search = SEARCHES[model]
    places = [f"its {', '.join(search.fields)}"]
    places += [f"its {r.whose} {', '.join(r.fields)}" for r in search.related]
    return (
        "Words separated by spaces, each found anywhere, in any case, in "
        + "; or in ".join(places)
        + f". At most {MAX_SEARCH} characters and {MAX_SEARCH_TERMS} words."
    )


def _word_filter(search: Search, word: str) -> Q:
    match = _contains(search.fields, word)
    for related in search.related:
        if (through := _related_filter(related, word)) is not None:
            match |= through
    return match


def _contains(fields: tuple[str, ...], word: str) -> Q:
    return reduce(or_, (Q(**{f"{field}__icontains": word}) for field in fields))


def _related_filter(related: Related, word: str) -> Q | None:
    """None when no related row contains the word."""
    rows = related.model._default_manager.filter(_contains(related.fields, word))
    if len(word) >= TRIGRAM:  # shorter, no trigram index can find them: the whole table is read
        keys = rows.exclude(**{related.key: None}).values_list(related.key, flat=True)
        if related.key != "pk":
            keys = keys.distinct()
        found = list(keys[: MAX_RELATED_IDS + 1])
        if len(found) <= MAX_RELATED_IDS:
            return Q(**{f"{related.column}__in": found}) if found else None
    # Per row, its own related row: an IN (or an EXISTS, which PostgreSQL hashes) would read
    # every match first, and a million leads contain ".com". A foreign key is joined.
    if related.key == "pk":
        relation = related.column.removesuffix("_id")
        return _contains(tuple(f"{relation}__{field}" for field in related.fields), word)
    return Q(Exists(rows.filter(**{related.key: OuterRef(related.column)})))
