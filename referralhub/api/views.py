"""Thin viewsets: querysets, filters and permissions here; every state change in the services."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.decorators import method_decorator
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, ParseError, ValidationError
from rest_framework.filters import SearchFilter
from rest_framework.pagination import BasePagination
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from referralhub.api import bodies, examples, filters
from referralhub.api import schema as docs
from referralhub.api import serializers as s
from referralhub.api.pagination import Cursor, PagePagination, ReceivedCursor
from referralhub.api.permissions import CanActOnRewards, CanReplay, CanView, StaffCanView
from referralhub.errors import nul_params
from referralhub.models import Campaign, Conversion, Lead, Promoter, Promotion, Reward
from referralhub.payouts.selectors import with_payout
from referralhub.search import SearchTooLong, search_words
from referralhub.services import (
    Action,
    RewardNotFound,
    TransitionNotAllowed,
    rewards_act,
)
from webhooks.models import WebhookDelivery
from webhooks.providers.firstpromoter.push import with_sync_state
from webhooks.replays import NotReplayable, delivery_replay

PAGING_PARAMETERS = ("page_query_param", "page_size_query_param", "cursor_query_param")
_RULES = ("offer", "referral_reward", "promotion_reward", "target_reward")
# The referral lists search as the dashboard does; campaigns and deliveries by their own fields.
HUB_SEARCH = [DjangoFilterBackend, filters.HubSearch, filters.StrictOrdering]


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "transition_not_allowed"
    default_detail = "This transition is not allowed."


class JSONBodyParser(JSONParser):
    """DRF's JSON parser, with a body nested too deeply for Python's parser refused as 400."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:  # not a ValueError, so DRF's parser lets it through as a 500
            raise ParseError("JSON parse error - the body is nested too deeply.") from None


class ReadViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [CanView]
    filter_backends = [DjangoFilterBackend, SearchFilter, filters.StrictOrdering]
    parser_classes = [JSONBodyParser]  # one request format to document, validate and test
    pagination_class: type[BasePagination] = PagePagination
    ordering = ("-created", "-id")
    ordering_fields: tuple[str, ...] = ("id", "created", "updated")
    # Ids are 64-bit: anything longer cannot exist, and would overflow the database's integers.
    lookup_value_regex = r"[0-9]{1,18}"
    schema = docs.ApiAutoSchema()

    # DRF's browsable API (these URLs opened in a browser) has inline styles; no script.
    @method_decorator(csp_update({"style-src": [SELF, UNSAFE_INLINE]}))
    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # The API speaks UTC whatever the staff's TIME_ZONE: times come back in Z, and a time or
        # a date given without an offset is UTC, so other systems never depend on that setting.
        with timezone.override(UTC):
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        _check_query(request)
        if self.action is None:
            return  # a method this URL does not take (TRACE): DRF answers 405 next
        if unknown := sorted(set(request.query_params) - self.known_parameters()):
            # A misspelt filter (?stauts=pending) would otherwise return the whole list, which
            # a script could act on as if it were the filtered one.
            known = ", ".join(sorted(self.known_parameters()))
            raise ValidationError(
                {name: [f"Unknown query parameter. This URL takes: {known}."] for name in unknown}
            )

    def known_parameters(self) -> set[str]:
        """The query parameters this request's action reads: for a list, its filters, paging,
        search and ordering; for anything else only the response format."""
        known = {api_settings.URL_FORMAT_OVERRIDE}
        if self.action != "list":
            return known
        if filterset_class := getattr(self, "filterset_class", None):
            known |= filters.filterset_parameters(filterset_class)
        if paginator := self.paginator:
            known |= {
                getattr(paginator, attribute)
                for attribute in PAGING_PARAMETERS
                if getattr(paginator, attribute, None)
            }
        if getattr(self, "search_fields", None) or filters.HubSearch in self.filter_backends:
            known.add(api_settings.SEARCH_PARAM)
        known.add(api_settings.ORDERING_PARAM)
        return known


def _check_query(request: Request) -> None:
    """Refuse what the database would choke on: NUL bytes and unbounded searches."""
    if bad := nul_params(request.query_params):
        raise ValidationError({bad[0].replace("\x00", ""): ["NUL characters are not allowed."]})
    try:
        search_words(request.query_params.get("search", ""))
    except SearchTooLong as exc:
        raise ValidationError({"search": [str(exc)]}) from None


@docs.read_docs("campaigns", s.CampaignSerializer, examples.CAMPAIGN)
class CampaignViewSet(ReadViewSet):
    queryset = Campaign.objects.select_related(*_RULES)
    serializer_class = s.CampaignSerializer
    filterset_class = filters.CampaignFilter
    search_fields = ("name", "external_id")
    ordering_fields = ("id", "created", "updated", "name")


@docs.read_docs("promoters", s.PromoterSerializer, examples.PROMOTER)
class PromoterViewSet(ReadViewSet):
    queryset = Promoter.objects.all()
    serializer_class = s.PromoterSerializer
    filterset_class = filters.PromoterFilter
    filter_backends = HUB_SEARCH
    ordering_fields = ("id", "created", "updated", "email")


@docs.read_docs("promotions", s.PromotionSerializer, examples.PROMOTION)
class PromotionViewSet(ReadViewSet):
    queryset = Promotion.objects.select_related(*(f"current_{r}" for r in _RULES))
    serializer_class = s.PromotionSerializer
    filterset_class = filters.PromotionFilter
    filter_backends = HUB_SEARCH
    ordering_fields = ("id", "created", "updated", "ref_id")


