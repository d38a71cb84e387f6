"""The JSON API under /api/v1/ (django-ninja): create, read, list and cancel
generation jobs, one at a time or as a batch.

``urls`` holds the ``NinjaAPI`` and the patterns ``webapp.urls`` includes;
``jobs`` the operations; ``schemas`` the bodies the OpenAPI document is
generated from; ``auth`` tokens and sessions; ``errors`` the one error shape.
"""

from __future__ import annotations

from generation.api.errors import ApiError, error_response
from generation.api.urls import app_name, server_error, urlpatterns

__all__ = ["ApiError", "app_name", "error_response", "server_error", "urlpatterns"]
