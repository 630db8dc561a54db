"""Changing triggers, time rules, macros, canned replies and webhooks; applying a macro.

Rules, canned replies and webhooks are admins' (`by=None` is the trusted system); a macro
shared with everybody or a team is too, while agents keep personal macros of their own.
Every change validates first (rules.py, templating.py), then writes the row and its audit
Event in one transaction. Nothing reacts to these changes: triggers and rules are read
fresh each time they run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from frontdesk.accounts.models import Team, User
from frontdesk.accounts.permissions import require_admin
from frontdesk.accounts.selectors import team_ids_for
from frontdesk.automation import rules, templating, webhooks
from frontdesk.automation.actions import Acting, run_actions
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
)
from frontdesk.conversations import services as conversation_services
from frontdesk.conversations.models import Conversation, Message, MessageKind
from frontdesk.core.audit import record_event
from frontdesk.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from frontdesk.core.models import Via
from frontdesk.sla.models import BusinessCalendar

MAX_NAME = 200
MAX_AMOUNT = 10_000
Ordered = TypeVar("Ordered", Trigger, TimeRule)


def _name(value: Any) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise InvalidInput(_("Give it a name."), field="name")
    if len(name) > MAX_NAME:
        raise InvalidInput(_("Keep the name under %(max)d characters.") % {"max": MAX_NAME},
                           field="name")  # fmt: skip
    return name


def _check_name_free(
    model: type[CannedReply | Webhook], name: str, message: str, *, pk: int | None = None
) -> None:
    """Names are unique per kind; `pk` is the row being renamed."""
    taken = model.objects.filter(name=name)
    if pk is not None:
        taken = taken.exclude(pk=pk)
    if taken.exists():
        raise Conflict(message, field="name")


def _position(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(_("A position is a whole number from 0."), field="position")
    return value


def _renumber(rows: Sequence[Trigger | TimeRule], model: type[models.Model]) -> None:
    """Positions 0..n-1 in list order, so "move to 3" always means the fourth place."""
    stale = []
    for index, row in enumerate(rows):
        if row.position != index:
            row.position = index
            stale.append(row)
    if stale:
        model.objects.bulk_update(stale, ["position"])  # type: ignore[attr-defined]


def _place(model: type[Ordered], row: Ordered, position: int | None) -> None:
    """Save `row` at `position` (None: last, or where it is) and renumber the others."""
    rows = [
        r for r in model.objects.select_for_update().order_by("position", "id") if r.pk != row.pk
    ]
    if position is None:
        position = row.position if row.pk is not None else len(rows)
    rows.insert(min(_position(position), len(rows)), row)
    row.position = rows.index(row)
    row.save()
    _renumber(rows, model)


def _create_ordered(
    model: type[Ordered], cleaners: Mapping[str, Callable[[Any], Any]], values: Mapping[str, Any],
    *, position: int | None, by: User | None, via: str, action: str,
    describe: Callable[[Ordered], dict[str, Any]],
) -> Ordered:  # fmt: skip
    """Clean `values`, save the new row at `position` and audit it as `action`."""
    cleaned = {key: cleaners[key](value) for key, value in values.items()}
    at = timezone.now()
    with transaction.atomic():
        row = model(**cleaned, created_at=at, updated_at=at)
        _place(model, row, position)
        record_event(row, action=action, actor=by, via=via, at=at, data=describe(row))
    return row


def _update_ordered(
    model: type[Ordered], row: Ordered, cleaners: Mapping[str, Callable[[Any], Any]],
    changes: dict[str, Any], *, by: User | None, via: str, action: str,
    describe: Callable[[Ordered], dict[str, Any]], missing: str,
) -> Ordered:  # fmt: skip
    """Apply `changes` (`position` moves the row) and audit what really changed as `action`."""
    position = changes.pop("position", None)
    _no_unknown(changes, cleaners)
    cleaned = {key: cleaners[key](value) for key, value in changes.items()}
    at = timezone.now()
    with transaction.atomic():
        locked = model.objects.select_for_update().filter(pk=row.pk).first()
        if locked is None:
            raise NotFound(missing)
        before = describe(locked)
        for key, value in cleaned.items():
            setattr(locked, key, value)
        locked.updated_at = at
        _place(model, locked, position)
        after = describe(locked)
        changed = {key: after[key] for key in after if after[key] != before[key]}
        if changed:
            record_event(locked, action=action, actor=by, via=via, at=at, data=changed)
    return locked


def _delete_ordered(
    model: type[Ordered], row: Ordered, *, by: User | None, via: str, action: str
) -> None:
    with transaction.atomic():
        rows = list(model.objects.select_for_update().order_by("position", "id"))
        locked = next((r for r in rows if r.pk == row.pk), None)
        if locked is None:
            return
        record_event(locked, action=action, actor=by, via=via, data={"name": locked.name})
        locked.delete()
        rows.remove(locked)
        _renumber(rows, model)


def _no_unknown(changes: Mapping[str, Any], known: Mapping[str, Any]) -> None:
    unknown = set(changes) - set(known)
    if unknown:
        raise InvalidInput(_("Unknown field."), field=sorted(unknown)[0])


# --- triggers --------------------------------------------------------------------------------


def _events(value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidInput(_("Events are a list."), field="events")
    events = sorted({str(v) for v in value})
    unknown = set(events) - set(TriggerEvent.values)
    if unknown:
        raise InvalidInput(_("%(event)s is not an event.") % {"event": sorted(unknown)[0]},
                           field="events")  # fmt: skip
    if not events:
        raise InvalidInput(_("Choose at least one event."), field="events")
    return events


_TRIGGER_CLEANERS: dict[str, Callable[[Any], Any]] = {
    "name": _name,
    "description": lambda v: str(v or "").strip()[:2000],
    "active": bool,
    "events": _events,
    "conditions": rules.clean_conditions,
    "actions": rules.clean_actions,
}


def _trigger_data(trigger: Trigger) -> dict[str, Any]:
    return {key: getattr(trigger, key) for key in (*_TRIGGER_CLEANERS, "position")}


def create_trigger(
    *, by: User | None, name: str, events: Sequence[str], actions: Sequence[Mapping[str, Any]],
    conditions: Mapping[str, Any] | None = None, description: str = "", active: bool = True,
    position: int | None = None, via: str = Via.SYSTEM,
) -> Trigger:  # fmt: skip
    """Add a trigger; without a position it runs last."""
    require_admin(by, _("Only admins may change triggers."))
    values = {"name": name, "description": description, "active": active, "events": events,
              "conditions": conditions, "actions": actions}  # fmt: skip
    return _create_ordered(Trigger, _TRIGGER_CLEANERS, values, position=position, by=by, via=via,
                           action="automation.trigger_created", describe=_trigger_data)  # fmt: skip


def update_trigger(
    trigger: Trigger, *, by: User | None, via: str = Via.SYSTEM, **changes: Any
) -> Trigger:
    """Change some of name, description, active, events, conditions, actions, position."""
    require_admin(by, _("Only admins may change triggers."))
    return _update_ordered(Trigger, trigger, _TRIGGER_CLEANERS, changes, by=by, via=via,
                           action="automation.trigger_updated", describe=_trigger_data,
                           missing=_("No such trigger."))  # fmt: skip


def delete_trigger(trigger: Trigger, *, by: User | None, via: str = Via.SYSTEM) -> None:
    require_admin(by, _("Only admins may change triggers."))
    _delete_ordered(Trigger, trigger, by=by, via=via, action="automation.trigger_deleted")


# --- time rules ------------------------------------------------------------------------------


def _choice(allowed: Sequence[str], field: str) -> Callable[[Any], str]:
    def clean(value: Any) -> str:
        if value not in allowed:
            raise InvalidInput(_("Choose one of: %(allowed)s.") % {"allowed": ", ".join(allowed)},
                               field=field)  # fmt: skip
        return str(value)

    return clean


def _amount(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_AMOUNT:
        raise InvalidInput(_("Give a whole number from 1 to %(max)d.") % {"max": MAX_AMOUNT},
                           field="amount")  # fmt: skip
    return value


def _calendar(value: Any) -> BusinessCalendar | None:
    if value is None or isinstance(value, BusinessCalendar):
        return value
    found = BusinessCalendar.objects.filter(pk=value).first()
    if found is None:
        raise InvalidInput(_("There is no such calendar."), field="calendar")
    return found


_TIME_RULE_CLEANERS: dict[str, Callable[[Any], Any]] = {
    "name": _name,
    "active": bool,
    "anchor": _choice(TimeAnchor.values, "anchor"),
    "amount": _amount,
    "unit": _choice(TimeUnit.values, "unit"),
    "basis": _choice(TimeBasis.values, "basis"),
    "calendar": _calendar,
    "conditions": lambda v: rules.clean_conditions(v, allow_event_fields=False),
    "actions": rules.clean_actions,
}


def _time_rule_data(rule: TimeRule) -> dict[str, Any]:
    data = {key: getattr(rule, key) for key in _TIME_RULE_CLEANERS if key != "calendar"}
    return {**data, "calendar_id": rule.calendar_id, "position": rule.position}


def create_time_rule(
    *, by: User | None, name: str, amount: int, unit: str, actions: Sequence[Mapping[str, Any]],
    anchor: str = TimeAnchor.STATUS, basis: str = TimeBasis.BUSINESS,
    calendar: BusinessCalendar | int | None = None, conditions: Mapping[str, Any] | None = None,
    active: bool = True, position: int | None = None, via: str = Via.SYSTEM,
) -> TimeRule:  # fmt: skip
    """Add a time rule ("pending for 3 business days → ..."); without a position it runs last."""
    require_admin(by, _("Only admins may change time rules."))
    values = {"name": name, "active": active, "anchor": anchor, "amount": amount, "unit": unit,
              "basis": basis, "calendar": calendar, "conditions": conditions,
              "actions": actions}  # fmt: skip
    return _create_ordered(TimeRule, _TIME_RULE_CLEANERS, values, position=position, by=by,
                           via=via, action="automation.time_rule_created",
                           describe=_time_rule_data)  # fmt: skip


def update_time_rule(
    rule: TimeRule, *, by: User | None, via: str = Via.SYSTEM, **changes: Any
) -> TimeRule:
    require_admin(by, _("Only admins may change time rules."))
    return _update_ordered(TimeRule, rule, _TIME_RULE_CLEANERS, changes, by=by, via=via,
                           action="automation.time_rule_updated", describe=_time_rule_data,
                           missing=_("No such time rule."))  # fmt: skip


def delete_time_rule(rule: TimeRule, *, by: User | None, via: str = Via.SYSTEM) -> None:
    require_admin(by, _("Only admins may change time rules."))
    _delete_ordered(TimeRule, rule, by=by, via=via, action="automation.time_rule_deleted")


# --- macros ----------------------------------------------------------------------------------


def _macro_text(value: Any) -> str:
    return templating.check_template(str(value or "").strip(), field="text")


def _macro_actions(value: Any) -> list[dict[str, Any]]:
    return rules.clean_actions(value, allowed=sorted(rules.MACRO_ACTION_TYPES), required=False)


def _check_macro_scope(by: User | None, owner: User | None, team: Team | None) -> None:
    """Agents keep personal macros; shared ones (everybody, a team) are admins'."""
    if by is None or (by.is_active and by.is_admin):
        return
    if not (by.is_active and by.is_agent_staff):
        raise PermissionDenied(_("Only staff have macros."))
    if owner is None or owner.pk != by.pk:
        raise PermissionDenied(_("Only admins share macros; yours are personal."), field="scope")
    if team is not None:
        raise PermissionDenied(_("Only admins share macros; yours are personal."), field="team")