@docs.read_docs("leads", s.LeadSerializer, examples.LEAD)
class LeadViewSet(ReadViewSet):
    queryset = Lead.objects.select_related("promoter")
    serializer_class = s.LeadSerializer
    filterset_class = filters.LeadFilter
    pagination_class = Cursor
    filter_backends = HUB_SEARCH


@docs.read_docs("conversions", s.ConversionSerializer, examples.CONVERSION)
class ConversionViewSet(ReadViewSet):
    queryset = Conversion.objects.select_related("promoter", "lead")
    serializer_class = s.ConversionSerializer
    filterset_class = filters.ConversionFilter
    filter_backends = HUB_SEARCH


_REWARD_RELATED = ("promoter", "lead", "campaign", "rule", "decided_by", "fulfilled_by")


def _act(request: Request, action_name: Action, ids: list[int], text: str) -> list[Reward]:
    """Run the service and say what it refused in the API's terms (404, 409, 400)."""
    try:
        changed = rewards_act(action=action_name, reward_ids=ids, actor=request.user, text=text)
    except RewardNotFound as exc:
        raise NotFound({str(pk): "no such reward" for pk in exc.missing}) from exc
    except TransitionNotAllowed as exc:
        raise Conflict({str(pk): reason for pk, reason in exc.errors.items()}) from exc
    except ValueError as exc:
        raise ValidationError({"non_field_errors": [str(exc)]}) from exc
    pks = [r.pk for r in changed]
    return list(_rewards().filter(pk__in=pks).order_by("pk"))


def _rewards() -> QuerySet[Reward]:
    """Rewards as the API shows them: with their FirstPromoter sync state and payout batch."""
    return with_payout(with_sync_state(Reward.objects.select_related(*_REWARD_RELATED)))


@docs.read_docs("rewards", s.RewardSerializer, examples.REWARD)
class RewardViewSet(ReadViewSet):
    queryset = _rewards()
    serializer_class = s.RewardSerializer
    filterset_class = filters.RewardFilter
    pagination_class = Cursor
    filter_backends = HUB_SEARCH

    def _single(
        self, request: Request, pk: str, action: Action, body: type, field: str
    ) -> Response:
        # Who may act is checked before the body is read: a caller without the right gets 403.
        data = body(data=request.data)
        data.is_valid(raise_exception=True)
        text = data.validated_data.get(field, "")
        (reward,) = _act(request, action, [int(pk)], text)
        return Response(s.RewardSerializer(reward, context=self.get_serializer_context()).data)

    @docs.APPROVE_DOCS
    @action(detail=True, methods=["post"], permission_classes=[CanActOnRewards])
    def approve(self, request: Request, pk: str) -> Response:
        return self._single(request, pk, "approve", bodies.ApproveBody, "note")

    @docs.DENY_DOCS
    @action(detail=True, methods=["post"], permission_classes=[CanActOnRewards])
    def deny(self, request: Request, pk: str) -> Response:
        return self._single(request, pk, "deny", bodies.DenyBody, "reason")

    @docs.REOPEN_DOCS
    @action(detail=True, methods=["post"], permission_classes=[CanActOnRewards])
    def reopen(self, request: Request, pk: str) -> Response:
        return self._single(request, pk, "reopen", bodies.ReopenBody, "reason")

    @docs.FULFIL_DOCS
    @action(detail=True, methods=["post"], permission_classes=[CanActOnRewards])
    def fulfil(self, request: Request, pk: str) -> Response:
        return self._single(request, pk, "fulfil", bodies.FulfilBody, "note")

    @docs.BULK_DOCS
    @action(detail=False, methods=["post"], permission_classes=[CanActOnRewards])
    def bulk(self, request: Request) -> Response:
        data = bodies.BulkBody(data=request.data)
        data.is_valid(raise_exception=True)
        action_name = data.validated_data["action"]
        rewards = _act(request, action_name, data.validated_data["ids"], data.text)
        context = self.get_serializer_context()
        result = {"action": action_name, "count": len(rewards), "rewards": rewards}
        return Response(bodies.BulkResult(result, context=context).data)


@docs.read_docs("deliveries", s.DeliverySerializer, examples.DELIVERY)
class DeliveryViewSet(ReadViewSet):
    queryset = WebhookDelivery.objects.all()
    serializer_class = s.DeliverySerializer
    filterset_class = filters.DeliveryFilter
    permission_classes = [StaffCanView]
    pagination_class = ReceivedCursor
    ordering = ("-received_at", "-id")
    ordering_fields = ("id", "received_at")
    search_fields = ("idempotency_key", "event_type")

    @docs.REPLAY_DOCS
    @action(detail=True, methods=["post"], permission_classes=[CanReplay])
    def replay(self, request: Request, pk: str) -> Response:
        delivery = self.get_object()
        try:
            answer = delivery_replay(delivery=delivery, actor=request.user)
        except NotReplayable:
            raise Conflict({str(delivery.pk): f"already {delivery.status}"}) from None
        result = {
            "delivery": delivery,
            "answer": {"status_code": answer.status_code, "body": answer.body},
        }
        return Response(bodies.ReplayResult(result).data)
