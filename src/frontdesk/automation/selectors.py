"""Reads of the automation app: rules for admins, macros and canned replies for agents,
the dry run, and the facts placeholders and conditions read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from frontdesk.accounts.models import User
from frontdesk.accounts.selectors import team_ids_for
from frontdesk.automation import matching
from frontdesk.automation.models import (
    CannedReply,
    Macro,
    TimeRule,
    Trigger,
    Webhook,
    WebhookDelivery,
)
from frontdesk.automation.templating import PlaceholderSource
from frontdesk.conversations.models import (
    ACTIVE_STATUSES,
    Conversation,
    Message,
    MessageKind,
)
from frontdesk.conversations.permissions import visible_scope
from frontdesk.core.errors import NotFound

DRY_RUN_LIMIT = 50
DRY_RUN_CAP = 1_000
DELIVERY_PAGE = 50


# --- rules, for admins ---------------------------------------------------------------------


def _admin_only(user: User) -> bool:
    return user.is_active and user.is_admin


def list_triggers(user: User) -> list[Trigger]:
    return list(Trigger.objects.all()) if _admin_only(user) else []


def access_trigger(user: User, pk: int) -> Trigger:
    found = Trigger.objects.filter(pk=pk).first() if _admin_only(user) else None
    if found is None:
        raise NotFound(_("No such trigger."))
    return found


def list_time_rules(user: User) -> list[TimeRule]:
    return list(TimeRule.objects.select_related("calendar")) if _admin_only(user) else []


def access_time_rule(user: User, pk: int) -> TimeRule:
    found = TimeRule.objects.filter(pk=pk).first() if _admin_only(user) else None
    if found is None:
        raise NotFound(_("No such time rule."))
    return found


def list_webhooks(user: User) -> list[Webhook]:
    return list(Webhook.objects.all()) if _admin_only(user) else []


def access_webhook(user: User, pk: int) -> Webhook:
    found = Webhook.objects.filter(pk=pk).first() if _admin_only(user) else None
    if found is None:
        raise NotFound(_("No such webhook."))
    return found


def list_deliveries(
    user: User, webhook: Webhook, *, limit: int = DELIVERY_PAGE
) -> list[WebhookDelivery]:
    if not _admin_only(user):
        return []
    return list(
        WebhookDelivery.objects.filter(webhook=webhook)
        .select_related("conversation")
        .prefetch_related("attempt_rows")
        .order_by("-created_at", "-id")[:limit]
    )


def _canned_replies_for(user: User, *, active_only: bool = False) -> QuerySet[CannedReply]:
    """Staff see the active ones; admins the inactive ones too, unless `active_only`."""
    if not (user.is_active and user.is_agent_staff):
        return CannedReply.objects.none()
    found = CannedReply.objects.all()
    return found.filter(active=True) if active_only or not user.is_admin else found


def list_canned_replies(user: User, *, active_only: bool = False) -> list[CannedReply]:
    return list(_canned_replies_for(user, active_only=active_only))


def access_canned_reply(user: User, pk: int) -> CannedReply:
    found = _canned_replies_for(user).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("No such canned reply."))
    return found


# --- macros ------------------------------------------------------------------------------------


def _macros_for(user: User) -> QuerySet[Macro]:
    """Shared with everybody, with one of the user's teams, or their own; admins see all."""
    if not (user.is_active and user.is_agent_staff):
        return Macro.objects.none()
    if user.is_admin:
        return Macro.objects.all()
    return Macro.objects.filter(
        Q(owner__isnull=True, team__isnull=True)
        | Q(owner__isnull=True, team_id__in=sorted(team_ids_for(user)))
        | Q(owner=user)
    )


def list_macros(user: User, *, usable_only: bool = False) -> list[Macro]:
    """Macros the user may see; `usable_only`: the active ones in their composer (admins
    get those shared with them and their own, not every colleague's personal macro)."""
    found = _macros_for(user).select_related("team", "owner")
    if usable_only:
        found = found.filter(active=True).filter(Q(owner__isnull=True) | Q(owner=user))
    return list(found)


def access_macro(user: User, pk: int) -> Macro:
    found = _macros_for(user).select_related("team", "owner").filter(pk=pk).first()
    if found is None:
        raise NotFound(_("No such macro."))
    return found


# --- placeholders ------------------------------------------------------------------------------


def base_language(code: str) -> str:
    return code.strip().lower().replace("_", "-").split("-")[0]


