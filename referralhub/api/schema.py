"""OpenAPI documentation helpers: error responses and examples for every operation.

Bodies get hand-written examples (below); query and path parameters that have none get one from
`PARAMETER_EXAMPLES` or, failing that, from their schema (first enum value, a date-time...), so
every parameter in `/api/schema/` carries an example without repeating them in each view.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view

from referralhub.api.bodies import (
    ApproveBody,
    BulkBody,
    BulkResult,
    DenyBody,
    ErrorSerializer,
    FulfilBody,
    ReopenBody,
    ReplayResult,
)
from referralhub.api.examples import DELIVERY, REWARD
from referralhub.api.serializers import RewardSerializer

PARAMETER_EXAMPLES: dict[str, Any] = {
    "id": 12,
    "search": "jane@example.com",
    "event_type": "reward_created",
}
# Pagination and ordering parameters refuse an empty value; filters read it as absent.
NOT_EMPTY = frozenset({"page", "page_size", "ordering"})
_BY_TYPE: dict[str, Any] = {"integer": 1, "boolean": True, "string": "example"}
_BY_FORMAT: dict[str, Any] = {"date-time": "2026-11-01T00:00:00Z", "date": "2026-11-01"}


class ApiAutoSchema(AutoSchema):
    def get_tags(self) -> list[str]:
        # /api/v1/<resource>/...: one tag per resource, as Swagger UI groups by tag.
        return [self.path.strip("/").split("/")[2]]

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        for parameter in (operation or {}).get("parameters", []):
            if "example" not in parameter and "examples" not in parameter:
                parameter["example"] = _parameter_example(parameter)
            if parameter["in"] == "query" and parameter["name"] not in NOT_EMPTY:
                # django-filter reads `?status=` as "no filter", as HTML filter forms send it.
                parameter["allowEmptyValue"] = True
        return operation


def _parameter_example(parameter: dict[str, Any]) -> Any:
    schema = parameter.get("schema", {})
    if parameter["name"] in PARAMETER_EXAMPLES:
        return PARAMETER_EXAMPLES[parameter["name"]]
    if schema.get("enum"):
        return next(v for v in schema["enum"] if v not in ("", None))
    if schema.get("format") in _BY_FORMAT:
        return _BY_FORMAT[schema["format"]]
    return _BY_TYPE.get(schema.get("type", "string"), "example")


_ERRORS: dict[int, tuple[str, str, Any]] = {
    400: ("Invalid input", "invalid", {"provider": ["Select a valid choice. nope is not one."]}),
    401: ("No credentials", "not_authenticated", "Authentication credentials were not provided."),
    403: ("Not allowed", "permission_denied", "You do not have permission to act on rewards."),
    404: ("Not found", "not_found", "No Reward matches the given query."),
    409: ("Transition refused", "transition_not_allowed", {"12": "already denied"}),
}


def errors(*codes: int, **examples: OpenApiExample) -> dict[int, OpenApiResponse]:
    """Error responses for `codes`, each with the generic example (or `e<code>=` to replace it)."""
    responses = {}
    for code in codes:
        summary, error, detail = _ERRORS[code]
        example = examples.get(f"e{code}") or OpenApiExample(
            summary, value={"error": error, "detail": detail}
        )
        responses[code] = OpenApiResponse(ErrorSerializer, description=summary, examples=[example])
    return responses


READ_ERRORS = (400, 401, 403, 404)
DETAIL_ERRORS = (401, 403, 404)
ACTION_ERRORS = (400, 401, 403, 404, 409)


def example(name: str, value: dict[str, Any]) -> list[OpenApiExample]:
    return [OpenApiExample(name, value=value, response_only=True)]


def read_docs(name: str, serializer: type, value: dict[str, Any]) -> Any:
    """List and retrieve documentation shared by every resource."""
    return extend_schema_view(
        list=extend_schema(
            summary=f"List {name}",
            examples=example(name, value),
            responses={200: serializer, **errors(*READ_ERRORS)},
        ),
        retrieve=extend_schema(
            summary=f"One of the {name}",
            examples=example(name, value),
            responses={200: serializer, **errors(*DETAIL_ERRORS)},
        ),
    )


def _action_docs(action: str, body: type, text: str, request: dict, conflict: str) -> Any:
    return extend_schema(
        summary=f"{action.capitalize()} a reward",
        description=text,
        request=body,
        responses={
            200: RewardSerializer,
            **errors(
                *ACTION_ERRORS,
                e409=OpenApiExample(
                    "Refused", value={"error": "transition_not_allowed", "detail": {"12": conflict}}
                ),
            ),
        },
        examples=[
            OpenApiExample(action.capitalize(), value=request, request_only=True),
            *example("Reward after the action", REWARD),
        ],
    )


APPROVE_DOCS = _action_docs(
    "approve",
    ApproveBody,
    "Approve a pending reward. The note is optional. A non-monetary reward (free months, credits, "
    "points) then waits for fulfilment (`fulfilment: pending`), whether or not its provider asks.",
    {"note": "checked the order"},
    "already denied",
)
DENY_DOCS = _action_docs(
    "deny",
    DenyBody,
    "Deny a pending reward; a reason is required.",
    {"reason": "self-referral: same IP as the promoter"},
    "already approved",
)
REOPEN_DOCS = _action_docs(
    "reopen",
    ReopenBody,
    "Take back an approval or a denial: the reward is pending again, back in the approvals queue, "
    "and its next decision is sent as usual. A reason is required. Refused (409) for a reward "
    "already paid or fulfilled. No provider is told (FirstPromoter's API cannot set a commission "
    "back to pending): set it back to pending at the provider too. No event is sent.",
    {"reason": "approved by mistake: the order was refunded"},
    "already paid",
)
FULFIL_DOCS = _action_docs(
    "fulfil",
    FulfilBody,
    "Mark an approved reward fulfilled; FirstPromoter's next `fulfilment_pending` for it is then "
    "answered 200. A provider that never asks is not told (`mark_fulfilled_at_provider: true`): "
    "mark it fulfilled there too. The note is optional.",
    {"note": "voucher sent by email"},
    "denied rewards cannot be fulfilled",
)


BULK_DOCS = extend_schema(
    summary="Approve, deny or fulfil up to 100 rewards at once",
    description="All or nothing: if any reward cannot make the move, none changes and the "
    "answer (404 or 409) lists the refused ids with the reason for each.",
    request=BulkBody,
    responses={
        200: BulkResult,
        **errors(
            *ACTION_ERRORS,
            e404=OpenApiExample(
                "Unknown ids", value={"error": "not_found", "detail": {"99": "no such reward"}}
            ),
            e409=OpenApiExample(
                "Refused",
                value={
                    "error": "transition_not_allowed",
                    "detail": {"12": "already approved", "13": "already denied"},
                },
            ),
        ),
    },
    examples=[
        OpenApiExample(
            "Deny two",
            value={"action": "deny", "ids": [12, 13], "reason": "self-referral"},
            request_only=True,
        ),
        OpenApiExample(
            "Done",
            value={"action": "approve", "count": 1, "rewards": [REWARD]},
            response_only=True,
        ),
    ],
)


REPLAY_DOCS = extend_schema(
    summary="Process a stored delivery again",
    description="For failed, rejected, ignored or stuck deliveries; a processed one is refused "
    "with 409 since it already had its effect. Recorded in the audit trail.",
    request=None,
    responses={
        200: ReplayResult,
        **errors(
            *DETAIL_ERRORS,
            409,
            e409=OpenApiExample(
                "Already processed",
                value={
                    "error": "transition_not_allowed",
                    "detail": {"41": "already processed"},
                },
            ),
        ),
    },
    examples=[
        OpenApiExample(
            "Replayed",
            value={
                "delivery": {**DELIVERY, "status": "processed", "response_status": 200},
                "answer": {
                    "status_code": 200,
                    "body": {"delivery_id": 41, "status": "processed"},
                },
            },
            response_only=True,
        )
    ],
)


def nullable_as_openapi_3_1(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: OpenAPI 3.1 (whose `webhooks` list the events out) says "or null"
    with a type list; DRF's pagination schemas and hand-written fields still say
    `nullable: true`, which 3.1 ignores, so a null `next` would break the document. And a
    nullable JSON field comes out as `oneOf: [{}, null]`, which null itself breaks."""

    def fix(node: Any) -> None:
        if isinstance(node, dict):
            if node.pop("nullable", False) and isinstance(node.get("type"), str):
                node["type"] = [node["type"], "null"]
            if {} in node.get("oneOf", []):
                # "any value, or null" (a nullable JSON field): null would match both, and
                # `oneOf` wants exactly one. Any value already includes null.
                del node["oneOf"]
            for value in node.values():
                fix(value)
        elif isinstance(node, list):
            for value in node:
                fix(value)

    fix(result)
    return result


