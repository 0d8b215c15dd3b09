from django.urls import path

from referralhub.errors import catch_all
from webhooks.views import WebhookView

app_name = "webhooks"
# A token is secrets.token_urlsafe(): [A-Za-z0-9_-], the slug alphabet. Anything else (a NUL,
# which PostgreSQL text cannot hold, a dot, a percent sign) is no token and reaches the catch-all's
# 404 without a query.
urlpatterns = [
    path("<slug:provider>/<slug:token>/", WebhookView.as_view(), name="receive"),
    # The same URL pasted without its slash: Django would answer a redirect, which providers do
    # not follow with their POST.
    path("<slug:provider>/<slug:token>", WebhookView.as_view()),
    catch_all(
        "No such webhook endpoint: the URL is /webhooks/<provider>/<token>/.", secret_path=True
    ),
]
