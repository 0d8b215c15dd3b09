"""`/api/v1/` resources, the OpenAPI schema and its Swagger UI; other `/api/` paths: JSON 404."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from referralhub.api import events, payouts, views
from referralhub.errors import catch_all

router = SimpleRouter()
router.register("campaigns", views.CampaignViewSet, basename="campaign")
router.register("promoters", views.PromoterViewSet, basename="promoter")
router.register("promotions", views.PromotionViewSet, basename="promotion")
router.register("leads", views.LeadViewSet, basename="lead")
router.register("conversions", views.ConversionViewSet, basename="conversion")
router.register("rewards", views.RewardViewSet, basename="reward")
router.register("payouts", payouts.PayoutBatchViewSet, basename="payout")
router.register("deliveries", views.DeliveryViewSet, basename="delivery")
router.register(
    "event-subscriptions", events.EventSubscriptionViewSet, basename="event-subscription"
)
router.register("event-deliveries", events.EventDeliveryViewSet, basename="event-delivery")

# The schema documents the API only, not the webhook receivers or the dashboard.
api_patterns = [path("api/v1/", include(router.urls))]


app_name = "api"
urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(patterns=api_patterns), name="schema"),
    # The split view serves its start-up script as a file: the Content-Security-Policy allows no
    # inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    catch_all("No such API endpoint: see /api/docs/."),
]
