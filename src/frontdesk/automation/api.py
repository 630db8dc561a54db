"""REST API v1: triggers, time rules, macros, canned replies and webhooks.

Admins manage all of them. Agents list the macros and canned replies they may use and keep
personal macros of their own. Conditions and actions have the stored shape described in
`frontdesk.automation.rules`; ids name teams, users, calendars and webhooks. A webhook's
signing secret is shown once, in the answer that created it (or made a new one).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status as HttpStatus
from pydantic import Field

from frontdesk.accounts.api import referenced_team, request_user
from frontdesk.accounts.models import User
from frontdesk.automation import selectors, services, webhooks
from frontdesk.automation.models import (
    CannedReply,
    Macro,
    TimeAnchor,
    TimeBasis,
    TimeRule,
    TimeUnit,
    Trigger,
    TriggerEvent,
    Webhook,
    WebhookDelivery,
)
from frontdesk.core.api_support import CursorPageOut, Input, patch_changes
from frontdesk.core.errors import InvalidInput
from frontdesk.core.models import Via

router = Router(tags=["automation"])

Name = Annotated[str, Field(min_length=1, max_length=200)]
Position = Annotated[int, Field(ge=0)]
Conditions = dict[str, list[dict[str, Any]]]
Actions = list[dict[str, Any]]


# --- triggers --------------------------------------------------------------------------------


class TriggerOut(Schema):
    id: int
    name: str
    description: str
    position: int
    active: bool
    events: list[str]
    conditions: Conditions
    actions: Actions
    created_at: datetime
    updated_at: datetime


class TriggerList(CursorPageOut):
    items: list[TriggerOut]


class TriggerCreate(Input):
    name: Name
    description: str = ""
    position: Position | None = None
    active: bool = True
    events: list[TriggerEvent]
    conditions: Conditions = {}
    actions: Actions


class TriggerUpdate(Input):
    name: Name | None = None
    description: str | None = None
    position: Position | None = None
    active: bool | None = None
    events: list[TriggerEvent] | None = None
    conditions: Conditions | None = None
    actions: Actions | None = None


class MatchOut(Schema):
    number: int
    subject: str
    status: str


class DryRunOut(Schema):
    count: int
    capped: bool
    clock_holds: bool
    conversations: list[MatchOut]


@router.get("/automation/triggers", response=TriggerList)
def list_triggers(request: HttpRequest) -> dict[str, Any]:
    return {"items": selectors.list_triggers(request_user(request)), "next_cursor": None}


@router.post("/automation/triggers", response={201: TriggerOut})
def create_trigger(request: HttpRequest, payload: TriggerCreate) -> HttpStatus[Trigger]:
    values = payload.model_dump()
    trigger = services.create_trigger(by=request_user(request), via=Via.API, **values)
    return HttpStatus(201, trigger)


@router.get("/automation/triggers/{trigger_id}", response=TriggerOut)
def get_trigger(request: HttpRequest, trigger_id: int) -> Trigger:
    return selectors.access_trigger(request_user(request), trigger_id)


@router.patch("/automation/triggers/{trigger_id}", response=TriggerOut)
def update_trigger(request: HttpRequest, trigger_id: int, payload: TriggerUpdate) -> Trigger:
    user = request_user(request)
    trigger = selectors.access_trigger(user, trigger_id)
    return services.update_trigger(trigger, by=user, via=Via.API, **patch_changes(payload))


@router.delete("/automation/triggers/{trigger_id}", response={204: None})
def delete_trigger(request: HttpRequest, trigger_id: int) -> HttpStatus[None]:
    user = request_user(request)
    services.delete_trigger(selectors.access_trigger(user, trigger_id), by=user, via=Via.API)
    return HttpStatus(204, None)


@router.get("/automation/triggers/{trigger_id}/dry-run", response=DryRunOut)
def dry_run_trigger(request: HttpRequest, trigger_id: int) -> selectors.DryRun:
    """Open conversations the trigger's conditions hold for now (at most 50 listed)."""
    user = request_user(request)
    return selectors.dry_run(user, selectors.access_trigger(user, trigger_id).conditions)


