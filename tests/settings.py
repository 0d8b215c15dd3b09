"""Test settings: the real settings module, in its development flavour (no TLS redirects)."""

import os

os.environ.setdefault("DEBUG", "true")

from referralhub.settings import *  # noqa: F403

# Hashing passwords fast keeps the suite quick; nothing here is a real credential.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
