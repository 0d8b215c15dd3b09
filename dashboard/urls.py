from django.urls import path

from dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("referrals/", views.referral_list, name="referrals"),
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
]
