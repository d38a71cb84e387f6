"""Page or fragment: the one rule for answering htmx requests.

A view renders a page template; an htmx request that swaps part of the page
gets only the fragment it swaps (a template partial, ``page.html#name``). A
history restore (the back button after htmx replaced the page, when htmx's own
cache misses) sends ``HX-Request`` too, but replaces the whole body: it always
gets the whole page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import push_url
from django_htmx.middleware import HtmxDetails


def _details(request: HttpRequest) -> HtmxDetails | None:
    """What django-htmx's middleware read from the headers (None without it)."""
    details = getattr(request, "htmx", None)
    return details if isinstance(details, HtmxDetails) else None


def wants_fragment(request: HttpRequest) -> bool:
    """An htmx request that swaps a fragment (not a history restore)."""
    details = _details(request)
    return bool(details) and not (details and details.history_restore_request)


def template_for(
    request: HttpRequest,
    page: str,
    fragment: str | None = None,
    *,
    by_target: Mapping[str, str] | None = None,
) -> str:
    """The template to render: ``page``, or ``page#fragment`` for an htmx swap.

    With ``by_target``, the fragment depends on the element htmx swaps (its
    ``HX-Target`` id → partial name); an htmx request aimed at any other element
    gets ``fragment`` if given, else the whole page.
    """
    if not wants_fragment(request):
        return page
    details = _details(request)
    target = details.target if details else None
    if by_target and target is not None and target in by_target:
        return f"{page}#{by_target[target]}"
    return f"{page}#{fragment}" if fragment else page


def render_paged(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    status: int,
    results_target: str,
    next_target: str,
    next_partial: str,
) -> HttpResponse:
    """A filtered, paged listing: the whole page, or for htmx the next page's
    items (infinite scroll, swapped into ``next_target``) or the results for new
    filters (``results_target``, with ``context["first_url"]`` pushed: the filter
    form's URL has every field, empty or not)."""
    shown = template_for(
        request, template, by_target={next_target: next_partial, results_target: "results"}
    )
    response = render(request, shown, context, status=status)
    details = _details(request)
    if details and details.target == results_target and status == 200:
        push_url(response, context["first_url"])
    return response
