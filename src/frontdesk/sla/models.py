"""Business-hours calendars, the SLA policies counted on them, and each conversation's timers.

Calendars say when a desk is open, in its own time zone.

A calendar is its weekly hours (several a day for split shifts, overnight when a shift
closes at or before it opens), or 24/7; public holidays of a country (and region) from the
`holidays` package; and special days that close a date or open it on other hours. The maths
on them is `core.business_time`; `sla/schedules.py` turns these rows into its input.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class BusinessCalendar(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64)
    is_24_7 = models.BooleanField(_("open 24/7"), default=False)
    holiday_country = models.CharField(_("public holidays of"), max_length=2, blank=True)
    holiday_subdivision = models.CharField(_("region"), max_length=32, blank=True)
    # The calendar SLA policies use when they name none; at most one row holds it.
    is_default = models.BooleanField(_("default calendar"), default=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Bumped by every change, hours and special days included: cached schedules key on it.
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="sla_calendar_one_default",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class WeeklyHours(models.Model):
    """One span of opening hours on a weekday; `closes` at or before `opens` is the next day."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="weekly_hours"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["weekday", "opens", "id"]
        verbose_name = _("weekly hours")
        verbose_name_plural = _("weekly hours")
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="sla_weekly_hours_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class SpecialDay(models.Model):
    """A date closed all day (no hours), or open only on the hours given.

    Special hours override the weekly hours and a public holiday on that date.
    """

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="special_days"
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True)
    opens = models.TimeField(_("opens"), null=True, blank=True)
    closes = models.TimeField(_("closes"), null=True, blank=True)

    class Meta:
        ordering = ["date", "id"]
        verbose_name = _("special day")
        verbose_name_plural = _("special days")
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="sla_special_day_once"),
            models.CheckConstraint(
                condition=Q(opens__isnull=True, closes__isnull=True)
                | Q(opens__isnull=False, closes__isnull=False),
                name="sla_special_day_both_or_no_hours",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


# --- SLA policies and the timers they set ---------------------------------------------------


class TimeBasis(models.TextChoices):
    BUSINESS = "business", _("Business hours")
    CALENDAR = "calendar", _("Calendar time (24/7)")


class Target(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")


class SlaPolicy(models.Model):
    """Written promises for the conversations it matches; the first active match applies.

    `conditions` holds lists by kind (priorities, channels, mailbox_ids, team_ids,
    customer_ids, company_ids, tags): a conversation matches when it matches every kind
    given, and a kind matches when the conversation has any of its values. `targets` holds
    one entry a priority with its first response, next response and resolution in minutes
    (null: no target). Actions are lists of {"type": ...} entries (see sla/policies.py).
    Only sla/services.py writes these rows, and checks all of it.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    targets = models.JSONField(_("targets"), default=list, blank=True)
    time_basis = models.CharField(
        _("counted in"), max_length=10, choices=TimeBasis.choices, default=TimeBasis.BUSINESS
    )
    # None: the default calendar.
    calendar = models.ForeignKey(
        BusinessCalendar,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sla_policies",
        verbose_name=_("calendar"),
    )
    warning_percent = models.PositiveSmallIntegerField(_("warn at (% of the target)"), default=75)
    warning_actions = models.JSONField(_("on warning"), default=list, blank=True)
    breach_actions = models.JSONField(_("on breach"), default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(warning_percent__gte=1, warning_percent__lte=99),
                name="sla_policy_warning_percent",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ConversationSla(models.Model):
    """The SLA timers of one conversation, written only by sla/timers.py.

    For each target: when it is due and when its warning comes (None while the clock is
    paused or the target does not apply), when it was met, and when its warning and breach
    were recorded (once each: the periodic check skips what is recorded). The next-response
    target runs once per customer message that waits for an answer, from
    `next_response_started_at`; a new cycle starts with clean marks. Paused time (pending, on
    hold, solved) is added up in wall seconds and in business seconds of the policy's
    calendar, and each target's due time moves by what paused after it started.
    `next_check_at` is the next warning or due time not yet recorded: the periodic check
    walks its index.
    """

    conversation = models.OneToOneField(
        "conversations.Conversation",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="sla",
    )
    # Not indexed: nothing looks timers up by policy, and a recount rewrites this row often.
    policy = models.ForeignKey(
        SlaPolicy,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # The mailbox the conversation came in through (mail sits above sla: kept as a number).
    mailbox_id = models.BigIntegerField(null=True, blank=True)
    # False for a conversation an agent opened: nobody waits for a first response.
    first_response_applies = models.BooleanField(default=True)

    first_response_due_at = models.DateTimeField(null=True, blank=True)
    first_response_warn_at = models.DateTimeField(null=True, blank=True)
    first_response_met_at = models.DateTimeField(null=True, blank=True)
    first_response_warned_at = models.DateTimeField(null=True, blank=True)
    first_response_breached_at = models.DateTimeField(null=True, blank=True)

    next_response_started_at = models.DateTimeField(null=True, blank=True)
    # The paused totals when this cycle started, so only later pauses move its due time.
    next_response_paused_base_s = models.BigIntegerField(default=0)
    next_response_paused_base_business_s = models.BigIntegerField(default=0)
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_warn_at = models.DateTimeField(null=True, blank=True)
    next_response_met_at = models.DateTimeField(null=True, blank=True)
    next_response_warned_at = models.DateTimeField(null=True, blank=True)
    next_response_breached_at = models.DateTimeField(null=True, blank=True)

    resolution_due_at = models.DateTimeField(null=True, blank=True)
    resolution_warn_at = models.DateTimeField(null=True, blank=True)
    resolution_met_at = models.DateTimeField(null=True, blank=True)
    resolution_warned_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)

    paused_since = models.DateTimeField(null=True, blank=True)
    paused_s = models.BigIntegerField(default=0)
    paused_business_s = models.BigIntegerField(default=0)

    next_check_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("conversation SLA")
        verbose_name_plural = _("conversation SLAs")
        indexes = [
            models.Index(
                fields=["next_check_at"],
                condition=Q(next_check_at__isnull=False),
                name="sla_conv_next_check",
            ),
        ]

    def __str__(self) -> str:
        return f"SLA of {self.conversation_id}"
