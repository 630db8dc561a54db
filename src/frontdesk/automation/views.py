"""Manage → Automations (admins): triggers, time rules, macros, canned replies, webhooks;
and the composer's macro and canned-reply pickers (agents)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib import messages
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from frontdesk.accounts.decorators import acting_user, admin_required, or_404, staff_page
from frontdesk.accounts.models import User
from frontdesk.automation import rules, selectors, services, templating, webhooks
from frontdesk.automation.forms import (
    ACTION_LABELS,
    FIELD_LABELS,
    OP_LABELS,
    CannedReplyForm,
    MacroForm,
    RuleRows,
    TimeRuleForm,
    TriggerForm,
    WebhookForm,
    placeholder_help,
    typed_action,
    typed_condition_value,
)
from frontdesk.automation.models import (
    DeliveryState,
    Macro,
    TimeAnchor,
    TimeRule,
    Trigger,
    TriggerEvent,
)
from frontdesk.conversations import services as conversation_services
from frontdesk.conversations.models import Conversation, MessageKind
from frontdesk.conversations.selectors import conversation_with_messages

# The composer is the conversations app's: its state, its context and its upload checks.
from frontdesk.conversations.views.conversation import (
    _COMPOSER_FIELDS,
    Composer,
    _composer_context,
    _uploads,
)
from frontdesk.core.errors import ServiceError
from frontdesk.core.forms import apply_service_error
from frontdesk.core.models import Via
from frontdesk.core.ordering import move_step
from frontdesk.mail.crypto import CredentialError

Saved = TypeVar("Saved", bound=models.Model)


def _page(request: HttpRequest, template: str, tab: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, {"section": "manage", "manage_page": "automations",
                                      "tab": tab, **context})  # fmt: skip


def _describe_conditions(conditions: Mapping[str, Any]) -> list[str]:
    parts = []
    for group in ("all", "any"):
        for c in conditions.get(group, []):
            label = FIELD_LABELS.get(c["field"], c["field"].removeprefix(rules.CUSTOM_PREFIX))
            text = f"{label} {OP_LABELS.get(c['op'], c['op'])} {typed_condition_value(c)}".strip()
            parts.append(text if group == "all" else _("or: %(condition)s") % {"condition": text})
    return parts


def _describe_actions(actions: list[dict[str, Any]]) -> list[str]:
    parts = []
    for action in actions:
        row = typed_action(action)
        detail = row["value"] or row.get("subject") or (row.get("text") or "")[:40]
        parts.append(f"{ACTION_LABELS.get(action['type'], action['type'])} {detail}".strip())
    return parts


def _save_rule(
    form: Any, rows: RuleRows, save: Callable[[dict[str, Any]], Saved]
) -> tuple[Saved | None, str]:
    """(what `save` returned, or None when refused; an error about the rows as a whole)."""
    if not (form.is_valid() and rows.is_valid()):
        return None, ""
    conditions, actions = rows.conditions(), rows.stored_actions()
    if rows.rows_have_errors():
        return None, ""
    try:
        return save({**form.cleaned_data, "conditions": conditions, "actions": actions}), ""
    except ServiceError as error:
        if error.field in form.fields:
            apply_service_error(form, error)
            return None, ""
        return None, error.detail


def _rule_form_page(
    request: HttpRequest, form: Any, rows: RuleRows, save: Callable[[dict[str, Any]], Saved], *,
    saved_to: str, template: str, tab: str, context: dict[str, Any],
) -> HttpResponseBase:  # fmt: skip
    """The edit page of a trigger, time rule or macro: saved, it goes to `saved_to` (the row's
    edit page); refused or not yet posted, the form shows again with its rows."""
    rows_error = ""
    if request.method == "POST":
        saved, rows_error = _save_rule(form, rows, save)
        if saved is not None:
            messages.success(request, _("Saved."))
            return redirect(saved_to, pk=saved.pk)
    return _page(request, template, tab, {
        "form": form, "rows": rows, "rows_error": rows_error, "placeholders": placeholder_help(),
        **context,
    })  # fmt: skip


# --- triggers --------------------------------------------------------------------------------


@require_GET
@admin_required
def triggers(request: HttpRequest) -> HttpResponse:
    found = selectors.list_triggers(acting_user(request))
    events = dict(TriggerEvent.choices)
    rows = [
        (t, [events.get(e, e) for e in t.events], _describe_conditions(t.conditions),
         _describe_actions(t.actions))
        for t in found
    ]  # fmt: skip
    return _page(request, "automation/triggers.html", "triggers", {"rows": rows})


@admin_required
def trigger_edit(request: HttpRequest, pk: int | None = None) -> HttpResponseBase:
    admin = acting_user(request)
    trigger = or_404(lambda: selectors.access_trigger(admin, pk)) if pk is not None else None
    data = request.POST if request.method == "POST" else None
    initial = (
        {"name": trigger.name, "description": trigger.description, "active": trigger.active,
         "events": trigger.events} if trigger is not None else None
    )  # fmt: skip
    form = TriggerForm(data, initial=initial)
    rows = RuleRows(data, conditions=trigger.conditions if trigger else None,
                    actions=trigger.actions if trigger else ())  # fmt: skip

    def save(values: dict[str, Any]) -> Trigger:
        if trigger is None:
            return services.create_trigger(by=admin, via=Via.WEB, **values)
        return services.update_trigger(trigger, by=admin, via=Via.WEB, **values)

    return _rule_form_page(request, form, rows, save, saved_to="automation:trigger_edit",
                           template="automation/trigger_form.html", tab="triggers",
                           context={"rule": trigger})  # fmt: skip


@require_POST
@admin_required
def trigger_move(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    trigger = or_404(lambda: selectors.access_trigger(admin, pk))
    position = max(0, trigger.position + move_step(request))
    services.update_trigger(trigger, by=admin, via=Via.WEB, position=position)
    return redirect("automation:triggers")


@require_POST
@admin_required
def trigger_delete(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    trigger = or_404(lambda: selectors.access_trigger(admin, pk))
    services.delete_trigger(trigger, by=admin, via=Via.WEB)
    messages.success(request, _("Trigger %(name)s was deleted.") % {"name": trigger.name})
    return redirect("automation:triggers")


@require_GET
@admin_required
def trigger_dry_run(request: HttpRequest, pk: int) -> HttpResponse:
    admin = acting_user(request)
    trigger = or_404(lambda: selectors.access_trigger(admin, pk))
    found = selectors.dry_run(admin, trigger.conditions)
    return _page(request, "automation/dry_run.html", "triggers", {
        "rule": trigger, "result": found, "limit": selectors.DRY_RUN_LIMIT,
        "cap": selectors.DRY_RUN_CAP, "conditions": _describe_conditions(trigger.conditions),
    })  # fmt: skip


# --- time rules ------------------------------------------------------------------------------


@require_GET
@admin_required
def time_rules(request: HttpRequest) -> HttpResponse:
    found = selectors.list_time_rules(acting_user(request))
    anchors = dict(TimeAnchor.choices)
    rows = [
        (r, anchors.get(r.anchor, r.anchor), _describe_conditions(r.conditions),
         _describe_actions(r.actions))
        for r in found
    ]  # fmt: skip
    return _page(request, "automation/time_rules.html", "time_rules", {"rows": rows})


@admin_required
def time_rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponseBase:
    admin = acting_user(request)
    rule = or_404(lambda: selectors.access_time_rule(admin, pk)) if pk is not None else None
    data = request.POST if request.method == "POST" else None
    initial = (
        {"name": rule.name, "active": rule.active, "anchor": rule.anchor, "amount": rule.amount,
         "unit": rule.unit, "basis": rule.basis, "calendar": rule.calendar_id}
        if rule is not None else {"anchor": TimeAnchor.STATUS, "unit": "days", "basis": "business"}
    )  # fmt: skip
    form = TimeRuleForm(data, initial=initial)
    rows = RuleRows(data, conditions=rule.conditions if rule else None,
                    actions=rule.actions if rule else (), allow_event_fields=False)  # fmt: skip

    def save(values: dict[str, Any]) -> TimeRule:
        if rule is None:
            return services.create_time_rule(by=admin, via=Via.WEB, **values)
        return services.update_time_rule(rule, by=admin, via=Via.WEB, **values)

    return _rule_form_page(request, form, rows, save, saved_to="automation:time_rule_edit",
                           template="automation/time_rule_form.html", tab="time_rules",
                           context={"rule": rule})  # fmt: skip


@require_POST
@admin_required
def time_rule_move(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    rule = or_404(lambda: selectors.access_time_rule(admin, pk))
    position = max(0, rule.position + move_step(request))
    services.update_time_rule(rule, by=admin, via=Via.WEB, position=position)
    return redirect("automation:time_rules")


@require_POST
@admin_required
def time_rule_delete(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    rule = or_404(lambda: selectors.access_time_rule(admin, pk))
    services.delete_time_rule(rule, by=admin, via=Via.WEB)
    messages.success(request, _("Time rule %(name)s was deleted.") % {"name": rule.name})
    return redirect("automation:time_rules")


# --- macros ----------------------------------------------------------------------------------


@require_GET
@admin_required
def macros(request: HttpRequest) -> HttpResponse:
    found = selectors.list_macros(acting_user(request))
    rows = [(m, _describe_actions(m.actions)) for m in found]
    return _page(request, "automation/macros.html", "macros", {"rows": rows})


@admin_required
def macro_edit(request: HttpRequest, pk: int | None = None) -> HttpResponseBase:
    admin = acting_user(request)
    macro = or_404(lambda: selectors.access_macro(admin, pk)) if pk is not None else None
    data = request.POST if request.method == "POST" else None
    scope = "everybody"
    if macro is not None:
        scope = (
            f"team:{macro.team_id}"
            if macro.team_id
            else ("personal" if macro.owner_id else "everybody")
        )
    initial = (
        {"name": macro.name, "text": macro.text, "active": macro.active, "scope": scope}
        if macro
        else {"scope": scope}
    )
    form = MacroForm(data, user=admin, initial=initial)
    rows = RuleRows(data, actions=macro.actions if macro else (), with_conditions=False,
                    allowed_actions=sorted(rules.MACRO_ACTION_TYPES))  # fmt: skip

    def save(values: dict[str, Any]) -> Macro:
        fields = {"name": values["name"], "text": values["text"], "active": values["active"],
                  "actions": values["actions"], **form.scope_values(admin)}  # fmt: skip
        if macro is None:
            return services.create_macro(by=admin, via=Via.WEB, **fields)
        return services.update_macro(macro, by=admin, via=Via.WEB, **fields)

    return _rule_form_page(request, form, rows, save, saved_to="automation:macro_edit",
                           template="automation/macro_form.html", tab="macros",
                           context={"macro": macro})  # fmt: skip


@require_POST
@admin_required
def macro_delete(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    macro = or_404(lambda: selectors.access_macro(admin, pk))
    services.delete_macro(macro, by=admin, via=Via.WEB)
    messages.success(request, _("Macro %(name)s was deleted.") % {"name": macro.name})
    return redirect("automation:macros")


# --- canned replies --------------------------------------------------------------------------


@require_GET
@admin_required
def canned_replies(request: HttpRequest) -> HttpResponse:
    found = selectors.list_canned_replies(acting_user(request))
    return _page(request, "automation/canned_replies.html", "canned", {"rows": found})


@admin_required
def canned_reply_edit(request: HttpRequest, pk: int | None = None) -> HttpResponseBase:
    admin = acting_user(request)
    canned = or_404(lambda: selectors.access_canned_reply(admin, pk)) if pk is not None else None
    data = request.POST if request.method == "POST" else None
    initial: dict[str, Any] = {}
    if canned is not None:
        initial = {"name": canned.name, "active": canned.active,
                   **{f"text_{code}": text for code, text in canned.texts.items()}}  # fmt: skip
    form = CannedReplyForm(data, initial=initial)
    if data is not None and form.is_valid():
        values = {"name": form.cleaned_data["name"], "active": form.cleaned_data["active"],
                  "texts": form.texts()}  # fmt: skip
        try:
            if canned is None:
                canned = services.create_canned_reply(by=admin, via=Via.WEB, **values)
            else:
                canned = services.update_canned_reply(canned, by=admin, via=Via.WEB, **values)
        except ServiceError as error:
            name = (error.field or "").replace("texts.", "text_")
            form.add_error(name if name in form.fields else None, error.detail)
        else:
            messages.success(request, _("Saved."))
            return redirect("automation:canned_reply_edit", pk=canned.pk)
    return _page(request, "automation/canned_reply_form.html", "canned", {
        "form": form, "canned": canned, "placeholders": placeholder_help(),
    })  # fmt: skip


@require_POST
@admin_required
def canned_reply_delete(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    canned = or_404(lambda: selectors.access_canned_reply(admin, pk))
    services.delete_canned_reply(canned, by=admin, via=Via.WEB)
    messages.success(request, _("Canned reply %(name)s was deleted.") % {"name": canned.name})
    return redirect("automation:canned_replies")


# --- webhooks --------------------------------------------------------------------------------


@require_GET
@admin_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    found = selectors.list_webhooks(acting_user(request))
    return _page(request, "automation/webhooks.html", "webhooks", {"rows": found})


@admin_required
def webhook_edit(request: HttpRequest, pk: int | None = None) -> HttpResponseBase:
    admin = acting_user(request)
    webhook = or_404(lambda: selectors.access_webhook(admin, pk)) if pk is not None else None
    data = request.POST if request.method == "POST" else None
    initial = (
        {"name": webhook.name, "url": webhook.url, "active": webhook.active} if webhook else {}
    )
    form = WebhookForm(data, initial=initial)
    if data is not None and form.is_valid():
        values = {key: form.cleaned_data[key] for key in ("name", "url", "active")}
        try:
            if webhook is None:
                webhook = services.create_webhook(by=admin, via=Via.WEB, **values)
            else:
                if form.cleaned_data["new_secret"]:
                    values["secret"] = ""
                webhook = services.update_webhook(webhook, by=admin, via=Via.WEB, **values)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("automation:webhook_edit", pk=webhook.pk)
    secret = ""
    if webhook is not None:
        try:
            secret = webhooks.readable_secret(webhook)
        except CredentialError as error:
            secret = str(error)
    deliveries = selectors.list_deliveries(admin, webhook) if webhook is not None else []
    return _page(request, "automation/webhook_form.html", "webhooks", {
        "form": form, "webhook": webhook, "secret": secret, "deliveries": deliveries,
        "states": dict(DeliveryState.choices), "header": webhooks.SIGNATURE_HEADER,
    })  # fmt: skip


@require_POST
@admin_required
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    webhook = or_404(lambda: selectors.access_webhook(admin, pk))
    services.delete_webhook(webhook, by=admin, via=Via.WEB)
    messages.success(request, _("Webhook %(name)s was deleted.") % {"name": webhook.name})
    return redirect("automation:webhooks")


# --- the composer ----------------------------------------------------------------------------


@staff_page
@require_GET
def composer_tools(request: HttpRequest, user: User, number: int) -> HttpResponse:
    """The macro and canned-reply pickers under the composer, loaded after it."""
    conversation = selectors.conversation_for_composer(user, number)
    return render(request, "automation/_composer_tools.html", {
        "conversation": conversation,
        "macros": selectors.list_macros(user, usable_only=True),
        "canned_replies": selectors.list_canned_replies(user, active_only=True),
    })  # fmt: skip


def _rendered(text: str, conversation: Any, user: User, language: str | None = None) -> str:
    source = selectors.placeholder_source(conversation, user, language=language)
    return templating.render(text, templating.placeholder_values(source))


@staff_page
@require_GET
def macro_preview(request: HttpRequest, user: User, number: int, pk: int) -> JsonResponse:
    """What applying the macro puts in the composer: its text (rendered), the status it sets
    and a summary of its actions, which happen when the agent sends."""
    conversation = selectors.conversation_for_composer(user, number)
    macro = selectors.access_macro(user, pk)
    status = next((a["value"] for a in macro.actions if a["type"] == "set_status"), "")
    return JsonResponse({
        "id": macro.pk,
        "name": macro.name,
        "text": _rendered(macro.text, conversation, user),
        "status": status,
        "actions": _describe_actions(macro.actions),
    })  # fmt: skip


@staff_page
@require_GET
def canned_text(request: HttpRequest, user: User, number: int, pk: int) -> JsonResponse:
    """The canned reply in the customer's language (else the default), placeholders filled."""
    conversation = selectors.conversation_for_composer(user, number)
    canned = selectors.access_canned_reply(user, pk)
    if not canned.active:
        return JsonResponse({"error": _("No such canned reply.")}, status=404)
    language, text = selectors.canned_text_for(canned, conversation)
    return JsonResponse(
        {"language": language, "text": _rendered(text, conversation, user, language)}
    )


