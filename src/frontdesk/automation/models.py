"""Automations: triggers, time rules, macros, canned replies and signed webhooks.

- `Trigger`: on a conversation event, ordered conditions and actions (rules.py holds their
  shape and the checks; engine.py runs them).
- `TimeRule`: the same conditions and actions, checked by the scheduler once a
  conversation has stayed in a state long enough; `TimeRuleRun` makes it fire once per
  conversation and state.
- `Macro`: actions and a reply text an agent applies from the composer.
- `CannedReply`: a reply text with placeholders, in several languages.
- `Webhook`, `WebhookDelivery`, `WebhookAttempt`: where to POST, what to send, and every
  attempt at sending it.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontdesk.accounts.models import Team, User
from frontdesk.conversations.models import Conversation
from frontdesk.sla.models import BusinessCalendar


class TriggerEvent(models.TextChoices):
    CREATED = "conversation_created", _("Conversation created")
    CUSTOMER_REPLIED = "customer_replied", _("Customer replied")
    AGENT_REPLIED = "agent_replied", _("Agent replied")
    STATUS_CHANGED = "status_changed", _("Status changed")
    PRIORITY_CHANGED = "priority_changed", _("Priority changed")
    TEAM_CHANGED = "team_changed", _("Team changed")
    ASSIGNEE_CHANGED = "assignee_changed", _("Assignee changed")
    TAGS_CHANGED = "tags_changed", _("Tags changed")
    FIELDS_CHANGED = "fields_changed", _("Custom field changed")
    SLA_WARNING = "sla_warning", _("SLA warning")
    SLA_BREACHED = "sla_breached", _("SLA breached")


class Trigger(models.Model):
    """When one of `events` happens and the conditions hold, run the actions.

    Triggers run by `position`, then id; each sees what the ones before it changed.
    `conditions` is {"all": [...], "any": [...]}, `actions` a list (see rules.py).
    """

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)
    events = models.JSONField(_("events"), default=list)
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    actions = models.JSONField(_("actions"), default=list)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class TimeAnchor(models.TextChoices):
    STATUS = "status", _("Time in the current status")
    CREATED = "created", _("Time since created")
    CUSTOMER = "customer", _("Time since the customer's last message")
    AGENT = "agent", _("Time since the last agent reply")
    ACTIVITY = "activity", _("Time since the last activity")


class TimeUnit(models.TextChoices):
    HOURS = "hours", _("hours")
    DAYS = "days", _("days")


class TimeBasis(models.TextChoices):
    BUSINESS = "business", _("business time")
    CALENDAR = "calendar", _("calendar time")


class TimeRule(models.Model):
    """Once a conversation matching the conditions has spent `amount` `unit` since its
    `anchor`, run the actions, once per conversation and anchor time.

    In business time, hours are open hours and days are open days of the calendar (the
    default one when none is chosen).
    """

    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)
    anchor = models.CharField(
        _("measured from"), max_length=20, choices=TimeAnchor.choices, default=TimeAnchor.STATUS
    )
    amount = models.PositiveIntegerField(_("after"))
    unit = models.CharField(_("unit"), max_length=10, choices=TimeUnit.choices)
    basis = models.CharField(
        _("counted in"), max_length=10, choices=TimeBasis.choices, default=TimeBasis.BUSINESS
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("calendar"),
    )
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    actions = models.JSONField(_("actions"), default=list)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class TimeRuleRun(models.Model):
    """A time rule fired on a conversation for the state that began at `anchor_at`."""

    rule = models.ForeignKey(TimeRule, on_delete=models.CASCADE, related_name="runs")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    anchor_at = models.DateTimeField()
    fired_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "conversation", "anchor_at"], name="timerulerun_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}:{self.conversation_id}@{self.anchor_at.isoformat()}"


class Macro(models.Model):
    """Actions and a reply text an agent applies: shared with everybody, a team, or personal."""

    name = models.CharField(_("name"), max_length=200)
    text = models.TextField(_("reply text"), blank=True)
    actions = models.JSONField(_("actions"), default=list, blank=True)
    # Personal when `owner` is set; shared with one team when `team` is; else with everybody.
    owner = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="macros",
        verbose_name=_("owner"),
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="macros",
        verbose_name=_("team"),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class CannedReply(models.Model):
    """A reply text with placeholders; `texts` maps language codes to the text in each."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    texts = models.JSONField(_("texts"), default=dict)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Webhook(models.Model):
    """Where an action POSTs; `secret` is stored encrypted and signs every request."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    url = models.URLField(_("URL"), max_length=2000)
    secret = models.TextField(blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One payload to POST to a webhook, retried with backoff until it is delivered or fails."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The rule that sent it, as the audit trail names it (the rule may be deleted since).
    cause = models.JSONField(default=dict, blank=True)
    event = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # When the current attempt was claimed: a fencing token against a worker that died.
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["webhook", "-created_at", "-id"], name="whdelivery_webhook"),
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state__in=["pending", "sending"]),
                name="whdelivery_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook_id}"


class WebhookAttempt(models.Model):
    """One POST: when, what came back (or what went wrong), and how long it took."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_rows"
    )
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    error = models.TextField(blank=True)
    ok = models.BooleanField(default=False)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"{self.delivery_id}#{self.number}"
