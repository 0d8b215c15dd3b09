from django.apps import AppConfig
from django.db.backends.signals import connection_created


class ReferralhubConfig(AppConfig):
    name = "referralhub"
    verbose_name = "Referrals"

    def ready(self) -> None:
        from referralhub.rawsql import use_prepared_statements

        connection_created.connect(use_prepared_statements, dispatch_uid="prepared_statements")
