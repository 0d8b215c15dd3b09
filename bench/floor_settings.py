"""Bench-only settings for the floor server: the product's settings with a urlconf that serves
nothing but the floor view. Never used by the product."""

from referralhub.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor_urls"
