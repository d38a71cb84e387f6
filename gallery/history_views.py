"""The shared prompt history: every prompt anyone submitted, identical ones
grouped, newest first, searchable and filterable like the gallery."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from gallery import history, selectors
from gallery.forms import HistoryFilterForm
from gallery.paging import Cursor, GalleryError
from generation.forms import GenerateForm
from webapp import htmx
from webapp.http import AuthenticatedRequest

RESULTS_TARGET = "history-results"
NEXT_TARGET = "history-next"


@require_GET
def index(request: AuthenticatedRequest) -> HttpResponse:
    """Prompt groups, the most recently used first; ``?after=`` pages on.

    "Run again" posts a run's own form data (``GenerateForm.data_for_job``) to
    the Generate page, so validation and budgets apply as to any new request.
    """
    options = selectors.filter_options(request.user)
    form = HistoryFilterForm(request.GET, options=options)
    base_url = reverse("history:index")
    context: dict[str, Any] = {"form": form, "page": None, "errors": []}
    status = 200
    try:
        if not form.is_valid():
            raise GalleryError(" ".join(form.error_messages()))
        raw = request.GET.get("after", "")
        after = Cursor.decode(raw) if raw else None
        page = history.history_page(request.user, form.filters(request.user), after)
    except GalleryError as exc:
        context["errors"] = [exc.message]
        status = exc.status
    else:
        for group in page.items:
            group.run_again = sorted(GenerateForm.data_for_job(group.latest).items())
        query = form.querystring()
        next_query = "&".join(
            filter(None, [query, urlencode({"after": page.next_cursor.encode()})])
            if page.next_cursor
            else []
        )
        context.update(
            page=page,
            query=query,
            is_first_page=after is None,
            first_url=f"{base_url}?{query}" if query else base_url,
            next_url=f"{base_url}?{next_query}" if next_query else "",
        )
    return htmx.render_paged(
        request, "history/index.html", context, status, RESULTS_TARGET, NEXT_TARGET, "groups"
    )
