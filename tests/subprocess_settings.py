"""Settings for the processes the suite starts (uvicorn, Celery): production settings
from the environment, plus the test suite's fast password hasher so that users the
tests create can log in."""

from webapp.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
