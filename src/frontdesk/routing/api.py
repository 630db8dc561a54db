"""REST API v1: routing rules. Staff read them; admins create, change, move and delete them.

Rules are tried in `position` order (0 first) and the first that matches a new
conversation routes it. Setting `position` moves a rule; the others keep their order.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status as HttpStatus
from pydantic import Field

from frontdesk.accounts.api import TeamRef, referenced_team, request_user
from frontdesk.accounts.models import Skill, User
from frontdesk.conversations.models import Channel, Priority
from frontdesk.core.api_support import CursorPageOut, Input, fields_renamed, patch_changes
from frontdesk.core.errors import InvalidInput
from frontdesk.core.models import Via
from frontdesk.routing import selectors, services
from frontdesk.routing.models import RoutingRule

router = Router(tags=["routing"])

PriorityName = Literal["low", "normal", "high", "urgent"]
_PRIORITY_BY_NAME: dict[str, int] = {p.name.lower(): p.value for p in Priority}
_NAME_BY_PRIORITY: dict[int, str] = {value: name for name, value in _PRIORITY_BY_NAME.items()}
_FIELD_NAMES = {"team": "team_id"}

Name = Annotated[str, Field(min_length=1, max_length=200)]
FieldValue = str | int | float | bool


class RuleOut(Schema):
    id: int
    name: str
    position: int
    active: bool
    channels: list[Channel]
    mailbox_ids: list[int]
    languages: list[str]
    tags: list[str]
    customer_ids: list[int]
    company_ids: list[int]
    custom_fields: dict[str, Any]
    keywords: list[str]
    team: TeamRef | None
    priority: PriorityName | None
    add_tags: list[str]
    skill: str | None

    @staticmethod
    def resolve_priority(obj: RoutingRule) -> str | None:
        return _NAME_BY_PRIORITY.get(obj.priority) if obj.priority is not None else None

    @staticmethod
    def resolve_skill(obj: RoutingRule) -> str | None:
        return obj.skill.name if obj.skill is not None else None


class RuleList(CursorPageOut):
    items: list[RuleOut]


class RuleCreate(Input):
    name: Name
    position: Annotated[int, Field(ge=0)] | None = None
    active: bool = True
    channels: list[Channel] = []
    mailbox_ids: list[int] = []
    languages: list[str] = []
    tags: list[str] = []
    customer_ids: list[int] = []
    company_ids: list[int] = []
    custom_fields: dict[str, FieldValue] = {}
    keywords: list[str] = []
    team_id: int | None = None
    priority: PriorityName | None = None
    add_tags: list[str] = []
    skill: str | None = None


class RuleUpdate(Input):
    name: Name | None = None
    position: Annotated[int, Field(ge=0)] | None = None
    active: bool | None = None
    channels: list[Channel] | None = None
    mailbox_ids: list[int] | None = None
    languages: list[str] | None = None
    tags: list[str] | None = None
    customer_ids: list[int] | None = None
    company_ids: list[int] | None = None
    custom_fields: dict[str, FieldValue] | None = None
    keywords: list[str] | None = None
    team_id: int | None = None
    priority: PriorityName | None = None
    add_tags: list[str] | None = None
    skill: str | None = None


# Fields that null clears in a PATCH (an action); the others may not be null.
_CLEARABLE = frozenset({"team_id", "priority", "skill"})


def _skill(name: str | None) -> Skill | None:
    if name is None:
        return None
    found = Skill.objects.filter(name__iexact=name.strip()).first()
    if found is None:
        raise InvalidInput(_("There is no skill %(name)s.") % {"name": name}, field="skill")
    return found


def _service_values(user: User, values: dict[str, Any]) -> dict[str, Any]:
    """Body fields as the service's arguments: ids and names become rows, choices values."""
    result = dict(values)
    if "team_id" in result:
        team_id = result.pop("team_id")
        result["team"] = (
            referenced_team(user, team_id, field="team_id") if team_id is not None else None
        )
    if "priority" in result:
        name = result["priority"]
        result["priority"] = _PRIORITY_BY_NAME[name] if name is not None else None
    if "skill" in result:
        result["skill"] = _skill(result["skill"])
    if "channels" in result:
        result["channels"] = [str(c) for c in result["channels"]]
    return result


@router.get("/routing/rules", response=RuleList)
def list_routing_rules(request: HttpRequest) -> dict[str, Any]:
    return {"items": selectors.list_rules(request_user(request)), "next_cursor": None}


@router.post("/routing/rules", response={201: RuleOut})
def create_routing_rule(request: HttpRequest, payload: RuleCreate) -> HttpStatus[RoutingRule]:
    user = request_user(request)
    values = payload.model_dump()
    name, position = values.pop("name"), values.pop("position")
    with fields_renamed(_FIELD_NAMES):
        rule = services.create_rule(
            by=user, name=name, position=position, via=Via.API, **_service_values(user, values)
        )
    return HttpStatus(201, rule)


@router.get("/routing/rules/{rule_id}", response=RuleOut)
def get_routing_rule(request: HttpRequest, rule_id: int) -> RoutingRule:
    return selectors.access_rule(request_user(request), rule_id)


@router.patch("/routing/rules/{rule_id}", response=RuleOut)
def update_routing_rule(request: HttpRequest, rule_id: int, payload: RuleUpdate) -> RoutingRule:
    user = request_user(request)
    rule = selectors.access_rule(user, rule_id)
    changes = patch_changes(payload, clearable=_CLEARABLE)
    with fields_renamed(_FIELD_NAMES):
        return services.update_rule(rule, by=user, via=Via.API, **_service_values(user, changes))


@router.delete("/routing/rules/{rule_id}", response={204: None})
def delete_routing_rule(request: HttpRequest, rule_id: int) -> HttpStatus[None]:
    user = request_user(request)
    rule = selectors.access_rule(user, rule_id)
    services.delete_rule(rule, by=user, via=Via.API)
    return HttpStatus(204, None)