# --- time rules ------------------------------------------------------------------------------


class TimeRuleOut(Schema):
    id: int
    name: str
    position: int
    active: bool
    anchor: str
    amount: int
    unit: str
    basis: str
    calendar_id: int | None
    conditions: Conditions
    actions: Actions


class TimeRuleList(CursorPageOut):
    items: list[TimeRuleOut]


class TimeRuleCreate(Input):
    name: Name
    position: Position | None = None
    active: bool = True
    anchor: TimeAnchor = TimeAnchor.STATUS
    amount: Annotated[int, Field(ge=1, le=services.MAX_AMOUNT)]
    unit: TimeUnit
    basis: TimeBasis = TimeBasis.BUSINESS
    calendar_id: int | None = None
    conditions: Conditions = {}
    actions: Actions


class TimeRuleUpdate(Input):
    name: Name | None = None
    position: Position | None = None
    active: bool | None = None
    anchor: TimeAnchor | None = None
    amount: Annotated[int, Field(ge=1, le=services.MAX_AMOUNT)] | None = None
    unit: TimeUnit | None = None
    basis: TimeBasis | None = None
    calendar_id: int | None = None
    conditions: Conditions | None = None
    actions: Actions | None = None


def _time_rule_values(values: dict[str, Any]) -> dict[str, Any]:
    if "calendar_id" in values:
        values["calendar"] = values.pop("calendar_id")
    return values


@router.get("/automation/time-rules", response=TimeRuleList)
def list_time_rules(request: HttpRequest) -> dict[str, Any]:
    return {"items": selectors.list_time_rules(request_user(request)), "next_cursor": None}


@router.post("/automation/time-rules", response={201: TimeRuleOut})
def create_time_rule(request: HttpRequest, payload: TimeRuleCreate) -> HttpStatus[TimeRule]:
    values = _time_rule_values(payload.model_dump())
    rule = services.create_time_rule(by=request_user(request), via=Via.API, **values)
    return HttpStatus(201, rule)


@router.get("/automation/time-rules/{rule_id}", response=TimeRuleOut)
def get_time_rule(request: HttpRequest, rule_id: int) -> TimeRule:
    return selectors.access_time_rule(request_user(request), rule_id)


@router.patch("/automation/time-rules/{rule_id}", response=TimeRuleOut)
def update_time_rule(request: HttpRequest, rule_id: int, payload: TimeRuleUpdate) -> TimeRule:
    user = request_user(request)
    rule = selectors.access_time_rule(user, rule_id)
    changes = _time_rule_values(patch_changes(payload, clearable={"calendar_id"}))
    return services.update_time_rule(rule, by=user, via=Via.API, **changes)


@router.delete("/automation/time-rules/{rule_id}", response={204: None})
def delete_time_rule(request: HttpRequest, rule_id: int) -> HttpStatus[None]:
    user = request_user(request)
    services.delete_time_rule(selectors.access_time_rule(user, rule_id), by=user, via=Via.API)
    return HttpStatus(204, None)


# --- macros ----------------------------------------------------------------------------------

Scope = Literal["everybody", "team", "personal"]


class MacroOut(Schema):
    id: int
    name: str
    text: str
    actions: Actions
    active: bool
    shared_with: Scope
    team_id: int | None
    owner_id: int | None

    @staticmethod
    def resolve_shared_with(obj: Macro) -> str:
        if obj.owner_id is not None:
            return "personal"
        return "team" if obj.team_id is not None else "everybody"


class MacroList(CursorPageOut):
    items: list[MacroOut]


class MacroCreate(Input):
    name: Name
    text: str = ""
    actions: Actions = []
    active: bool = True
    shared_with: Scope = "personal"
    team_id: int | None = None


class MacroUpdate(Input):
    name: Name | None = None
    text: str | None = None
    actions: Actions | None = None
    active: bool | None = None
    shared_with: Scope | None = None
    team_id: int | None = None


