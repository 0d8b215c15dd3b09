"""Create a webhook endpoint, with the checks its deliveries must pass, and print its URL.

Every credential can come from an environment variable instead of the command line (`--secret-env
VAR`, `--basic-auth-env VAR`, ...), and the API key from standard input, so that none need sit in
the shell's history:

    create_webhook_endpoint firstpromoter --basic-auth-env FP_WEBHOOK_AUTH
    create_webhook_endpoint firstpromoter --api-key-env FP_API_KEY --account-id 123456
    pass show fp-key | create_webhook_endpoint firstpromoter --api-key-stdin --account-id 123456
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, time, timedelta
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from referralhub.alerts.texts import duration
from referralhub.models import Provider
from webhooks.management.arguments import base_url
from webhooks.models import WebhookEndpoint
from webhooks.providers import PROVIDERS
from webhooks.providers.checks import checks_summary

# The option that sets each field, to name it in error messages.
OPTION_OF = {
    "secret": "--secret",
    "basic_auth_user": "--basic-auth",
    "basic_auth_password": "--basic-auth",
    "header_name": "--header",
    "header_value": "--header",
    "previous_secret": "--previous-secret",
    "previous_basic_auth_password": "--previous-password",
    "previous_header_value": "--previous-header-value",
    "api_key": "--api-key",
    "api_account_id": "--account-id",
}
PREVIOUS = {
    "previous_secret": "secret",
    "previous_password": "basic_auth_password",
    "previous_header_value": "header_value",
}


def _credential(group: Any, option: str, metavar: str, help_text: str) -> None:
    """`--option VALUE` (kept in the shell's history) or `--option-env VARIABLE`."""
    choice = group.add_mutually_exclusive_group()
    choice.add_argument(f"--{option}", metavar=metavar, help=help_text)
    choice.add_argument(
        f"--{option}-env", metavar="VARIABLE", help=f"Read --{option} from this variable."
    )


def _moment(value: str) -> datetime:
    """An ISO date or date and time, in the site's time zone unless it names one; a date alone
    is its first moment (00:00)."""
    moment = parse_datetime(value)
    if moment is None and (day := parse_date(value)) is not None:
        moment = datetime.combine(day, time())
    if moment is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a date such as 2026-12-31 or 2026-12-31T18:00"
        )
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


PERIOD_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}


def _period(value: str) -> timedelta:
    """A period such as 30m, 6h or 1d, from 5 minutes (check_alerts runs every minute) to a year."""
    text = value.strip().lower()
    unit = PERIOD_UNITS.get(text[-1:])
    if unit is None or not text[:-1].isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not a period such as 30m, 6h or 1d")
    period = int(text[:-1]) * unit
    if not timedelta(minutes=5) <= period <= timedelta(days=366):
        raise argparse.ArgumentTypeError(f"{value!r} must be from 5m to 366d")
    return period


