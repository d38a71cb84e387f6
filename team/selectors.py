"""Reads for the team pages. Spend and budgets come from the costs code's public
functions; nothing here sums charges itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.db.models import Max, QuerySet

from costs import budgets
from costs import selectors as costs
from team.models import Invitation, Membership, Role
from webapp import roles


@dataclass(frozen=True)
class MemberRow:
    user: User
    role: Role
    display_name: str
    last_seen_at: datetime | None
    spent: Decimal
    budget: Decimal | None

    @property
    def is_active(self) -> bool:
        return self.user.is_active


def members() -> list[MemberRow]:
    """Everyone with an account: active people first, then by username."""
    standing = {row.user.pk: row for row in costs.budget_rows() if row.user is not None}
    people = (
        User.objects.select_related("membership")
        .annotate(token_used_at=Max("api_tokens__last_used_at"))
        .order_by("-is_active", "username")
    )
    rows = []
    for person in people:
        try:
            membership: Membership | None = person.membership
        except Membership.DoesNotExist:
            membership = None
        row = standing.get(person.pk)
        # budget_rows leaves out deactivated people without a budget; their spend still counts.
        spent = row.spent if row else budgets.spent(budgets.month_jobs(person))
        rows.append(
            MemberRow(
                user=person,
                role=Role(membership.role) if membership else roles.default_role(person),
                display_name=membership.display_name if membership else "",
                last_seen_at=_latest(
                    membership.last_seen_at if membership else None, person.token_used_at
                ),
                spent=spent,
                budget=row.budget if row else None,
            )
        )
    return rows


def _latest(*moments: datetime | None) -> datetime | None:
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


def open_invitations() -> QuerySet[Invitation]:
    """Pending invitations (expired ones too, so they can be resent), newest first."""
    return Invitation.objects.pending().select_related("invited_by")
