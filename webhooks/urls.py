from django.urls import path

from webhooks.views import WebhookView

app_name = "webhooks"
urlpatterns = [
    path("<slug:provider>/<str:token>/", WebhookView.as_view(), name="receive"),
]
