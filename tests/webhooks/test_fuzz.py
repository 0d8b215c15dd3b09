"""Never a 500 for bad input: random JSON, and valid samples with one part replaced by random
JSON, thrown at each provider's endpoint. Any 4xx still has the `{"error", "detail"}` shape."""

from __future__ import annotations

import itertools
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import load_payload
from webhooks.providers.invitereferrals import FIELDS

# Values providers get wrong in real life, and values no database column can hold.
TRICKY_TEXT = st.sampled_from(
    [
        "",
        "\x00",
        "a\ud800b",
        "x" * 300,
        "1e400",
        "NaN",
        "-0",
        "99999.999",
        str(2**40),
        "2023-08-23T11:06:02.663Z",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "cash",
        "referrer_added",
        "reward_unlocked",
        "fulfilment_pending",
    ]
)
TRICKY_NUMBERS = st.sampled_from(
    [0, -1, 2**31, -(2**31) - 1, 2**53, 10**13, 10**14, 10**20, 1e300, 0.00001, 99999.995, 1.5]
)
LEAVES = (
    TRICKY_NUMBERS
    | st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=20)
    | TRICKY_TEXT
)
JSON = st.recursive(
    LEAVES,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12) | TRICKY_TEXT, children, max_size=4)
    ),
    max_leaves=25,
)
FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI failures are reproducible
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SAMPLES = {
    "firstpromoter": [
        "firstpromoter_fulfilment_pending_seed.json",
        "firstpromoter_new_customer_seed.json",
        "firstpromoter_promoter_accepted.json",
        "firstpromoter_reward_created.json",
        "firstpromoter_v2_promoter_created.json",
        "firstpromoter_v2_promoter_campaign_updated.json",
        "firstpromoter_v2_referral_updated.json",
        "firstpromoter_v2_commission_updated.json",
    ],
    "referralrocket": [
        "referralrocket_referrer_added_seed.json",
        "referralrocket_referee_added.json",
        "referralrocket_reward_unlocked.json",
    ],
}


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a document that can be replaced (the root excluded)."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths(child, (*prefix, index))
    return found


def replaced(document: Any, path: tuple, value: Any) -> Any:
    *parents, last = path
    target = document
    for key in parents:
        target = target[key]
    target[last] = value
    return document


UNIQUE = itertools.count(1)
# Values that no column can hold, or of the wrong type.
# Interleaved so that either half holds numbers, text and objects alike.
KILLERS = [2**31, 10**20, "x" * 300, "\x00", "0001-01-01T00:00:00+14:00", "abc", {"a": 1}, [1]]


def fresh(document: dict[str, Any]) -> dict[str, Any]:
    """The document as a new event (a new idempotency key), so it is processed, not repeated."""
    number = next(UNIQUE)
    if "event" in document:
        document["event"]["id"] = 10**9 + number
    elif "event_id" in document:  # FirstPromoter webhooks v2
        document["event_id"] = f"fuzz-{number}"
    else:
        document["updatedAt"] = 1_700_000_000_000 + number
    return document


def assert_no_server_error(response) -> None:
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert set(response.json()) >= {"error", "detail"}


@pytest.fixture
def endpoints(fp_endpoint, rr_endpoint, ir_endpoint) -> dict[str, Any]:
    return {"firstpromoter": fp_endpoint, "referralrocket": rr_endpoint}


@pytest.mark.parametrize("provider", ["firstpromoter", "referralrocket"])
@FUZZ
@given(body=JSON)
def test_it_never_answers_500_to_random_json(endpoints, post_json, provider, body) -> None:
    assert_no_server_error(post_json(endpoints[provider], json.dumps(body)))


@pytest.mark.parametrize("provider", ["firstpromoter", "referralrocket"])
@FUZZ
@given(data=st.data(), value=JSON)
def test_it_never_answers_500_to_a_sample_with_a_random_part(
    endpoints, post_json, provider, data, value
) -> None:
    document = fresh(load_payload(data.draw(st.sampled_from(SAMPLES[provider]))))
    path = data.draw(st.sampled_from(paths(document)))

    body = json.dumps(replaced(document, path, value))

    assert_no_server_error(post_json(endpoints[provider], body))


@pytest.mark.parametrize(
    "name",
    [
        "firstpromoter_fulfilment_pending_seed.json",  # reward, rule, promoter, campaign
        "firstpromoter_new_customer_seed.json",  # lead, promotion, offer
        "firstpromoter_v2_commission_updated.json",  # commission, referral, promoter campaign
        "firstpromoter_v2_promoter_created.json",  # balances, profile, promoter campaigns
        "referralrocket_referrer_added_seed.json",
        "referralrocket_reward_unlocked.json",
    ],
)
def test_it_never_answers_500_whatever_value_a_field_holds(endpoints, post_json, name) -> None:
    endpoint = endpoints[name.split("_", 1)[0]]
    for index, path in enumerate(paths(load_payload(name))):
        # Half the killers per field, a different half for the next one: every field meets
        # numbers, text and objects, and the test stays quick.
        for value in KILLERS[index % 2 :: 2]:
            document = replaced(fresh(load_payload(name)), path, value)

            assert_no_server_error(post_json(endpoint, json.dumps(document)))


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(FIELDS),
        # A query string carries bytes: no unpaired surrogate can reach the server through it.
        (st.text(max_size=30) | TRICKY_TEXT).filter(lambda text: "\ud800" not in text),
        min_size=1,
    ),
    method=st.sampled_from(["get", "post", "put"]),
)
def test_it_never_answers_500_to_random_invitereferrals_parameters(
    client, ir_endpoint, ir_params, params, method
) -> None:
    query = urlencode({**ir_params, **params})
    if method == "get":
        response = client.get(f"{ir_endpoint.path}?{query}")
    else:
        send = getattr(client, method)
        response = send(ir_endpoint.path, query, content_type="application/x-www-form-urlencoded")

    assert_no_server_error(response)
