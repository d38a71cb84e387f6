"""The Darkroom Django project: settings, URLs, the Celery app, accounts and the page frame."""

from webapp.celery import app as celery_app

__all__ = ["celery_app"]
