from django.apps import AppConfig


class ReferralhubConfig(AppConfig):
    name = "referralhub"
    verbose_name = "Referrals"
