"""``{% load permissions %}``: the rules of ``webapp.permissions`` in templates.

``{% if user|is_admin %}`` and ``{% if job|managed_by:request.user %}``, so a
template never reads ``is_staff`` or compares author ids itself.
"""

from __future__ import annotations

from typing import Any

from django import template

from webapp import permissions

register = template.Library()


@register.filter
def is_admin(user: Any) -> bool:
    return permissions.is_admin(user)


@register.filter
def managed_by(obj: Any, user: Any) -> bool:
    return permissions.can_manage(user, obj)
