from django.core.management.base import BaseCommand, CommandParser

from referralhub.models import Provider
from webhooks.models import WebhookEndpoint


class Command(BaseCommand):
    help = "Create a webhook endpoint for a provider and print its URL path (last line)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("provider", choices=Provider.values)
        parser.add_argument("--secret", default="", help="Signing secret or Basic auth password.")
        parser.add_argument("--name", default="")

    def handle(
        self, *args: object, provider: str, secret: str, name: str, **options: object
    ) -> None:
        endpoint = WebhookEndpoint.objects.create(provider=provider, secret=secret, name=name)
        self.stdout.write(
            f"Created {endpoint} (id {endpoint.pk}). Give the provider this URL path:"
        )
        self.stdout.write(endpoint.path)
