"""Test settings: the real settings module, in its development flavour (no TLS redirects)."""

import os

os.environ.setdefault("DEBUG", "true")

from referralhub.settings import *  # noqa: F403

# Hashing passwords fast keeps the suite quick; nothing here is a real credential.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405

# A process-local cache keeps tests without database access free of it; production uses the
# database cache (see referralhub/settings.py), whose table migration 0003 creates.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# No collectstatic before tests: WhiteNoise serves from the finders, as in development.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# The tests' own receiver of events listens on the loopback address.
EVENTS_ALLOWED_HOSTS = ["127.0.0.1"]
