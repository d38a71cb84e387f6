"""The profile page: the user's personal API tokens."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db.models import F
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from webapp import tokens
from webapp.http import AuthenticatedRequest
from webapp.models import ApiToken

MAX_ACTIVE_TOKENS = 25


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        strip=True,
        help_text="What it is for, e.g. “laptop script” or “CI”.",
        widget=forms.TextInput(attrs={"placeholder": "laptop script", "autocomplete": "off"}),
    )


def profile(request: AuthenticatedRequest) -> HttpResponse:
    """Tokens listed, created and revoked. A new token is shown in the answer to
    the POST that made it and never again (only its digest is stored); the page
    is not cached for that reason."""
    user = request.user
    form = TokenForm()
    new_token = None
    status = 200
    if request.method == "POST":
        form = TokenForm(request.POST)
        if form.is_valid():
            active = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
            if active.count() >= MAX_ACTIVE_TOKENS:
                form.add_error(
                    None, f"You have {MAX_ACTIVE_TOKENS} tokens; revoke one to create another."
                )
                status = 400
            else:
                _, new_token = tokens.create(user, form.cleaned_data["name"])
                form = TokenForm()
        else:
            status = 400
    response = render(
        request,
        "webapp/profile.html",
        {
            "form": form,
            "new_token": new_token,
            # Live tokens first, newest first; then the revoked ones.
            "tokens": ApiToken.objects.filter(user=user).order_by(
                F("revoked_at").desc(nulls_first=True), "-created_at"
            ),
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def revoke_token(request: AuthenticatedRequest, token_id: int) -> HttpResponse:
    token = ApiToken.objects.filter(pk=token_id, user=request.user).first()
    if token is None:
        raise Http404("No such token.")
    if tokens.revoke(token):
        messages.success(request, f"Revoked “{token.name}” ({token.prefix}…).")
    else:
        messages.info(request, f"“{token.name}” was revoked already.")
    return redirect("profile")
