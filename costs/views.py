"""The Costs page (staff): spend, budgets, reconciliation, prices; its CSV ledger.

Thin views over ``costs.selectors``. Anonymous visitors are sent to the login
page by ``LoginRequiredMiddleware``; signed-in people who are not staff get a
plain 403 page.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from costs import budgets, charts, key_check, ledger, ranges, reconcile, selectors
from webapp import htmx, inputs, permissions
from webapp.http import AuthenticatedRequest
from webapp.streaming import streamed

View = Callable[..., HttpResponseBase]


def staff_only(view: View) -> View:
    @wraps(view)
    def wrapper(request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not permissions.is_admin(request.user):
            return render(request, "costs/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


class BudgetForm(inputs.CleanInputMixin, forms.Form):
    """One person's (``who`` = their id) or the team's (``who`` = "team") monthly
    budget in dollars; empty removes it."""

    who = forms.CharField()
    monthly_usd = forms.DecimalField(
        required=False,
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=2,
        error_messages={
            "invalid": "Enter the budget in dollars, like 25 or 12.50.",
            "min_value": "A budget cannot be negative.",
            "max_decimal_places": "Use at most 2 decimal places (cents).",
            "max_digits": "That is more than a budget can be.",
            "max_whole_digits": "That is more than a budget can be.",
        },
    )

    def clean_who(self) -> str:
        who: str = self.cleaned_data["who"]
        if who == "team":
            self.person: User | None = None
            return who
        pk = inputs.whole_number(who)
        person = User.objects.filter(pk=pk).first() if pk is not None else None
        if person is None:
            raise forms.ValidationError("There is no such person.")
        self.person = person
        return who

    @property
    def label(self) -> str:
        person = getattr(self, "person", None)
        return "the whole team" if person is None else person.get_username()


class SettleForm(forms.Form):
    """The real charge of a job whose charge was unknown, as OpenRouter's activity shows it."""

    charge = forms.DecimalField(
        min_value=Decimal(0),
        max_value=Decimal(10_000),
        max_digits=14,
        decimal_places=8,
        error_messages={
            "required": "Enter what OpenRouter charged, in dollars (0 if nothing).",
            "invalid": "Enter the charge in dollars, like 0.04.",
            "min_value": "A charge cannot be negative.",
            "max_value": "That is more than one generation can cost.",
            "max_decimal_places": "Use at most 8 decimal places.",
            "max_digits": "That is more than one generation can cost.",
            "max_whole_digits": "That is more than one generation can cost.",
        },
    )


def _range_query(params: Any) -> dict[str, str]:
    return {key: params[key] for key in ("range", "from", "to") if params.get(key)}


def _dashboard(
    request: AuthenticatedRequest,
    span: ranges.DateRange,
    range_errors: list[str],
    budget_form: BudgetForm | None = None,
    status: int = 200,
    settle_form: SettleForm | None = None,
) -> HttpResponse:
    context = {
        "span": span,
        "range_errors": range_errors,
        "presets": ranges.PRESETS,
        "query": urlencode(span.query()),
        "totals": selectors.totals(span),
        "chart": charts.spend_over_time(span),
        "by_person": selectors.spend_by(span, "person"),
        "by_model": selectors.spend_by(span, "model"),
        "by_provider": selectors.spend_by(span, "provider"),
        "by_style": selectors.spend_by(span, "style"),
        "prompts": selectors.expensive_prompts(span),
        "accuracy": selectors.estimate_accuracy(span),
        "no_image": selectors.charges_without_image(span),
        "reconciliation": selectors.reconciliation(span),
        "unknown": selectors.unknown_charges(),
        "settle_form": settle_form,
        "key": key_check.key_status(),
        "prices": selectors.recent_price_changes(span),
        "budget_rows": selectors.budget_rows(),
        "budget_form": budget_form,
    }
    template = htmx.template_for(request, "costs/index.html", "dashboard")
    return render(request, template, context, status=status)


@require_GET
@staff_only
def index(request: AuthenticatedRequest) -> HttpResponse:
    span, errors = ranges.parse_range(request.GET)
    return _dashboard(request, span, errors)


@require_POST
@staff_only
def set_budget(request: AuthenticatedRequest) -> HttpResponse:
    # Staff see the costs; changing budgets takes the same permission as in the admin.
    if not request.user.has_perm("generation.change_budget"):
        return render(
            request,
            "costs/forbidden.html",
            {"reason": "Changing budgets needs the “Can change budget” permission."},
            status=403,
        )
    form = BudgetForm(request.POST)
    query = _range_query(request.POST)
    if not form.is_valid():
        span, errors = ranges.parse_range(query)
        return _dashboard(request, span, errors, budget_form=form, status=400)
    amount: Decimal | None = form.cleaned_data["monthly_usd"]
    budgets.set_budget(form.person, amount)
    if amount is None:
        messages.success(request, f"Removed the monthly budget of {form.label}.")
    else:
        messages.success(request, f"The monthly budget of {form.label} is now ${amount:.2f}.")
    url = reverse("costs:index")
    return redirect(f"{url}?{urlencode(query)}#budgets" if query else f"{url}#budgets")


@require_POST
@staff_only
def settle(request: AuthenticatedRequest, job_id: uuid.UUID) -> HttpResponse:
    """Record the charge of a finished job whose charge nobody reported."""
    form = SettleForm(request.POST)
    query = _range_query(request.POST)
    if not form.is_valid():
        span, errors = ranges.parse_range(query)
        form.job_id = job_id  # type: ignore[attr-defined]  # the row to show the error on
        return _dashboard(request, span, errors, settle_form=form, status=400)
    charge: Decimal = form.cleaned_data["charge"]
    if reconcile.settle(job_id, charge, request.user):
        messages.success(request, f"Recorded a charge of ${charge} for the job.")
    else:
        messages.info(request, "That job's charge had already been settled.")
    url = reverse("costs:index")
    return redirect(f"{url}?{urlencode(query)}#unknown" if query else f"{url}#unknown")


class _Echo:
    """A file-like object whose ``write`` hands back the line csv.writer made."""

    def write(self, value: str) -> str:
        return value


def _lines(rows: Iterable[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)


@require_GET
@staff_only
def ledger_csv(request: AuthenticatedRequest) -> HttpResponseBase:
    """The ledger for the range as CSV, streamed (see ``ledger.ledger_rows``).

    A range that is not understood is refused (400, the page with its message)
    before anything streams: once a 200 has gone out, an error can only cut the
    file short."""
    span, errors = ranges.parse_range(request.GET)
    if errors:
        return _dashboard(request, span, errors, status=400)
    lines = _lines(ledger.ledger_rows(span))
    # Lines go out 200 at a time: one thread hop per line would cost more than the line.
    response = StreamingHttpResponse(
        streamed(request, lines, batch=200), content_type="text/csv; charset=utf-8"
    )
    name = f"darkroom-costs-{span.start.isoformat()}-to-{span.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
