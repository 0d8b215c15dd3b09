from django.urls import path

from dashboard import views
from dashboard.views import events, payouts, people

app_name = "dashboard"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("referrals/", views.referral_list, name="referrals"),
    path("leads/<int:pk>/", views.lead_detail, name="lead"),
    path("promoters/", views.promoter_list, name="promoters"),
    path("promoters/<int:pk>/", views.promoter_detail, name="promoter"),
    path("people/", people.person_list, name="people"),
    path("people/<int:pk>/", people.person_detail, name="person"),
    path("people/<int:pk>/merge/", people.person_merge_view, name="person_merge"),
    path("people/<int:pk>/split/", people.person_split_view, name="person_split"),
    path("rewards/approvals/", views.approval_queue, name="approvals"),
    path("rewards/approvals/approve-all/", views.approve_all, name="approve_all"),
    path("rewards/bulk-approvals/<int:pk>/", views.bulk_approval_detail, name="bulk_approval"),
    path("rewards/fulfilments/", views.fulfilment_queue, name="fulfilments"),
    path("rewards/act/", views.reward_act, name="reward_act"),
    path("rewards/deny/", views.reward_deny, name="reward_deny"),
    path("rewards/export.csv", views.export_approved, name="export"),
    path("rewards/<int:pk>/", views.reward_detail, name="reward"),
    path("payouts/", payouts.payout_list, name="payouts"),
    path("payouts/new/", payouts.payout_new, name="payout_new"),
    path("payouts/<int:pk>/", payouts.payout_detail, name="payout"),
    path("payouts/<int:pk>/files/<slug:fmt>/", payouts.payout_file, name="payout_file"),
    path("payouts/<int:pk>/pay/", payouts.payout_act, {"act": "pay"}, name="payout_pay"),
    path("payouts/<int:pk>/cancel/", payouts.payout_act, {"act": "cancel"}, name="payout_cancel"),
    path(
        "payouts/<int:pk>/reverse/", payouts.payout_act, {"act": "reverse"}, name="payout_reverse"
    ),
    path("firstpromoter/sync/", views.sync_problems, name="sync"),
    path("firstpromoter/sync/retry/", views.sync_retry, name="sync_retry"),
    path("firstpromoter/import/", views.import_start, name="import_start"),
    path("deliveries/", views.delivery_list, name="deliveries"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery"),
    path("deliveries/<int:pk>/replay/", views.delivery_replay, name="delivery_replay"),
    path("events/", events.subscription_list, name="event_subscriptions"),
    path("events/<int:pk>/", events.subscription_detail, name="event_subscription"),
    path("events/<int:pk>/rotate/", events.subscription_rotate, name="event_rotate"),
    path("events/<int:pk>/delete/", events.subscription_delete, name="event_delete"),
    path("events/<int:pk>/replay/", events.subscription_replay, name="event_replay"),
    path("events/deliveries/<int:pk>/", events.delivery_detail, name="event_delivery"),
    path(
        "events/deliveries/<int:pk>/replay/",
        events.delivery_replay,
        name="event_delivery_replay",
    ),
    path("api-token/", views.api_token, name="api_token"),
    path("api-token/revoke/", views.api_token_revoke, name="api_token_revoke"),
]