def _check_macro_content(text: str, actions: Sequence[Any]) -> None:
    if not text and not actions:
        raise InvalidInput(_("Give the macro a reply text or an action."), field="text")


def create_macro(
    *, by: User | None, name: str, text: str = "", actions: Sequence[Mapping[str, Any]] = (),
    owner: User | None = None, team: Team | None = None, active: bool = True,
    via: str = Via.SYSTEM,
) -> Macro:  # fmt: skip
    """A macro for everybody (no owner, no team), for one team, or personal (`owner`)."""
    if owner is not None and team is not None:
        raise InvalidInput(_("A macro is personal or shared with a team, not both."), field="team")
    _check_macro_scope(by, owner, team)
    clean_name, clean_text, clean_actions = _name(name), _macro_text(text), _macro_actions(actions)
    _check_macro_content(clean_text, clean_actions)
    at = timezone.now()
    with transaction.atomic():
        macro = Macro.objects.create(
            name=clean_name, text=clean_text, actions=clean_actions, owner=owner, team=team,
            active=bool(active), created_at=at, updated_at=at,
        )  # fmt: skip
        record_event(macro, action="automation.macro_created", actor=by, via=via, at=at,
                     data=_macro_data(macro))  # fmt: skip
    return macro


def _macro_data(macro: Macro) -> dict[str, Any]:
    return {
        "name": macro.name,
        "text": macro.text,
        "actions": macro.actions,
        "owner_id": macro.owner_id,
        "team_id": macro.team_id,
        "active": macro.active,
    }


