"""REST API v1: SLA policies (staff read them, admins write them) and a conversation's timers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status as HttpStatus
from pydantic import Field

from frontdesk.accounts.api import request_user
from frontdesk.accounts.models import User
from frontdesk.conversations import selectors as conversation_selectors
from frontdesk.conversations.models import Channel, Conversation, Priority
from frontdesk.core.api_support import CursorPageOut, Input, patch_changes
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.models import Via
from frontdesk.sla import selectors, services
from frontdesk.sla.models import BusinessCalendar, ConversationSla, SlaPolicy, TimeBasis
from frontdesk.sla.policies import TARGET_KINDS

router = Router(tags=["SLA policies"])

PriorityName = Literal["low", "normal", "high", "urgent"]
TargetName = Literal["first_response", "next_response", "resolution"]
Minutes = Annotated[int, Field(ge=1, le=services.MAX_TARGET_MINUTES)]

_PRIORITY_BY_NAME: dict[str, int] = {p.name.lower(): p.value for p in Priority}
_NAME_BY_PRIORITY: dict[int, str] = {value: name for name, value in _PRIORITY_BY_NAME.items()}


# --- schemas ----------------------------------------------------------------------------------


class Conditions(Schema):
    """A conversation matches when it matches every list given (any value of a list)."""

    priorities: list[PriorityName] = []
    channels: list[Channel] = []
    mailbox_ids: list[int] = []
    team_ids: list[int] = []
    customer_ids: list[int] = []
    company_ids: list[int] = []
    tags: list[str] = []


class ConditionsIn(Conditions, Input):
    pass


class TargetOut(Schema):
    priority: PriorityName
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None


class TargetIn(Input):
    priority: PriorityName
    first_response_minutes: Minutes | None = None
    next_response_minutes: Minutes | None = None
    resolution_minutes: Minutes | None = None


class ActionOut(Schema):
    """notify: `to` some of assignee, team_lead, supervisors; reassign: to `user_id` and/or
    `team_id` (a transfer; the owner keeps following); raise_priority: one step up."""

    type: Literal["notify", "reassign", "raise_priority"]
    to: list[Literal["assignee", "team_lead", "supervisors"]] | None = None
    user_id: int | None = None
    team_id: int | None = None


class ActionIn(ActionOut, Input):
    pass


class PolicyOut(Schema):
    id: int
    name: str
    position: int
    active: bool
    conditions: Conditions
    targets: list[TargetOut]
    time_basis: TimeBasis
    calendar_id: int | None
    warning_percent: int
    warning_actions: list[ActionOut]
    breach_actions: list[ActionOut]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_conditions(obj: SlaPolicy) -> dict[str, Any]:
        conditions = dict(obj.conditions or {})
        conditions["priorities"] = [
            _NAME_BY_PRIORITY[p] for p in conditions.get("priorities", []) if p in _NAME_BY_PRIORITY
        ]
        return conditions

    @staticmethod
    def resolve_targets(obj: SlaPolicy) -> list[dict[str, Any]]:
        return [
            {**row, "priority": _NAME_BY_PRIORITY.get(row["priority"], "normal")}
            for row in obj.targets or []
        ]


class PolicyList(CursorPageOut):
    items: list[PolicyOut]


class PolicyCreate(Input):
    name: str
    active: bool = True
    conditions: ConditionsIn = Field(default_factory=ConditionsIn)
    targets: list[TargetIn]
    time_basis: TimeBasis = TimeBasis.BUSINESS
    # Null: the default calendar (business time only).
    calendar_id: int | None = None
    warning_percent: int = 75
    warning_actions: list[ActionIn] = []
    breach_actions: list[ActionIn] = []


class PolicyUpdate(Input):
    name: str | None = None
    active: bool | None = None
    conditions: ConditionsIn | None = None
    targets: list[TargetIn] | None = None
    time_basis: TimeBasis | None = None
    calendar_id: int | None = None
    warning_percent: int | None = None
    warning_actions: list[ActionIn] | None = None
    breach_actions: list[ActionIn] | None = None


class ReorderIn(Input):
    """Every policy's id once, in the order they are to be tried."""

    policy_ids: list[int]


class TimerOut(Schema):
    target: TargetName
    started_at: datetime | None
    due_at: datetime | None
    warning_at: datetime | None
    met_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None


class ConversationTimersOut(Schema):
    policy_id: int | None
    policy: str | None
    paused_since: datetime | None
    timers: list[TimerOut]


# --- helpers ----------------------------------------------------------------------------------


def _conditions(payload: ConditionsIn) -> dict[str, Any]:
    values = payload.model_dump()
    values["priorities"] = [_PRIORITY_BY_NAME[name] for name in values["priorities"]]
    return {key: value for key, value in values.items() if value}