AUTHENTICATION = """

## Authentication

Every request needs credentials; without them the answer is 401.

- **A token**, for scripts: send it in the `Authorization` header, after the word `Token`:
  `curl -H "Authorization: Token <your key>" https://hub.example.com/api/v1/leads/`.
  Staff with the permission *Can add API token* (`referralhub.add_apitoken`) create their own on
  the dashboard's **API** page (`/dashboard/api-token/`), which shows the key once; they replace or
  revoke it there, and an administrator can revoke any token in the admin. In this page's
  **Authorize** dialog, type `Token ` and the key.
- **The dashboard's session**, in a browser: logged in to the dashboard, these pages and the
  browsable API use its cookie (a POST needs the CSRF token as well).

A token acts as its user: reading a resource needs its view permission (`referralhub.view_lead`,
…); the webhook inbox, approving or denying a reward, fulfilling one and replaying a delivery
need staff status and, in that order, `webhooks.view_webhookdelivery`,
`referralhub.approve_reward`, `referralhub.fulfil_reward` and `webhooks.change_webhookdelivery`.
Anything else is answered 403.
"""
TOKEN_SCHEME = (
    "The word `Token`, a space and your key: `Token <your key>`. Staff with the permission to "
    "make one create theirs on the dashboard's API page (`/dashboard/api-token/`)."
)


def describe_authentication(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A postprocessing hook: how to authenticate, in the document's description and in its
    token scheme (drf-spectacular names it `tokenAuth`)."""
    info = result.setdefault("info", {})
    info["description"] = info.get("description", "") + AUTHENTICATION
    schemes = result.get("components", {}).get("securitySchemes", {})
    if "tokenAuth" in schemes:
        schemes["tokenAuth"]["description"] = TOKEN_SCHEME
    return result
