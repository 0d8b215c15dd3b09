"""WSGI entry point: `gunicorn referralhub.wsgi`. Each worker imports it as it boots."""

import contextlib
import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import Resolver404, get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "referralhub.settings")

application = get_wsgi_application()

# Load the URLconf (and with it every view module) now, and compile the patterns a webhook goes
# through: Django leaves both to the first request a worker serves, which took 60-90 ms longer
# than the next ones while the requests behind it queued (a burst of webhooks after a deploy).
with contextlib.suppress(Resolver404):  # a urlconf without them: the bench scripts' own
    get_resolver().resolve("/webhooks/firstpromoter/warm-up/")

# Everything loaded so far lives as long as the worker: out of the collector's way, a full
# collection, which every worker runs now and then, pauses it for 10 ms instead of 50.
gc.freeze()