class Command(BaseCommand):
    help = "Create a webhook endpoint for a provider and print the URL to give it (last line)."
    # call_command(..., stdin=io.StringIO(...)) stands for the terminal in tests.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("provider", choices=Provider.values)
        parser.add_argument("--name", default="")
        parser.add_argument(
            "--base-url",
            type=base_url,
            help="Where the hub is served, e.g. https://hub.example.com: prints the whole URL "
            "instead of its path.",
        )
        checks = parser.add_argument_group(
            "checks (besides the URL's token; each one given is required of every delivery)"
        )
        _credential(checks, "secret", "SECRET", "Signing secret: checks the signature header.")
        _credential(checks, "basic-auth", "USER:PASSWORD", "HTTP Basic auth (empty USER: any).")
        _credential(checks, "header", "NAME:VALUE", "A header that must carry VALUE.")
        rotation = parser.add_argument_group(
            "rotation (a previous value still accepted until --previous-until)"
        )
        _credential(rotation, "previous-secret", "SECRET", "The previous signing secret.")
        _credential(rotation, "previous-password", "PASSWORD", "The previous Basic password.")
        _credential(rotation, "previous-header-value", "VALUE", "The header's previous value.")
        rotation.add_argument("--previous-until", type=_moment, metavar="DATE")
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
        parser.add_argument(
            "--expect-every",
            type=_period,
            metavar="PERIOD",
            help="Alert when no delivery arrives for this long: 30m, 6h, 1d (docs/alerts.md).",
        )

    def handle(self, *args: object, provider: str, **options: Any) -> None:
        endpoint = WebhookEndpoint(
            provider=provider, name=options["name"], expected_every=options["expect_every"]
        )
        endpoint.secret = self._value(options, "secret")
        endpoint.basic_auth_user, endpoint.basic_auth_password = self._pair(options, "basic_auth")
        endpoint.header_name, endpoint.header_value = self._pair(options, "header")
        self._previous(endpoint, options)
        self._api_credentials(endpoint, options)
        try:
            endpoint.full_clean()
        except ValidationError as error:
            raise CommandError(_messages(error)) from None
        endpoint.save()
        self.stdout.write(f"Created {endpoint} (id {endpoint.pk}).")
        self.stdout.write(f"Checks: {', '.join(checks_summary(endpoint))}.")
        if endpoint.has_api_credentials:
            self.stdout.write(f"API credentials set for account {endpoint.api_account_id}.")
        if endpoint.expected_every is not None:
            self.stdout.write(f"Alerts when silent for {duration(endpoint.expected_every)}.")
        self.stdout.write(PROVIDERS[provider].SETUP)
        self.stdout.write(f"{options['base_url'] or ''}{endpoint.path}")

    def _value(self, options: dict[str, Any], dest: str) -> str:
        option = "--" + dest.replace("_", "-")
        if variable := options[f"{dest}_env"]:
            value = os.environ.get(variable, "").strip()
            if not value:
                raise CommandError(f"The environment variable {variable} is not set or empty.")
            return value
        if options[dest] is None:
            return ""
        if not options[dest].strip():
            raise CommandError(f"{option} is empty.")
        return options[dest].strip()

    def _pair(self, options: dict[str, Any], dest: str) -> tuple[str, str]:
        value = self._value(options, dest)
        if not value:
            return "", ""
        first, colon, second = value.partition(":")
        if not colon or not second.strip():
            shape = "USER:PASSWORD" if dest == "basic_auth" else "NAME:VALUE"
            raise CommandError(f"--{dest.replace('_', '-')} takes {shape}.")
        return first.strip(), second.strip()

    def _previous(self, endpoint: WebhookEndpoint, options: dict[str, Any]) -> None:
        until: datetime | None = options["previous_until"]
        given = {field: self._value(options, dest) for dest, field in PREVIOUS.items()}
        given = {field: value for field, value in given.items() if value}
        if bool(given) != (until is not None):
            raise CommandError("A previous value and --previous-until go together.")
        if until is not None and until <= timezone.now():
            raise CommandError("--previous-until must be in the future.")
        for field, value in given.items():
            setattr(endpoint, f"previous_{field}", value)
            setattr(endpoint, f"previous_{field}_until", until)

    def _api_credentials(self, endpoint: WebhookEndpoint, options: dict[str, Any]) -> None:
        api_key = self._api_key(options)
        account_id = options["account_id"].strip()
        if (api_key or account_id) and endpoint.provider != Provider.FIRSTPROMOTER:
            raise CommandError(
                f"--api-key and --account-id are for FirstPromoter endpoints only, not "
                f"{endpoint.provider}: the hub calls no other provider's API."
            )
        if bool(api_key) != bool(account_id):
            raise CommandError("Give both the API key and --account-id, or neither.")
        endpoint.api_key, endpoint.api_account_id = api_key, account_id

    def _api_key(self, options: dict[str, Any]) -> str:
        if options["api_key_stdin"]:
            stdin: IO[str] = options.get("stdin") or sys.stdin
            key = stdin.readline().strip()
            if not key:
                raise CommandError("No API key on standard input (expected it on the first line).")
            return key
        return self._value(options, "api_key")


def _messages(error: ValidationError) -> str:
    """The model's complaints, each under the option that set its field."""
    lines: list[str] = []
    for field, messages in error.message_dict.items():
        option = OPTION_OF.get(field, "")
        lines.extend(f"{option}: {message}" if option else message for message in messages)
    return "\n".join(lines)
