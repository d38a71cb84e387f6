"""Members page, invitations and the audit log (for admins), and joining by invitation."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from team import invitations, members, ratelimit, selectors, sso, timeline
from team.forms import InviteForm, JoinForm, RoleForm
from team.models import Invitation, Role
from webapp import permissions
from webapp.http import AuthenticatedRequest

View = Callable[..., HttpResponseBase]


def admin_only(view: View) -> View:
    """Refuse (403, with a page that says so) everyone but team admins."""

    @wraps(view)
    def wrapper(request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not permissions.is_admin(request.user):
            return render(request, "team/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


@admin_only
def member_list(request: AuthenticatedRequest) -> HttpResponse:
    """Members with role, last seen, spend and budget; pending invitations; the
    invitation form (a POST invites)."""
    form = InviteForm()
    status = 200
    if request.method == "POST":
        form = InviteForm(request.POST)
        if form.is_valid():
            email = form.cleaned_data["email"]
            try:
                invitations.invite(request.user, email, Role(form.cleaned_data["role"]))
            except invitations.InvitationError as error:
                form.add_error("email", error.message)
            else:
                messages.success(request, f"Invitation sent to {email}.")
                return redirect("team:members")
        status = 400
    return render(
        request,
        "team/members.html",
        {
            "rows": selectors.members(),
            "invitations": selectors.open_invitations(),
            "form": form,
            "roles": Role.choices,
        },
        status=status,
    )


def _invitation(invitation_id: int) -> Invitation:
    return get_object_or_404(Invitation, pk=invitation_id)


def _change_view[Found](
    find: Callable[[int], Found],
    change: Callable[[User, Found], object],
    done: Callable[[Found], str],
) -> View:
    """A POST-only admin view for one change from the Members page: it finds its
    object by the URL's one id (404 when there is none), makes ``change`` as the
    requesting admin and goes back to the Members page, saying ``done(object)``
    or, when the change could not be made, the plain reason why."""

    @require_POST
    @admin_only
    def view(request: AuthenticatedRequest, **url_id: int) -> HttpResponse:
        (found,) = (find(pk) for pk in url_id.values())
        try:
            change(request.user, found)
        except (invitations.InvitationError, members.MemberError) as error:
            messages.error(request, error.message)
        else:
            messages.success(request, done(found))
        return redirect("team:members")

    return view


invitation_resend = _change_view(
    _invitation,
    invitations.resend,
    lambda invitation: f"Sent a new invitation link to {invitation.email}.",
)


@require_POST
@admin_only
def invitation_revoke(request: AuthenticatedRequest, invitation_id: int) -> HttpResponse:
    invitation = _invitation(invitation_id)
    if invitations.revoke(request.user, invitation):
        messages.success(request, f"Withdrew the invitation to {invitation.email}.")
    else:
        messages.info(request, f"The invitation to {invitation.email} was no longer open.")
    return redirect("team:members")


def _member(user_id: int) -> User:
    return get_object_or_404(User, pk=user_id)


@require_POST
@admin_only
def member_role(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    person = _member(user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose admin, member or viewer.")
        return redirect("team:members")
    role = Role(form.cleaned_data["role"])
    try:
        changed = members.set_role(request.user, person, role)
    except members.MemberError as error:
        messages.error(request, error.message)
    else:
        if changed:
            messages.success(request, f"{person.get_username()} is now {role.label.lower()}.")
    return redirect("team:members")


member_deactivate = _change_view(
    _member,
    members.deactivate,
    lambda person: (
        f"Deactivated {person.get_username()}: signed out everywhere, API tokens revoked. "
        "Their images and costs stay."
    ),
)

member_reactivate = _change_view(
    _member,
    members.reactivate,
    lambda person: f"{person.get_username()} can sign in again.",
)


@admin_only
def audit_log(request: AuthenticatedRequest) -> HttpResponse:
    """The audit events and the members' generations, newest first, a page at a
    time (``?before=`` a page's last line; ``?generations=off`` leaves jobs out)."""
    generations = request.GET.get("generations") != "off"
    before = request.GET.get("before")
    status, problem = 200, ""
    try:
        cursor = timeline.Cursor.parse(before) if before else None
    except timeline.BadCursor:
        cursor, status = None, 400
        problem = "That page of the audit log does not exist. These are the newest entries."
    return render(
        request,
        "team/audit.html",
        {
            "page": timeline.page(cursor, generations=generations),
            "generations": generations,
            "problem": problem,
        },
        status=status,
    )


@login_not_required
def join(request: HttpRequest, token: str) -> HttpResponse:
    """Accept an invitation: choose a username and password, or sign in through SSO.

    A bad link counts against the address's failure limit (links are long
    random signatures, so guessing them is hopeless, but trying is still cut off).
    """
    keys = ratelimit.keys_for(request, "join")
    if ratelimit.blocked(keys):
        return render(request, "team/join_invalid.html", {"message": ratelimit.MESSAGE}, status=429)
    try:
        invitation = invitations.from_token(token)
    except invitations.InvitationError as error:
        ratelimit.fail(keys)
        return render(request, "team/join_invalid.html", {"message": error.message}, status=400)
    if request.user.is_authenticated:
        return render(
            request,
            "team/join_invalid.html",
            {"message": "You are signed in already. Sign out first to accept this invitation."},
            status=409,
        )
    if settings.DARKROOM_OIDC:
        # The SSO button on this page signs in with this invitation (team.sso).
        request.session[sso.SESSION_INVITATION] = token
    form = JoinForm(initial={"username": invitation.email.split("@")[0]})
    status = 200
    if request.method == "POST":
        if not settings.DARKROOM_PASSWORD_LOGIN:
            raise Http404("Password sign-in is switched off.")
        form = JoinForm(request.POST)
        if form.is_valid():
            person = invitations.NewMember(
                username=form.cleaned_data["username"],
                email=invitation.email,
                display_name=form.cleaned_data["display_name"],
                password=form.cleaned_data["password1"],
            )
            try:
                user = invitations.accept(invitation, person, how="with a password")
            except invitations.InvitationError as error:
                form.add_error(None, error.message)
            else:
                request.session.pop(sso.SESSION_INVITATION, None)
                login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
                messages.success(request, "Welcome to Darkroom.")
                return redirect("/")
        status = 400
    return render(
        request,
        "team/join.html",
        {
            "invitation": invitation,
            "form": form,
            "password_login": settings.DARKROOM_PASSWORD_LOGIN,
            "provider": sso.provider_name(),
        },
        status=status,
    )
