"""REST API v1: users and teams (read-only; people are managed by admins elsewhere)."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from frontdesk.accounts import selectors
from frontdesk.accounts.models import Role, Team, User
from frontdesk.core.api_support import CursorPageOut, page_response
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = Router(tags=["users and teams"])

Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT)]


def request_user(request: HttpRequest) -> User:
    """The authenticated caller, whichever way (token or session) they signed in."""
    user = getattr(request, "auth", None)
    if not isinstance(user, User):
        # Every route sits behind authentication; reaching here is a wiring bug.
        raise RuntimeError("API handler reached without an authenticated user")
    return user


def referenced_team(user: User, team_id: int, *, field: str) -> Team:
    """A team named in a request body; unknown or invisible ones are the client's error."""
    try:
        return selectors.access_team(user, team_id, with_members=False)
    except NotFound:
        raise InvalidInput(_("There is no team %(id)s.") % {"id": team_id}, field=field) from None


def referenced_user(user: User, user_id: int, *, field: str) -> User:
    """A user named in a request body; unknown or invisible ones are the client's error."""
    try:
        return selectors.access_user(user, user_id)
    except NotFound:
        raise InvalidInput(_("There is no user %(id)s.") % {"id": user_id}, field=field) from None


class TeamRef(Schema):
    id: int
    name: str


class UserRef(Schema):
    id: int
    email: str
    name: str

    @staticmethod
    def resolve_name(obj: User) -> str:
        return obj.display_name


class UserOut(Schema):
    id: int
    email: str
    first_name: str
    last_name: str
    name: str
    role: Role
    is_active: bool
    presence: str
    language: str
    time_zone: str
    languages: list[str]
    teams: list[TeamRef]

    @staticmethod
    def resolve_name(obj: User) -> str:
        return obj.display_name

    @staticmethod
    def resolve_teams(obj: User) -> list[Any]:
        return list(obj.teams.all())


class UserPage(CursorPageOut):
    items: list[UserOut]


class TeamOut(Schema):
    id: int
    name: str
    email: str
    lead: UserRef | None
    members: list[UserRef]

    @staticmethod
    def resolve_members(obj: Team) -> list[User]:
        return list(obj.members.all())


class TeamList(CursorPageOut):
    items: list[TeamOut]


@router.get("/users", response=UserPage)
def list_users(
    request: HttpRequest,
    role: Role | None = None,
    team: int | None = None,
    cursor: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    page = selectors.list_users(
        request_user(request), role=role, team_id=team, cursor=cursor, limit=limit
    )
    return page_response(page)


@router.get("/users/me", response=UserOut)
def get_me(request: HttpRequest) -> User:
    user = request_user(request)
    return selectors.access_user(user, user.pk)


@router.get("/users/{user_id}", response=UserOut)
def get_user(request: HttpRequest, user_id: int) -> User:
    return selectors.access_user(request_user(request), user_id)


@router.get("/teams", response=TeamList)
def list_teams(request: HttpRequest) -> dict[str, Any]:
    return {"items": selectors.list_teams(request_user(request)), "next_cursor": None}


@router.get("/teams/{team_id}", response=TeamOut)
def get_team(request: HttpRequest, team_id: int) -> Team:
    return selectors.access_team(request_user(request), team_id)
