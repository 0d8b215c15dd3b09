from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "referralhub.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from referralhub.alerts import settings_checks  # noqa: F401 (registers the system checks)