def _targets(payload: list[TargetIn]) -> list[dict[str, Any]]:
    return [{**row.model_dump(), "priority": _PRIORITY_BY_NAME[row.priority]} for row in payload]


def _actions(payload: list[ActionIn]) -> list[dict[str, Any]]:
    return [
        {key: value for key, value in action.model_dump().items() if value is not None}
        for action in payload
    ]


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "conditions": _conditions,
    "targets": _targets,
    "warning_actions": _actions,
    "breach_actions": _actions,
}


def _service_values(user: User, values: dict[str, Any]) -> dict[str, Any]:
    """A body's fields as the policy services take them: priorities by number, the
    calendar as a row (`calendar_id: null` is the default calendar)."""
    for key, convert in _CONVERTERS.items():
        if key in values:
            values[key] = convert(values[key])
    if "calendar_id" in values:
        values["calendar"] = _calendar(user, values.pop("calendar_id"))
    return values


def _calendar(user: User, calendar_id: int | None) -> BusinessCalendar | None:
    if calendar_id is None:
        return None
    try:
        return selectors.access_calendar(user, calendar_id)
    except NotFound:
        raise InvalidInput(
            _("There is no calendar %(id)s.") % {"id": calendar_id}, field="calendar_id"
        ) from None


# --- routes -----------------------------------------------------------------------------------


@router.get("/sla/policies", response=PolicyList)
def list_policies(request: HttpRequest) -> dict[str, Any]:
    """Every policy in the order they are tried (the first active match applies)."""
    return {"items": selectors.list_policies(request_user(request)), "next_cursor": None}


@router.post("/sla/policies", response={201: PolicyOut})
def create_policy(request: HttpRequest, payload: PolicyCreate) -> HttpStatus[SlaPolicy]:
    """Add a policy after the others (admins)."""
    user = request_user(request)
    given = {key: getattr(payload, key) for key in PolicyCreate.model_fields}
    policy = services.create_policy(by=user, via=Via.API, **_service_values(user, given))
    return HttpStatus(201, policy)


# Before the routes with an id, which would take "reorder" for one.
@router.post("/sla/policies/reorder", response=PolicyList)
def reorder_policies(request: HttpRequest, payload: ReorderIn) -> dict[str, Any]:
    """Set the order in which policies are tried (admins)."""
    user = request_user(request)
    ordered = services.reorder_policies(by=user, policy_ids=payload.policy_ids, via=Via.API)
    return {"items": ordered, "next_cursor": None}


@router.get("/sla/policies/{policy_id}", response=PolicyOut)
def get_policy(request: HttpRequest, policy_id: int) -> SlaPolicy:
    return selectors.access_policy(request_user(request), policy_id)


@router.patch("/sla/policies/{policy_id}", response=PolicyOut)
def update_policy(request: HttpRequest, policy_id: int, payload: PolicyUpdate) -> SlaPolicy:
    """Change what is given; `calendar_id: null` goes back to the default calendar."""
    user = request_user(request)
    policy = selectors.access_policy(user, policy_id)
    changes = _service_values(user, patch_changes(payload, clearable={"calendar_id"}))
    return services.update_policy(policy, by=user, via=Via.API, **changes)


@router.delete("/sla/policies/{policy_id}", response={204: None})
def delete_policy(request: HttpRequest, policy_id: int) -> HttpStatus[None]:
    user = request_user(request)
    services.delete_policy(selectors.access_policy(user, policy_id), by=user, via=Via.API)
    return HttpStatus(204, None)


@router.get("/sla/conversations/{number}", response=ConversationTimersOut)
def get_conversation_timers(request: HttpRequest, number: int) -> dict[str, Any]:
    """A conversation's SLA timers, target by target (staff)."""
    user = request_user(request)
    conversation = conversation_selectors.access_conversation(user, number)
    if not user.is_agent_staff:
        raise NotFound(_("No such conversation."))
    return _timers(conversation, selectors.conversation_timers(user, conversation))


def _timers(conversation: Conversation, row: ConversationSla | None) -> dict[str, Any]:
    if row is None:
        return {"policy_id": None, "policy": None, "paused_since": None, "timers": []}
    return {
        "policy_id": row.policy_id,
        "policy": row.policy.name if row.policy is not None else None,
        "paused_since": row.paused_since,
        "timers": [
            {
                "target": kind,
                "started_at": row.next_response_started_at if kind == "next_response" else (
                    None if kind == "first_response" and not row.first_response_applies
                    else conversation.created_at
                ),
                "due_at": getattr(row, f"{kind}_due_at"),
                "warning_at": getattr(row, f"{kind}_warn_at"),
                "met_at": getattr(row, f"{kind}_met_at"),
                "warned_at": getattr(row, f"{kind}_warned_at"),
                "breached_at": getattr(row, f"{kind}_breached_at"),
            }
            for kind in TARGET_KINDS
        ],
    }  # fmt: skip