def _macro_scope(user: User, shared_with: str, team_id: int | None) -> dict[str, Any]:
    if shared_with == "personal":
        return {"owner": user, "team": None}
    if shared_with == "team":
        if team_id is None:
            raise InvalidInput(_("Name the team."), field="team_id")
        return {"owner": None, "team": referenced_team(user, team_id, field="team_id")}
    return {"owner": None, "team": None}


@router.get("/automation/macros", response=MacroList)
def list_macros(request: HttpRequest) -> dict[str, Any]:
    """Macros the caller may see: admins all, agents those shared with them and their own."""
    return {"items": selectors.list_macros(request_user(request)), "next_cursor": None}


@router.post("/automation/macros", response={201: MacroOut})
def create_macro(request: HttpRequest, payload: MacroCreate) -> HttpStatus[Macro]:
    user = request_user(request)
    scope = _macro_scope(user, payload.shared_with, payload.team_id)
    macro = services.create_macro(
        by=user, name=payload.name, text=payload.text, actions=payload.actions,
        active=payload.active, via=Via.API, **scope,
    )  # fmt: skip
    return HttpStatus(201, macro)


@router.get("/automation/macros/{macro_id}", response=MacroOut)
def get_macro(request: HttpRequest, macro_id: int) -> Macro:
    return selectors.access_macro(request_user(request), macro_id)


@router.patch("/automation/macros/{macro_id}", response=MacroOut)
def update_macro(request: HttpRequest, macro_id: int, payload: MacroUpdate) -> Macro:
    user = request_user(request)
    macro = selectors.access_macro(user, macro_id)
    changes = patch_changes(payload, clearable={"team_id"})
    if "shared_with" in changes or "team_id" in changes:
        shared = changes.pop("shared_with", None) or MacroOut.resolve_shared_with(macro)
        changes.update(_macro_scope(user, shared, changes.pop("team_id", macro.team_id)))
        if shared == "personal" and macro.owner_id is not None:
            changes["owner"] = macro.owner
    return services.update_macro(macro, by=user, via=Via.API, **changes)


@router.delete("/automation/macros/{macro_id}", response={204: None})
def delete_macro(request: HttpRequest, macro_id: int) -> HttpStatus[None]:
    user = request_user(request)
    services.delete_macro(selectors.access_macro(user, macro_id), by=user, via=Via.API)
    return HttpStatus(204, None)


# --- canned replies --------------------------------------------------------------------------


class CannedReplyOut(Schema):
    id: int
    name: str
    texts: dict[str, str]
    active: bool


class CannedReplyList(CursorPageOut):
    items: list[CannedReplyOut]


class CannedReplyCreate(Input):
    name: Name
    texts: dict[str, str]
    active: bool = True


class CannedReplyUpdate(Input):
    name: Name | None = None
    texts: dict[str, str] | None = None
    active: bool | None = None


@router.get("/automation/canned-replies", response=CannedReplyList)
def list_canned_replies(request: HttpRequest) -> dict[str, Any]:
    return {"items": selectors.list_canned_replies(request_user(request)), "next_cursor": None}


@router.post("/automation/canned-replies", response={201: CannedReplyOut})
def create_canned_reply(
    request: HttpRequest, payload: CannedReplyCreate
) -> HttpStatus[CannedReply]:
    canned = services.create_canned_reply(by=request_user(request), via=Via.API,
                                          **payload.model_dump())  # fmt: skip
    return HttpStatus(201, canned)


@router.get("/automation/canned-replies/{canned_id}", response=CannedReplyOut)
def get_canned_reply(request: HttpRequest, canned_id: int) -> CannedReply:
    return selectors.access_canned_reply(request_user(request), canned_id)


@router.patch("/automation/canned-replies/{canned_id}", response=CannedReplyOut)
def update_canned_reply(
    request: HttpRequest, canned_id: int, payload: CannedReplyUpdate
) -> CannedReply:
    user = request_user(request)
    canned = selectors.access_canned_reply(user, canned_id)
    return services.update_canned_reply(canned, by=user, via=Via.API, **patch_changes(payload))


