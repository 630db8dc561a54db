"""Reads of people and teams, scoped to what the asking user may see.

Scope: every staff role (admin, supervisor, agent, reviewer) sees every user and
team, because routing, transfers and reports need the whole roster. A customer
(portal login) sees only their own user and no team.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from frontdesk.accounts.models import ApiToken, Membership, Role, SignInFailure, Team, User
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.pagination import DEFAULT_LIMIT, Page, keyset_page


def is_staff_member(user: User) -> bool:
    """An active user with a staff role; superusers count as admins."""
    return bool(user.is_active and (user.is_agent_staff or user.is_superuser))


_TEAM_IDS_CACHE = "_frontdesk_team_ids"


def team_ids_for(user: User) -> frozenset[int]:
    """The teams `user` is a member of; `sees_all_teams` is for the caller to weigh.

    Cached on the user object, so the permission checks of one request cost one
    query; the membership services clear it on the instances they change.
    """
    if user.pk is None:
        return frozenset()
    cached: frozenset[int] | None = user.__dict__.get(_TEAM_IDS_CACHE)
    if cached is None:
        cached = frozenset(
            Membership.objects.filter(user_id=user.pk).values_list("team_id", flat=True)
        )
        user.__dict__[_TEAM_IDS_CACHE] = cached
    return cached


def forget_team_ids(user: User) -> None:
    """Drop the cached team ids of this instance after its memberships changed."""
    user.__dict__.pop(_TEAM_IDS_CACHE, None)


def _visible_users(user: User) -> QuerySet[User]:
    if is_staff_member(user):
        return User.objects.all()
    if user.is_active and user.pk is not None:
        return User.objects.filter(pk=user.pk)
    return User.objects.none()


def access_user(user: User, user_id: int) -> User:
    found = _visible_users(user).filter(pk=user_id).prefetch_related("teams", "skills").first()
    if found is None:
        raise NotFound(_("No such user."))
    return found


def list_users(
    user: User,
    *,
    role: str | None = None,
    team_id: int | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[User]:
    """Users ordered by id; a membership row is unique per team, so the join cannot repeat."""
    queryset = _visible_users(user)
    if role is not None:
        if role not in Role.values:
            raise InvalidInput(_("Unknown role: %(role)s.") % {"role": role}, field="role")
        queryset = queryset.filter(role=role)
    if team_id is not None:
        queryset = queryset.filter(memberships__team_id=team_id)
    queryset = queryset.prefetch_related("teams", "skills")
    return keyset_page(queryset, key="id", descending=False, cursor=cursor, limit=limit)


def access_team(user: User, team_id: int, *, with_members: bool = True) -> Team:
    """The team, for staff; `with_members=False` skips the roster when only the row is needed."""
    found = None
    if is_staff_member(user):
        teams = _teams() if with_members else Team.objects.all()
        found = teams.filter(pk=team_id).first()
    if found is None:
        raise NotFound(_("No such team."))
    return found


def list_teams(user: User) -> list[Team]:
    """All teams by name for staff; a handful of rows, so no pagination."""
    if not is_staff_member(user):
        return []
    return list(_teams().order_by("name", "id"))


def _teams() -> QuerySet[Team]:
    return Team.objects.select_related("lead").prefetch_related(
        Prefetch("members", queryset=User.objects.order_by("id"))
    )


def sign_in_locked_until(email: str, *, at: datetime | None = None) -> datetime | None:
    """When the lock on `email` ends, or None if it may try to sign in now."""
    at = at or timezone.now()
    key = email.strip().lower()[:254]
    until = SignInFailure.objects.filter(email=key).values_list("locked_until", flat=True).first()
    return until if until is not None and until > at else None


def list_api_tokens(user: User) -> list[ApiToken]:
    """The person's own tokens, newest first, revoked ones included."""
    return list(ApiToken.objects.filter(user_id=user.pk).order_by("-created_at", "-id"))


def access_api_token(user: User, token_id: int) -> ApiToken:
    """One of the person's own tokens; anyone else's answers 404."""
    found = ApiToken.objects.filter(user_id=user.pk, pk=token_id).first()
    if found is None:
        raise NotFound(_("No such token."))
    return found
