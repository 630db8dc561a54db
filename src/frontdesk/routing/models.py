"""Routing rules, each team's way of assigning, agents' capacities, and the rows that keep
assignment fair and safe.

- `RoutingRule`: ordered conditions on a new conversation and what to set when they hold.
- `ConversationRouting`: which rule routed a conversation (once), and the skill it asked for.
- `TeamRouting`: manual, round-robin or least-loaded assignment for one team, and the
  default number of open conversations an agent of the team takes per channel.
- `AgentCapacity`: one agent's own limit for one channel, overriding the team default.
- `AgentLoad`: one row per agent, locked while a conversation is given to them, so two
  workers never both fill the agent's last free place; it also says when they last got one,
  of any team and of each team (the round-robin pointer), and keeps their running count of
  new and open conversations per channel, which the assignment decision reads instead of
  counting conversations.
- `SettingsVersion`: one row whose stamp changes with every rule, team setting or agent
  capacity, so each process knows with one small read whether what it keeps is current.
- `OwnerReminder`: the daily reminder an owner got about conversations they handed on.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontdesk.accounts.models import Skill, Team, User
from frontdesk.conversations.models import Channel, Conversation, Priority


class AssignmentMode(models.TextChoices):
    MANUAL = "manual", _("Manual")
    ROUND_ROBIN = "round_robin", _("Round-robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")


class RoutingRule(models.Model):
    """Conditions that must all hold (an empty one holds for anything) and what to set.

    Rules are tried by `position`, then id; the first whose conditions hold routes the
    conversation and the rest are not tried.
    """

    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    # Conditions. Lists hold when the conversation has any of the values.
    channels = models.JSONField(_("channels"), default=list, blank=True)
    # Ids, not foreign keys: mailboxes belong to the mail app beside this one.
    mailbox_ids = models.JSONField(_("mailboxes"), default=list, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    # Ids: a deleted or merged customer then matches nothing, where a nulled key would
    # turn the rule into one for everybody.
    customer_ids = models.JSONField(_("customers"), default=list, blank=True)
    company_ids = models.JSONField(_("companies"), default=list, blank=True)
    # Every key must hold exactly this value.
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    keywords = models.JSONField(_("keywords"), default=list, blank=True)

    # Actions.
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("set team"),
    )
    priority = models.PositiveSmallIntegerField(
        _("set priority"), choices=Priority.choices, null=True, blank=True
    )
    add_tags = models.JSONField(_("add tags"), default=list, blank=True)
    skill = models.ForeignKey(
        Skill,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("prefer agents with skill"),
    )

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self) -> str:
        return self.name


class ConversationRouting(models.Model):
    """A conversation the rules have looked at; its presence makes routing run once."""

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    rule = models.ForeignKey(
        RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The rule's name when it matched: the audit trail reads right after a rename or delete.
    rule_name = models.CharField(max_length=200, blank=True)
    skill = models.ForeignKey(
        Skill, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    routed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.conversation_id}: {self.rule_name or '-'}"


# Open conversations per agent and channel in a team that has not set its own.
DEFAULT_CAPACITY = 10


class TeamRouting(models.Model):
    team = models.OneToOneField(
        Team, on_delete=models.CASCADE, primary_key=True, related_name="routing"
    )
    mode = models.CharField(
        _("assignment"),
        max_length=20,
        choices=AssignmentMode.choices,
        default=AssignmentMode.MANUAL,
    )
    default_capacity = models.PositiveIntegerField(
        _("open conversations per agent and channel"), default=DEFAULT_CAPACITY
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.team_id}: {self.mode}"


class AgentCapacity(models.Model):
    """An agent's own limit of open conversations in one channel (0: none of that channel)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    max_open = models.PositiveIntegerField(_("open conversations at most"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "channel"], name="routing_capacity_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.channel} {self.max_open}"


def turn_text(at: datetime) -> str:
    """A time as AgentLoad.team_turns stores it: UTC, ISO, always with microseconds, so that
    comparing the texts compares the times."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


class AgentLoad(models.Model):
    """An agent's lock row for assignment, with their running load.

    `open_counts` ({channel: count}, channels without any left out) and `open_total` are the
    agent's assigned conversations in a working status (new, open), across all teams. They
    are written under this row's lock: by assignment in the transaction that assigns, by
    the reactions to conversation events after those commit, and by the reconcile job. A
    count may lag a change by the moment its reaction takes; assignment therefore counts
    the chosen agent's conversations again under the lock before it gives them one.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="+")
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    # {team id: when they last got a conversation of that team}, as UTC ISO text with
    # microseconds (turn_text), which sorts in time order: round-robin's pointer, kept on
    # the row assignment writes anyway rather than in a table of its own.
    team_turns = models.JSONField(default=dict, blank=True)
    open_counts = models.JSONField(default=dict, blank=True)
    open_total = models.PositiveIntegerField(default=0)
    # When the reconcile job last compared the counts with the conversations: it takes the
    # agents checked longest ago first, so its bounded runs go round everyone.
    checked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user_id}"


class SettingsVersion(models.Model):
    """The one row (id 1) whose stamp is replaced in every transaction that changes a rule,
    a team's assignment settings or an agent's own capacity.

    A random stamp rather than a counter or the latest updated_at: a rolled-back change or
    a clock that runs behind on another node can never bring back a value a process has
    already seen, so equal stamps mean the kept copy is current.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    stamp = models.CharField(max_length=32)
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.stamp


class OwnerReminder(models.Model):
    """One owner's reminder for one day (in their time zone): the day's run sends it once."""

    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    conversation_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    # Set by the one mail task that claims it, so a task run twice mails once.
    mailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "day"], name="routing_reminder_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.owner_id} {self.day}"