def _as_given(value: Any) -> Any:
    return value


# In this order, so a change of several fields is refused on the first bad one.
_MACRO_CLEANERS: dict[str, Callable[[Any], Any]] = {
    "name": _name,
    "text": _macro_text,
    "actions": _macro_actions,
    "active": bool,
    "owner": _as_given,
    "team": _as_given,
}


def update_macro(macro: Macro, *, by: User | None, via: str = Via.SYSTEM, **changes: Any) -> Macro:
    _no_unknown(changes, _MACRO_CLEANERS)
    at = timezone.now()
    with transaction.atomic():
        locked = Macro.objects.select_for_update().filter(pk=macro.pk).first()
        if locked is None:
            raise NotFound(_("No such macro."))
        _check_macro_scope(by, locked.owner, locked.team)
        before = _macro_data(locked)
        for key, clean in _MACRO_CLEANERS.items():
            if key in changes:
                setattr(locked, key, clean(changes[key]))
        if locked.owner_id is not None and locked.team_id is not None:
            raise InvalidInput(_("A macro is personal or shared with a team, not both."),
                               field="team")  # fmt: skip
        _check_macro_scope(by, locked.owner, locked.team)
        _check_macro_content(locked.text, locked.actions)
        locked.updated_at = at
        locked.save()
        after = _macro_data(locked)
        changed = {key: after[key] for key in after if after[key] != before[key]}
        if changed:
            record_event(locked, action="automation.macro_updated", actor=by, via=via, at=at,
                         data=changed)  # fmt: skip
    return locked