def placeholder_source(
    conversation: Conversation, agent: User | None, *, language: str | None = None
) -> PlaceholderSource:
    """The facts behind the placeholders; `conversation` with customer and company loaded."""
    customer = conversation.customer
    spoken = {code for code, _name in settings.LANGUAGES}
    wanted = language or base_language(customer.language) or base_language(conversation.language)
    return PlaceholderSource(
        customer_name=" ".join(customer.name.split()),
        company_name=conversation.company.name if conversation.company is not None else "",
        agent_first_name=(agent.first_name or agent.display_name) if agent is not None else "",
        agent_name=agent.display_name if agent is not None else "",
        number=conversation.number,
        subject=conversation.subject,
        sla_due_at=shown.due_at if (shown := conversation.sla_summary) else None,
        time_zone=customer.time_zone,
        language=wanted if wanted in spoken else settings.LANGUAGE_CODE,
    )


def language_preference(conversation: Conversation) -> list[str]:
    """The customer's language, the conversation's, then the default language."""
    order = [
        base_language(conversation.customer.language),
        base_language(conversation.language),
        base_language(settings.LANGUAGE_CODE),
    ]
    return [code for i, code in enumerate(order) if code and code not in order[:i]]


def pick_text(texts: Mapping[str, str], preference: Sequence[str]) -> tuple[str, str]:
    """(language, text): the first preferred language with a text, else the first text kept."""
    available = {base_language(code): text for code, text in texts.items() if text.strip()}
    for code in preference:
        if code in available:
            return code, available[code]
    configured = [base_language(code) for code, _name in settings.LANGUAGES]
    for code in [*configured, *sorted(available)]:
        if code in available:
            return code, available[code]
    return "", ""


def canned_text_for(canned: CannedReply, conversation: Conversation) -> tuple[str, str]:
    return pick_text(canned.texts, language_preference(conversation))


def conversation_for_composer(user: User, number: int) -> Conversation:
    """A conversation the user may work on, with what placeholders read."""
    found = (
        Conversation.objects.filter(visible_scope(user), number=number)
        .select_related("customer", "company", "sla_due")
        .first()
    )
    if found is None:
        raise NotFound(_("No such conversation."))
    return found


# --- triggers, for the engine --------------------------------------------------------------------


def triggers_for(event: str) -> list[Trigger]:
    return [t for t in Trigger.objects.filter(active=True) if event in t.events]


def facts_of(
    conversation_id: int, *, message_id: int | None, now: datetime
) -> matching.Facts | None:
    conversation = (
        Conversation.objects.select_related("customer", "company")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        return None
    text: str | None = None
    if message_id is not None:
        text = Message.objects.filter(pk=message_id).values_list("text", flat=True).first()
    return matching.Facts(
        conversation=conversation,
        tags=frozenset(conversation.tags.values_list("name", flat=True)),
        message_text=text,
        now=now,
    )


# --- dry run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DryRun:
    conversations: list[Conversation]
    # How many match, counted up to DRY_RUN_CAP; `capped` when there may be more.
    count: int
    capped: bool
    # False when a clock condition ("outside business hours") fails right now for every one.
    clock_holds: bool


def dry_run(
    user: User,
    conditions: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    now: datetime | None = None,
) -> DryRun:
    """Open conversations the user can see that the conditions hold for now, newest first.

    Nothing changes. Conditions SQL can decide are decided there; the message-text ones are
    checked on each candidate's latest customer message, for at most DRY_RUN_CAP candidates.
    """
    now = now or timezone.now()
    if not matching.holds_now(conditions, now):
        return DryRun(conversations=[], count=0, capped=False, clock_holds=False)
    found = (
        Conversation.objects.filter(visible_scope(user), status__in=sorted(ACTIVE_STATUSES))
        .filter(matching.as_q(conditions))
        .order_by("-last_activity_at", "-id")
    )
    if not matching.needs_python(conditions):
        count = found[: DRY_RUN_CAP + 1].count()
        shown = list(_for_rows(found)[:DRY_RUN_LIMIT])
        return DryRun(
            conversations=shown, count=min(count, DRY_RUN_CAP), capped=count > DRY_RUN_CAP,
            clock_holds=True,
        )  # fmt: skip
    latest = (
        Message.objects.filter(conversation=OuterRef("pk"), kind=MessageKind.CUSTOMER)
        .order_by("-created_at", "-id")
        .values("text")[:1]
    )
    candidates: list[Conversation] = list(
        _for_rows(found).annotate(latest_customer_text=Subquery(latest))[: DRY_RUN_CAP + 1]
    )
    capped = len(candidates) > DRY_RUN_CAP
    matches = [
        c
        for c in candidates[:DRY_RUN_CAP]
        if matching.holds(
            conditions,
            matching.Facts(
                conversation=c,
                tags=frozenset(t.name for t in c.tags.all()),
                message_text=getattr(c, "latest_customer_text", None),
                now=now,
            ),
        )
    ]
    return DryRun(
        conversations=matches[:DRY_RUN_LIMIT], count=len(matches), capped=capped, clock_holds=True
    )


def _for_rows(found: QuerySet[Conversation]) -> QuerySet[Conversation]:
    return found.select_related("customer", "company", "team", "assignee").prefetch_related("tags")
