from django.urls import path

from dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("referrals/", views.referral_list, name="referrals"),
    path("leads/<int:pk>/", views.lead_detail, name="lead"),
    path("promoters/", views.promoter_list, name="promoters"),
    path("promoters/<int:pk>/", views.promoter_detail, name="promoter"),
    path("rewards/approvals/", views.approval_queue, name="approvals"),
    path("rewards/fulfilments/", views.fulfilment_queue, name="fulfilments"),
    path("rewards/act/", views.reward_act, name="reward_act"),
    path("rewards/export.csv", views.export_approved, name="export"),
    path("rewards/<int:pk>/", views.reward_detail, name="reward"),
    path("firstpromoter/sync/", views.sync_problems, name="sync"),
    path("firstpromoter/sync/retry/", views.sync_retry, name="sync_retry"),
    path("firstpromoter/import/", views.import_start, name="import_start"),
    path("deliveries/", views.delivery_list, name="deliveries"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery"),
    path("deliveries/<int:pk>/replay/", views.delivery_replay, name="delivery_replay"),
    path("api-token/", views.api_token, name="api_token"),
    path("api-token/revoke/", views.api_token_revoke, name="api_token_revoke"),
]
