from django.urls import path

from referralhub.errors import catch_all
from webhooks.views import WebhookView

app_name = "webhooks"
urlpatterns = [
    path("<slug:provider>/<str:token>/", WebhookView.as_view(), name="receive"),
    # The same URL pasted without its slash: Django would answer a redirect, which providers do
    # not follow with their POST.
    path("<slug:provider>/<str:token>", WebhookView.as_view()),
    catch_all(
        "No such webhook endpoint: the URL is /webhooks/<provider>/<token>/.", secret_path=True
    ),
]