@dataclass
class MacroComposer(Composer):
    """The conversations app's composer, with the macro applied in it."""

    macro: int | None = None
    macro_name: str = ""


@staff_page
@require_POST
def macro_send(request: HttpRequest, user: User, number: int) -> HttpResponse:
    """The composer's send with a macro applied: the reply (or note), then the macro's actions.

    Answers like the composer's own send: the composer again (emptied, or with the error),
    and the conversation's changed event, which refreshes its thread and sidebar.
    """
    conversation, messages_list = conversation_with_messages(user, number)
    post = request.POST
    mode = MessageKind.NOTE if post.get("kind") == MessageKind.NOTE else MessageKind.REPLY
    macro = or_404(lambda: selectors.access_macro(user, _int(post.get("macro"))))
    composer = MacroComposer(
        mode=mode, text=post.get("text", ""),
        then_status=post.get("then_status", "") if mode == MessageKind.REPLY else "",
        had_files=bool(request.FILES.getlist("attachments")), sign=post.get("sign") == "1",
        seen=_int(post.get("seen")), macro=macro.pk, macro_name=macro.name,
    )  # fmt: skip
    if mode == MessageKind.REPLY and post.get("confirm") != "1":
        composer.newer = [m for m in messages_list if m.pk > composer.seen and m.is_public
                          and m.author_user_id != user.pk]  # fmt: skip
        if composer.newer:
            composer.seen = max(m.pk for m in messages_list)
            return _composer(request, conversation, composer)
    text = composer.text
    if mode == MessageKind.REPLY and composer.sign:
        text = conversation_services.signed_text(text, user.signature)
    try:
        services.send_with_macro(
            conversation, by=user, macro=macro,
            composed=services.Composed(
                mode=mode, text=text, then_status=composer.then_status or None
            ),
            attachments=_uploads(request), via=Via.WEB,
        )  # fmt: skip
    except ServiceError as error:
        composer.errors[_COMPOSER_FIELDS.get(error.field or "", "form")] = error.detail
        return _composer(request, conversation, composer)
    conversation, messages_list = conversation_with_messages(user, number)
    fresh = MacroComposer(mode=mode, seen=max((m.pk for m in messages_list), default=0), sent=mode)
    response = _composer(request, conversation, fresh)
    response["HX-Trigger"] = f"fd:conversation-{conversation.number}-changed"
    return response


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _composer(
    request: HttpRequest, conversation: Conversation, composer: MacroComposer
) -> HttpResponse:
    if request.headers.get("HX-Request") != "true":
        if not composer.sent:
            messages.error(request, next(iter(composer.errors.values()), _("Not sent.")))
        return redirect("conversations:detail", number=conversation.number)
    context = _composer_context(conversation, composer)
    return HttpResponse(render_to_string("conversations/_composer.html", context, request=request))
