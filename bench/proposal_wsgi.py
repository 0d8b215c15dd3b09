"""Bench-only WSGI entry point: the product with `bench/upsert_proposal.py` installed, so that
`bench/ingest.py --proposal` measures the proposed change before anyone edits the product."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "referralhub.settings")
application = get_wsgi_application()

from bench.upsert_proposal import install  # noqa: E402 (needs the app registry ready)

install()
