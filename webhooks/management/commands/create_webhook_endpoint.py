from django.core.management.base import BaseCommand, CommandParser

from referralhub.models import Provider
from webhooks.management.arguments import base_url
from webhooks.models import WebhookEndpoint
from webhooks.providers import PROVIDERS


class Command(BaseCommand):
    help = "Create a webhook endpoint for a provider and print the URL to give it (last line)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("provider", choices=Provider.values)
        parser.add_argument("--secret", default="", help="Signing secret or Basic auth password.")
        parser.add_argument("--name", default="")
        parser.add_argument(
            "--base-url",
            type=base_url,
            help="Where the hub is served, e.g. https://hub.example.com: prints the whole URL "
            "instead of its path.",
        )

    def handle(
        self,
        *args: object,
        provider: str,
        secret: str,
        name: str,
        base_url: str | None,
        **options: object,
    ) -> None:
        endpoint = WebhookEndpoint.objects.create(provider=provider, secret=secret, name=name)
        self.stdout.write(f"Created {endpoint} (id {endpoint.pk}).")
        self.stdout.write(PROVIDERS[provider].SETUP)
        self.stdout.write(f"{base_url or ''}{endpoint.path}")
