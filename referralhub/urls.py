from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from referralhub.metrics import metrics_view

# /healthz is answered by referralhub.health.HealthCheckMiddleware, before any of these.
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard:overview", permanent=False)),
    path("admin/", admin.site.urls),
    path("accounts/", include("referralhub.accounts")),
    path("webhooks/", include("webhooks.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("api/", include("referralhub.api.urls")),
    path("metrics", metrics_view, name="metrics"),
]

handler400 = "referralhub.errors.bad_request"
handler500 = "referralhub.errors.server_error"
