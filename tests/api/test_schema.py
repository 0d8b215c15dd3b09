"""The OpenAPI document: valid, complete (every operation, parameter and error with an example),
and Swagger UI served from the sidecar's own files."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

OPERATIONS = {
    ("/api/v1/campaigns/", "get"),
    ("/api/v1/campaigns/{id}/", "get"),
    ("/api/v1/promoters/", "get"),
    ("/api/v1/promoters/{id}/", "get"),
    ("/api/v1/promotions/", "get"),
    ("/api/v1/promotions/{id}/", "get"),
    ("/api/v1/leads/", "get"),
    ("/api/v1/leads/{id}/", "get"),
    ("/api/v1/conversions/", "get"),
    ("/api/v1/conversions/{id}/", "get"),
    ("/api/v1/rewards/", "get"),
    ("/api/v1/rewards/{id}/", "get"),
    ("/api/v1/rewards/{id}/approve/", "post"),
    ("/api/v1/rewards/{id}/deny/", "post"),
    ("/api/v1/rewards/{id}/fulfil/", "post"),
    ("/api/v1/rewards/{id}/reopen/", "post"),
    ("/api/v1/rewards/bulk/", "post"),
    ("/api/v1/deliveries/", "get"),
    ("/api/v1/deliveries/{id}/", "get"),
    ("/api/v1/deliveries/{id}/replay/", "post"),
}
PAYOUT_OPERATIONS = {
    ("/api/v1/payouts/", "get"): "200",
    ("/api/v1/payouts/", "post"): "201",
    ("/api/v1/payouts/preview/", "post"): "200",
    ("/api/v1/payouts/{id}/", "get"): "200",
    ("/api/v1/payouts/{id}/mark_paid/", "post"): "200",
    ("/api/v1/payouts/{id}/cancel/", "post"): "200",
    ("/api/v1/payouts/{id}/reverse/", "post"): "200",
    ("/api/v1/payouts/{id}/files/{fmt}/", "get"): "200",
}
EVENT_OPERATIONS = {
    ("/api/v1/event-subscriptions/", "get"): "200",
    ("/api/v1/event-subscriptions/", "post"): "201",
    ("/api/v1/event-subscriptions/{id}/", "get"): "200",
    ("/api/v1/event-subscriptions/{id}/", "put"): "200",
    ("/api/v1/event-subscriptions/{id}/", "patch"): "200",
    ("/api/v1/event-subscriptions/{id}/", "delete"): "204",
    ("/api/v1/event-subscriptions/{id}/rotate-secret/", "post"): "200",
    ("/api/v1/event-deliveries/", "get"): "200",
    ("/api/v1/event-deliveries/{id}/", "get"): "200",
    ("/api/v1/event-deliveries/{id}/replay/", "post"): "200",
    ("/api/v1/event-deliveries/replay/", "post"): "200",
}


@pytest.fixture
def document(client, db) -> dict:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_it_serves_a_valid_openapi_3_document(document):
    assert document["openapi"].startswith("3.")
    validate_schema(document)


def test_it_generates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))


def test_it_documents_exactly_the_api(document):
    found = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert found == OPERATIONS | set(EVENT_OPERATIONS) | set(PAYOUT_OPERATIONS)


def test_it_gives_every_parameter_an_example(document):
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            for parameter in op.get("parameters", []):
                assert "example" in parameter, (path, method, parameter["name"])


def test_it_gives_every_body_and_error_an_example(document):
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            if (path, method) in EVENT_OPERATIONS or (path, method) in PAYOUT_OPERATIONS:
                continue
            codes = set(op["responses"])
            assert {"200", "401", "403", "404"} <= codes, (path, method)
            if method == "post":
                assert "409" in codes, path
                if not path.endswith("replay/"):
                    assert "400" in codes, path
                    body = op["requestBody"]["content"]["application/json"]
                    assert body.get("examples"), path
            for code, response in op["responses"].items():
                content = response["content"]["application/json"]
                assert content.get("examples"), (path, method, code)


def test_it_documents_every_event_route_with_its_errors_and_examples(document):
    for (path, method), success in EVENT_OPERATIONS.items():
        op = document["paths"][path][method]
        codes = set(op["responses"])
        assert {success, "401", "403"} <= codes, (path, method)
        for code, response in op["responses"].items():
            if code != "204":
                assert response["content"]["application/json"].get("examples"), (path, code)
        if method in ("post", "put", "patch") and "requestBody" in op:
            assert "400" in codes, (path, method)


def test_it_documents_every_payout_route_with_its_errors_and_examples(document):
    for (path, method), success in PAYOUT_OPERATIONS.items():
        op = document["paths"][path][method]
        codes = set(op["responses"])
        assert {success, "401", "403"} <= codes, (path, method)
        for code, response in op["responses"].items():
            if code == success and path.endswith("{fmt}/"):
                assert set(response["content"]) == {"text/csv", "application/zip"}
                continue
            assert response["content"]["application/json"].get("examples"), (path, code)
        if method == "post":
            assert {"400", "409"} <= codes or path.endswith("preview/"), path
            assert op["requestBody"]["content"]["application/json"].get("examples"), path


def test_it_documents_the_filters(document):
    names = {p["name"] for p in document["paths"]["/api/v1/rewards/"]["get"]["parameters"]}
    assert {"provider", "campaign", "promoter", "status", "unit", "suspicion"} <= names
    assert {"created_after", "created_before", "updated_after", "updated_before"} <= names
    assert {"search", "ordering", "cursor", "page_size"} <= names
    assert {"paid", "payout"} <= names
    campaign_names = {
        p["name"] for p in document["paths"]["/api/v1/campaigns/"]["get"]["parameters"]
    }
    assert {"page", "page_size"} <= campaign_names


def test_it_serves_swagger_ui_from_its_own_static_files(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    # Every asset from our own static files, none from another host (a CDN). Not a search for
    # "cdn" in the page: its random CSRF token contains those letters about once in 150 runs.
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", html)
    assert assets
    # Its start-up script is a file of its own (the Content-Security-Policy allows no inline one).
    assert all(url.startswith(("/static/", "/api/docs/?script=")) for url in assets), assets
    assert not re.search(r"""["'](?:https?:)?//""", html)
    assert "<script>" not in html
    script = client.get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()