def delete_macro(macro: Macro, *, by: User | None, via: str = Via.SYSTEM) -> None:
    with transaction.atomic():
        locked = Macro.objects.select_for_update().filter(pk=macro.pk).first()
        if locked is None:
            return
        _check_macro_scope(by, locked.owner, locked.team)
        record_event(locked, action="automation.macro_deleted", actor=by, via=via,
                     data={"name": locked.name})  # fmt: skip
        locked.delete()


def macro_cause(macro: Macro) -> dict[str, Any]:
    return {"kind": "macro", "id": macro.pk, "name": macro.name}


@dataclass(frozen=True)
class Composed:
    """What the agent sends from the composer with a macro applied."""

    mode: str  # MessageKind.REPLY or MessageKind.NOTE
    text: str
    then_status: str | None = None


def send_with_macro(
    conversation: Conversation,
    *,
    by: User,
    macro: Macro,
    composed: Composed,
    attachments: Sequence[conversation_services.Upload] = (),
    via: str = Via.SYSTEM,
    at: datetime | None = None,
) -> Message | None:
    """Send the composer's reply (or note), then the macro's actions, all or nothing.

    As in Zendesk, applying a macro only fills the composer; its actions happen when the
    agent sends, as the agent (their permissions), with the macro named in each audit row.
    A status chosen in the composer ("and set status") overrides the macro's. With the
    composer left empty, only the actions happen (and no message is sent).
    """
    if not (macro.active and (macro.owner_id is None or macro.owner_id == by.pk)):
        raise NotFound(_("No such macro."), field="macro")
    if macro.team_id is not None and not by.is_admin and macro.team_id not in team_ids_for(by):
        raise NotFound(_("No such macro."), field="macro")
    at = at or timezone.now()
    files = conversation_services.store_uploads(attachments)
    actions = [a for a in macro.actions if not (composed.then_status and a["type"] == "set_status")]
    silent = not composed.text.strip() and not files and bool(actions or composed.then_status)
    if silent and composed.then_status:
        actions.append({"type": "set_status", "value": composed.then_status})
    message: Message | None = None
    with transaction.atomic():
        if silent:
            pass
        elif composed.mode == MessageKind.NOTE:
            message = conversation_services.add_note(
                conversation, by=by, text=composed.text, via=via, at=at, attachments=files
            )
        else:
            message = conversation_services.add_reply(
                conversation, by=by, text=composed.text, status=composed.then_status, via=via,
                at=at, attachments=files,
            )  # fmt: skip
        run_actions(conversation, actions, Acting(by=by, via=via, cause=macro_cause(macro), at=at))
    return message


