"""Create a webhook endpoint and print the URL to give the provider.

Credentials may come from the command line, an environment variable or standard input, so that
they need not sit in the shell's history:

    create_webhook_endpoint firstpromoter --api-key-env FP_API_KEY --account-id 123456
    pass show fp-key | create_webhook_endpoint firstpromoter --api-key-stdin --account-id 123456
"""

from __future__ import annotations

import os
import sys
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from referralhub.models import Provider
from webhooks.management.arguments import base_url
from webhooks.models import WebhookEndpoint
from webhooks.providers import PROVIDERS


class Command(BaseCommand):
    help = "Create a webhook endpoint for a provider and print the URL to give it (last line)."
    # call_command(..., stdin=io.StringIO(...)) stands for the terminal in tests.
    stealth_options = ("stdin",)

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
        api = parser.add_argument_group("FirstPromoter API (FirstPromoter endpoints only)")
        key = api.add_mutually_exclusive_group()
        key.add_argument("--api-key", help="API key (visible in the shell's history).")
        key.add_argument(
            "--api-key-env", metavar="VARIABLE", help="Read the API key from this variable."
        )
        key.add_argument(
            "--api-key-stdin",
            action="store_true",
            help="Read the API key from the first line of standard input.",
        )
        api.add_argument("--account-id", default="", help="Account ID, given with the API key.")

    def handle(
        self,
        *args: object,
        provider: str,
        secret: str,
        name: str,
        base_url: str | None,
        account_id: str,
        **options: Any,
    ) -> None:
        api_key = self._api_key(options)
        account_id = account_id.strip()
        if (api_key or account_id) and provider != Provider.FIRSTPROMOTER:
            raise CommandError(
                f"--api-key and --account-id are for FirstPromoter endpoints only, not {provider}: "
                "the hub calls no other provider's API."
            )
        if bool(api_key) != bool(account_id):
            raise CommandError("Give both the API key and --account-id, or neither.")
        endpoint = WebhookEndpoint(
            provider=provider,
            secret=secret,
            name=name,
            api_key=api_key,
            api_account_id=account_id,
        )
        try:
            endpoint.full_clean()
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        endpoint.save()
        self.stdout.write(f"Created {endpoint} (id {endpoint.pk}).")
        if endpoint.has_api_credentials:
            self.stdout.write(f"API credentials set for account {endpoint.api_account_id}.")
        self.stdout.write(PROVIDERS[provider].SETUP)
        self.stdout.write(f"{base_url or ''}{endpoint.path}")

    def _api_key(self, options: dict[str, Any]) -> str:
        if options["api_key_env"]:
            variable = options["api_key_env"]
            if not os.environ.get(variable, "").strip():
                raise CommandError(f"The environment variable {variable} is not set or empty.")
            return os.environ[variable].strip()
        if options["api_key_stdin"]:
            stdin: IO[str] = options.get("stdin") or sys.stdin
            key = stdin.readline().strip()
            if not key:
                raise CommandError("No API key on standard input (expected it on the first line).")
            return key
        key = (options["api_key"] or "").strip()
        if options["api_key"] is not None and not key:
            raise CommandError("--api-key is empty.")
        return key
