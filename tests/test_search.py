"""One search for the dashboard and the API: what it finds, and the indexes that serve it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Field, Model

from referralhub import search
from referralhub.models import Conversion, Lead, Promoter, Promotion, Reward
from referralhub.search import SEARCHES, SearchTooLong, search_filter, search_words
from tests.factories import CampaignFactory, ConversionFactory, LeadFactory, PromoterFactory

needs_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm indexes")


@pytest.fixture
def people(db) -> dict[str, object]:
    ada = PromoterFactory(
        first_name="Ada", last_name="Lovelace", company_name="Analytical Engines Ltd"
    )
    grace = PromoterFactory(first_name="Grace", last_name="Hopper", code="COBOL-59")
    promotion = Promotion.objects.create(
        provider="firstpromoter",
        external_id="m1",
        promoter=ada,
        campaign=CampaignFactory(unlinked=True),
        ref_id="ada-spring",
        promo_code="ADAQX10",
    )
    return {
        "ada": ada,
        "grace": grace,
        "charles": LeadFactory(
            unlinked=True,
            promoter=ada,
            promotion=promotion,
            email="charles@babbage.example",
            name="Charles Babbage",
        ),
        "mary": LeadFactory(
            unlinked=True, promoter=grace, email="m.somerville@example.org", username="msomerville"
        ),
        "alan": LeadFactory(
            unlinked=True, promoter=None, email="alan@turing.example", uid="cus_TURING"
        ),
    }


def found(model: type[Model], text: str) -> set[str]:
    rows = model._default_manager.filter(search_filter(model, text))
    return {str(row) for row in rows}


def test_it_finds_a_word_anywhere_in_an_email_in_any_case(people) -> None:
    assert found(Lead, "BABBAGE.exa") == {"charles@babbage.example"}
    assert found(Lead, "example.org") == {"m.somerville@example.org"}


def test_it_finds_names_usernames_and_customer_ids(people) -> None:
    assert found(Lead, "charles bab") == {"charles@babbage.example"}
    assert found(Lead, "msomer") == {"m.somerville@example.org"}
    assert found(Lead, "turing") == {"alan@turing.example"}
    assert found(Lead, "cus_tur") == {"alan@turing.example"}


def test_it_finds_leads_by_their_promoter_and_promotion(people) -> None:
    assert found(Lead, "analytical") == {"charles@babbage.example"}  # the promoter's company
    assert found(Lead, "lovelace") == {"charles@babbage.example"}  # the promoter's name
    assert found(Lead, "cobol") == {"m.somerville@example.org"}  # the promoter's code
    assert found(Lead, "spring") == {"charles@babbage.example"}  # the promotion's ref id
    assert found(Lead, "adaqx10") == {"charles@babbage.example"}  # the promotion's promo code


def test_every_word_must_match_somewhere(people) -> None:
    assert found(Lead, "lovelace charles") == {"charles@babbage.example"}
    assert found(Lead, "lovelace, hopper") == set()
    assert found(Promoter, "grace hopper") == {"Grace Hopper"}
    assert found(Promoter, "  ") == {"Ada Lovelace", "Grace Hopper"}


def test_it_finds_promoters_by_their_promotions(people) -> None:
    assert found(Promoter, "ada-spr") == {"Ada Lovelace"}
    assert found(Promoter, "engines") == {"Ada Lovelace"}
    assert found(Promotion, "lovelace") == {str(Promotion.objects.get())}


def test_it_finds_rewards_and_conversions_by_their_lead_and_promoter(people) -> None:
    reward = Reward.objects.create(
        provider="firstpromoter", external_id="r-77", lead=people["charles"], promoter=None
    )
    conversion = ConversionFactory(promoter=people["grace"], lead=people["mary"], order_id="ORD-5")
    assert set(Reward.objects.filter(search_filter(Reward, "babbage"))) == {reward}
    assert set(Reward.objects.filter(search_filter(Reward, "R-7"))) == {reward}
    assert set(Conversion.objects.filter(search_filter(Conversion, "hopper"))) == {conversion}
    assert set(Conversion.objects.filter(search_filter(Conversion, "ord-"))) == {conversion}


def test_a_word_common_to_many_related_rows_finds_them_all(people, monkeypatch) -> None:
    """Past MAX_RELATED_IDS promoters the lookup is a subquery: the same rows come back."""
    expected = found(Lead, "promoter")  # every promoter's email
    assert expected == {"charles@babbage.example", "m.somerville@example.org"}
    monkeypatch.setattr(search, "MAX_RELATED_IDS", 1)
    assert found(Lead, "promoter") == expected


def test_percent_and_underscore_are_plain_characters(people) -> None:
    assert found(Lead, "%") == set()
    assert found(Lead, "cus_") == {"alan@turing.example"}
    assert found(Lead, "m_s") == set()  # not m.somerville


def test_a_search_too_long_is_refused() -> None:
    assert search_words(" a, b  c ") == ["a", "b", "c"]
    with pytest.raises(SearchTooLong, match="At most 100 characters and 10 words"):
        search_words("x" * 101)
    with pytest.raises(SearchTooLong):
        search_words(" ".join("abcdefghijk"))


def test_it_describes_what_each_list_searches() -> None:
    text = search.describe(Lead)
    assert "its email, name, username, uid, external_id, referred_by_code" in text
    assert "its promoter's email, first_name, last_name, company_name" in text
    assert "its promotion's ref_id, promo_code, customer_promo_code" in text
    assert "its promotions' ref_id" in search.describe(Promoter)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's LIKE")
def test_sqlite_folds_the_case_of_ascii_letters_only(db) -> None:
    """SQLite's LIKE ignores the case of A-Z alone; PostgreSQL's UPPER folds every letter."""
    LeadFactory(unlinked=True, promoter=None, name="Élodie Durand")
    assert found(Lead, "élodie") == set()
    assert len(found(Lead, "Élodie")) == 1


@needs_postgres
def test_postgresql_folds_the_case_of_every_letter(db) -> None:
    LeadFactory(unlinked=True, promoter=None, name="Élodie Durand")
    assert len(found(Lead, "élodie")) == 1


@needs_postgres
def test_every_searched_column_has_a_trigram_index(db) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexdef FROM pg_indexes WHERE indexname LIKE '%%_search'"
        )
        indexes = dict(cursor.fetchall())
    for model, spec in SEARCHES.items():
        definition = indexes[model._meta.db_table]
        assert "USING gin" in definition
        for field in spec.fields:
            searched = model._meta.get_field(field)
            assert isinstance(searched, Field)  # searched columns are plain fields
            assert f"upper(({searched.column})::text) gin_trgm_ops" in definition, (model, field)


@needs_postgres
def test_the_trigram_index_serves_the_query_the_search_builds(people) -> None:
    """With sequential scans off, a plan without the index would mean that the expressions
    Django writes (UPPER(column::text) LIKE ...) do not match the index's."""
    for model, index in ((Lead, "lead_search"), (Promoter, "promoter_search")):
        queryset = model.objects.filter(search.search_filter(model, "babbage"))
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            sql, params = queryset.query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert f"Bitmap Index Scan on {index}" in plan, plan


@needs_postgres
def test_the_migration_analyses_the_tables_it_indexed(db) -> None:
    """The planner needs statistics on the indexed expressions: without them it took a word
    found nowhere for a common one, and read a million leads newest first looking for it."""
    tables = [model._meta.db_table for model in SEARCHES]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables"
            " WHERE relname = ANY(%s) AND last_analyze IS NOT NULL",
            [tables],
        )
        analysed = {row[0] for row in cursor.fetchall()}
    assert analysed == set(tables)


def test_a_word_shorter_than_a_trigram_finds_related_rows_too(people) -> None:
    """No index finds it, so the related row is looked up from each row instead of first."""
    assert found(Lead, "yt") == {"charles@babbage.example"}  # the promoter's "Analytical"
    assert found(Promoter, "qx") == {"Ada Lovelace"}  # a promotion's ADAQX10
