"""Argument types the webhook commands share."""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

_URL = URLValidator(schemes=["http", "https"])


def base_url(value: str) -> str:
    """Where the hub is served, e.g. https://hub.example.com, without a trailing slash: the
    webhook paths are printed after it, so a typo would print a URL no provider can reach."""
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    try:
        _URL(url)
        valid = not (parts.query or parts.fragment)
    except ValidationError:
        valid = False
    if not valid:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a base URL such as https://hub.example.com"
        )
    return url