@router.delete("/automation/canned-replies/{canned_id}", response={204: None})
def delete_canned_reply(request: HttpRequest, canned_id: int) -> HttpStatus[None]:
    user = request_user(request)
    canned = selectors.access_canned_reply(user, canned_id)
    services.delete_canned_reply(canned, by=user, via=Via.API)
    return HttpStatus(204, None)


# --- webhooks --------------------------------------------------------------------------------


class WebhookOut(Schema):
    id: int
    name: str
    url: str
    active: bool
    created_at: datetime


class WebhookWithSecret(WebhookOut):
    secret: str | None = Field(
        description="The signing secret: only in the answer that created it or made a new one."
    )

    @staticmethod
    def resolve_secret(obj: Webhook) -> str | None:
        return webhooks.readable_secret(obj) if getattr(obj, _SHOW_SECRET, False) else None


_SHOW_SECRET = "_show_secret"  # noqa: S105 - an attribute name


def _with_secret(webhook: Webhook) -> Webhook:
    setattr(webhook, _SHOW_SECRET, True)
    return webhook


class WebhookList(CursorPageOut):
    items: list[WebhookOut]


class WebhookCreate(Input):
    name: Name
    url: Annotated[str, Field(min_length=1, max_length=2000)]
    secret: str = Field("", description="At least 16 characters; empty: one is made.")
    active: bool = True


class WebhookUpdate(Input):
    name: Name | None = None
    url: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    active: bool | None = None
    new_secret: bool = Field(False, description="Make a new secret, returned in the answer.")


class AttemptOut(Schema):
    number: int
    at: datetime
    status_code: int | None
    duration_ms: int
    error: str
    ok: bool


class DeliveryOut(Schema):
    id: int
    event: str
    conversation_id: int | None
    state: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str
    created_at: datetime
    finished_at: datetime | None
    attempt_log: list[AttemptOut]

    @staticmethod
    def resolve_attempt_log(obj: WebhookDelivery) -> list[Any]:
        return list(obj.attempt_rows.all())


class DeliveryList(CursorPageOut):
    items: list[DeliveryOut]


@router.get("/automation/webhooks", response=WebhookList)
def list_webhooks(request: HttpRequest) -> dict[str, Any]:
    return {"items": selectors.list_webhooks(request_user(request)), "next_cursor": None}


@router.post("/automation/webhooks", response={201: WebhookWithSecret})
def create_webhook(request: HttpRequest, payload: WebhookCreate) -> HttpStatus[Webhook]:
    webhook = services.create_webhook(by=request_user(request), via=Via.API, **payload.model_dump())
    return HttpStatus(201, _with_secret(webhook))


@router.get("/automation/webhooks/{webhook_id}", response=WebhookOut)
def get_webhook(request: HttpRequest, webhook_id: int) -> Webhook:
    return selectors.access_webhook(request_user(request), webhook_id)


@router.patch("/automation/webhooks/{webhook_id}", response=WebhookWithSecret)
def update_webhook(request: HttpRequest, webhook_id: int, payload: WebhookUpdate) -> Webhook:
    """Change the webhook; with `new_secret` the answer carries the new secret."""
    user = request_user(request)
    webhook = selectors.access_webhook(user, webhook_id)
    changes = patch_changes(payload)
    new_secret = bool(changes.pop("new_secret", False))
    if new_secret:
        changes["secret"] = ""
    updated = services.update_webhook(webhook, by=user, via=Via.API, **changes)
    return _with_secret(updated) if new_secret else updated


@router.delete("/automation/webhooks/{webhook_id}", response={204: None})
def delete_webhook(request: HttpRequest, webhook_id: int) -> HttpStatus[None]:
    user = request_user(request)
    services.delete_webhook(selectors.access_webhook(user, webhook_id), by=user, via=Via.API)
    return HttpStatus(204, None)


@router.get("/automation/webhooks/{webhook_id}/deliveries", response=DeliveryList)
def list_webhook_deliveries(request: HttpRequest, webhook_id: int) -> dict[str, Any]:
    """The latest deliveries (at most 50), each with every attempt."""
    user = request_user(request)
    webhook = selectors.access_webhook(user, webhook_id)
    return {"items": selectors.list_deliveries(user, webhook), "next_cursor": None}