# --- canned replies --------------------------------------------------------------------------


def _texts(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise InvalidInput(_("Texts are given by language."), field="texts")
    spoken = {code for code, _name in settings.LANGUAGES}
    cleaned: dict[str, str] = {}
    for code, text in value.items():
        language = str(code).strip().lower()
        if language not in spoken:
            raise InvalidInput(_("%(code)s is not a language of this site.") % {"code": code},
                               field="texts")  # fmt: skip
        body = str(text or "").strip()
        if body:
            cleaned[language] = templating.check_template(body, field=f"texts.{language}")
    if not cleaned:
        raise InvalidInput(_("Write the text in at least one language."), field="texts")
    return cleaned


def create_canned_reply(
    *, by: User | None, name: str, texts: Mapping[str, str], active: bool = True,
    via: str = Via.SYSTEM,
) -> CannedReply:  # fmt: skip
    require_admin(by, _("Only admins may change canned replies."))
    clean_name, clean_texts = _name(name), _texts(texts)
    at = timezone.now()
    with transaction.atomic():
        _check_name_free(CannedReply, clean_name, _("A canned reply with this name exists."))
        canned = CannedReply.objects.create(
            name=clean_name, texts=clean_texts, active=bool(active), created_at=at, updated_at=at
        )
        record_event(canned, action="automation.canned_reply_created", actor=by, via=via, at=at,
                     data={"name": clean_name, "languages": sorted(clean_texts)})  # fmt: skip
    return canned


def update_canned_reply(
    canned: CannedReply, *, by: User | None, via: str = Via.SYSTEM, **changes: Any
) -> CannedReply:
    require_admin(by, _("Only admins may change canned replies."))
    _no_unknown(changes, dict.fromkeys(("name", "texts", "active")))
    at = timezone.now()
    with transaction.atomic():
        locked = CannedReply.objects.select_for_update().filter(pk=canned.pk).first()
        if locked is None:
            raise NotFound(_("No such canned reply."))
        if "name" in changes:
            locked.name = _name(changes["name"])
            _check_name_free(
                CannedReply, locked.name, _("A canned reply with this name exists."), pk=locked.pk
            )
        if "texts" in changes:
            locked.texts = _texts(changes["texts"])
        if "active" in changes:
            locked.active = bool(changes["active"])
        locked.updated_at = at
        locked.save()
        record_event(locked, action="automation.canned_reply_updated", actor=by, via=via, at=at,
                     data={"fields": sorted(changes)})  # fmt: skip
    return locked


def delete_canned_reply(canned: CannedReply, *, by: User | None, via: str = Via.SYSTEM) -> None:
    require_admin(by, _("Only admins may change canned replies."))
    with transaction.atomic():
        record_event(canned, action="automation.canned_reply_deleted", actor=by, via=via,
                     data={"name": canned.name})  # fmt: skip
        CannedReply.objects.filter(pk=canned.pk).delete()


# --- webhooks --------------------------------------------------------------------------------


def _webhook_data(webhook: Webhook) -> dict[str, Any]:
    # Never the secret, not even encrypted: the audit trail is read by more people.
    return {"name": webhook.name, "url": webhook.url, "active": webhook.active}


def create_webhook(
    *, by: User | None, name: str, url: str, secret: str = "", active: bool = True,
    via: str = Via.SYSTEM,
) -> Webhook:  # fmt: skip
    """Add a webhook; without a secret one is made. Read it back with `webhooks.readable_secret`."""
    require_admin(by, _("Only admins may change webhooks."))
    clean_name, clean_url = _name(name), webhooks.check_url(url)
    plain = _secret(secret) or webhooks.new_secret()
    at = timezone.now()
    with transaction.atomic():
        _check_name_free(Webhook, clean_name, _("A webhook with this name exists."))
        webhook = Webhook.objects.create(
            name=clean_name, url=clean_url, secret=webhooks.stored_secret(plain),
            active=bool(active), created_at=at, updated_at=at,
        )  # fmt: skip
        record_event(webhook, action="automation.webhook_created", actor=by, via=via, at=at,
                     data=_webhook_data(webhook))  # fmt: skip
    return webhook


def _secret(value: str) -> str:
    secret = (value or "").strip()
    if secret and len(secret) < 16:  # noqa: PLR2004 - shorter is guessable
        raise InvalidInput(_("A secret has at least 16 characters."), field="secret")
    if len(secret) > 200:  # noqa: PLR2004
        raise InvalidInput(_("A secret has at most 200 characters."), field="secret")
    return secret


def update_webhook(
    webhook: Webhook, *, by: User | None, via: str = Via.SYSTEM, **changes: Any
) -> Webhook:
    """Change name, url, active; `secret` sets a new one ("" makes a new one at random)."""
    require_admin(by, _("Only admins may change webhooks."))
    _no_unknown(changes, dict.fromkeys(("name", "url", "active", "secret")))
    at = timezone.now()
    with transaction.atomic():
        locked = Webhook.objects.select_for_update().filter(pk=webhook.pk).first()
        if locked is None:
            raise NotFound(_("No such webhook."))
        if "name" in changes:
            locked.name = _name(changes["name"])
            _check_name_free(
                Webhook, locked.name, _("A webhook with this name exists."), pk=locked.pk
            )
        if "url" in changes:
            locked.url = webhooks.check_url(str(changes["url"]))
        if "active" in changes:
            locked.active = bool(changes["active"])
        if "secret" in changes:
            locked.secret = webhooks.stored_secret(
                _secret(str(changes["secret"] or "")) or webhooks.new_secret()
            )
        locked.updated_at = at
        locked.save()
        data = {**_webhook_data(locked), "secret_changed": "secret" in changes}
        record_event(locked, action="automation.webhook_updated", actor=by, via=via, at=at,
                     data=data)  # fmt: skip
    return locked


def delete_webhook(webhook: Webhook, *, by: User | None, via: str = Via.SYSTEM) -> None:
    """Remove a webhook with its delivery log; actions naming it then send nothing."""
    require_admin(by, _("Only admins may change webhooks."))
    with transaction.atomic():
        record_event(webhook, action="automation.webhook_deleted", actor=by, via=via,
                     data=_webhook_data(webhook))  # fmt: skip
        Webhook.objects.filter(pk=webhook.pk).delete()
