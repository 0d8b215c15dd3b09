from django.apps import AppConfig
from django.db.backends.signals import connection_created


class ReferralhubConfig(AppConfig):
    name = "referralhub"
    verbose_name = "Referrals"

    def ready(self) -> None:
        from django.contrib import admin

        from referralhub.admin.lookups import protect_every_admin
        from referralhub.rawsql import use_prepared_statements

        # Every app's admin is registered by now: the admin app, listed first, autodiscovers
        # them all in its own ready().
        protect_every_admin(admin.site)

        connection_created.connect(use_prepared_statements, dispatch_uid="prepared_statements")