def test_it_documents_every_event_sent_with_an_example(document):
    from referralhub.models import EventType

    webhooks = document["webhooks"]
    assert set(webhooks) == set(EventType.values)
    for name, item in webhooks.items():
        body = item["post"]["requestBody"]["content"]["application/json"]
        (example,) = body["examples"].values()
        assert example["value"]["type"] == name
        assert set(example["value"]) == {"type", "timestamp", "data"}


def test_it_says_or_null_as_openapi_3_1_does(document):
    assert document["openapi"] == "3.1.0"
    assert "nullable" not in str(document)
    listed = document["components"]["schemas"]["PaginatedCampaignList"]["properties"]["next"]
    assert listed["type"] == ["string", "null"]


def test_a_nullable_json_field_takes_null_once(document):
    custom_fields = document["components"]["schemas"]["Lead"]["properties"]["custom_fields"]
    assert "oneOf" not in custom_fields


def test_it_says_how_to_authenticate(document):
    description = document["info"]["description"]
    assert "## Authentication" in description
    assert "Authorization: Token <your key>" in description
    assert "/dashboard/api-token/" in description
    assert "referralhub.add_apitoken" in description
    scheme = document["components"]["securitySchemes"]["tokenAuth"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert "/dashboard/api-token/" in scheme["description"]
    assert {"tokenAuth": []} in document["paths"]["/api/v1/leads/"]["get"]["security"]


def test_it_says_what_a_search_looks_in(document):
    parameters = document["paths"]["/api/v1/leads/"]["get"]["parameters"]
    (search,) = [p for p in parameters if p["name"] == "search"]
    assert "its promoter's email, first_name, last_name, company_name" in search["description"]


def test_a_rewards_payout_and_provider_flag_have_their_own_types(document) -> None:
    fields = document["components"]["schemas"]["Reward"]["properties"]
    assert fields["mark_fulfilled_at_provider"]["type"] == "boolean"
    assert {"$ref": "#/components/schemas/RewardPayout"} in fields["payout"]["oneOf"]
