"""Conversations (tickets), their messages and attachments, tags and custom fields.

Only `conversations/services.py` writes these rows; a check in `make test`
keeps `.save()` and `.update()` on them out of every other module.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontdesk.accounts.models import Team, User
from frontdesk.customers.models import Company, Customer


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    ON_HOLD = "on_hold", _("On hold")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


# Which status may follow which. Closed is final: a customer writing again
# after that starts a follow-up conversation.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED}),
    Status.OPEN: frozenset({Status.PENDING, Status.ON_HOLD, Status.SOLVED}),
    Status.PENDING: frozenset({Status.OPEN, Status.ON_HOLD, Status.SOLVED}),
    Status.ON_HOLD: frozenset({Status.OPEN, Status.PENDING, Status.SOLVED}),
    Status.SOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}

ACTIVE_STATUSES = frozenset({Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD})


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    PORTAL = "portal", _("Portal")
    CHAT = "chat", _("Chat")
    PHONE = "phone", _("Phone")
    VISIT = "visit", _("Visit")
    MESSAGING = "messaging", _("Messaging")
    API = "api", _("API")


class Tag(models.Model):
    """A label; `name` is stored lower-case and trimmed so tags never split by spelling."""

    name = models.CharField(_("name"), max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FieldKind(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")
    CHECKBOX = "checkbox", _("Checkbox")


class CustomFieldDefinition(models.Model):
    """A field admins add to conversations; values live in Conversation.custom_fields by key."""

    key = models.SlugField(_("key"), max_length=64, unique=True)
    label = models.CharField(_("label"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=FieldKind.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required_to_solve = models.BooleanField(_("required to solve"), default=False)
    visible_to_customers = models.BooleanField(_("visible to customers"), default=False)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.key


_ACTIVE = models.Q(status__in=sorted(ACTIVE_STATUSES))
_SOLVED = models.Q(status=Status.SOLVED)


class Conversation(models.Model):
    number = models.BigIntegerField(_("number"), unique=True)
    subject = models.CharField(_("subject"), max_length=500)
    # No single-column index on customer, company, team or assignee: each leads a composite
    # index below (conv_customer_act, conv_company_act, conv_team_status_act,
    # conv_assignee_status_act), which serves the same lookups and deletes (ADR 0009).
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="conversations",
        verbose_name=_("customer"),
        db_index=False,
    )
    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
        verbose_name=_("company"),
        db_index=False,
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
        verbose_name=_("team"),
        db_index=False,
    )
    assignee = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_conversations",
        verbose_name=_("assignee"),
        db_index=False,
    )
    owner = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_conversations",
        verbose_name=_("owner"),
        help_text=_("Keeps following the conversation after a transfer."),
    )
    tags = models.ManyToManyField(Tag, through="ConversationTag", related_name="conversations")
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    journey_stage = models.CharField(_("journey stage"), max_length=64, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )

    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    last_customer_activity_at = models.DateTimeField(null=True, blank=True)
    last_agent_activity_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The SLA summary lives in ConversationDue, a narrow row of its own (ADR 0009).

    class Meta:
        ordering = ["-last_activity_at", "-id"]
        indexes = [
            models.Index(
                fields=["team", "status", "-last_activity_at", "-id"], name="conv_team_status_act"
            ),
            models.Index(
                fields=["assignee", "status", "-last_activity_at", "-id"],
                name="conv_assignee_status_act",
            ),
            models.Index(fields=["customer", "-last_activity_at", "-id"], name="conv_customer_act"),
            models.Index(fields=["status", "-last_activity_at", "-id"], name="conv_status_act"),
            models.Index(fields=["-last_activity_at", "-id"], name="conv_act"),
            models.Index(fields=["updated_at", "id"], name="conv_updated"),
            models.Index(fields=["company", "-last_activity_at", "-id"], name="conv_company_act"),
            # The inbox lists active conversations (a tenth of the rows) in three
            # orders, and counts recently solved ones; partial indexes keep both small.
            models.Index(
                fields=["-last_activity_at", "-id"], condition=_ACTIVE, name="conv_active_act"
            ),
            models.Index(
                fields=["team", "-last_activity_at", "-id"],
                condition=_ACTIVE,
                name="conv_active_team_act",
            ),
            models.Index(
                fields=["-created_at", "-id"], condition=_ACTIVE, name="conv_active_created"
            ),
            models.Index(
                fields=["team", "-created_at", "-id"],
                condition=_ACTIVE,
                name="conv_active_team_created",
            ),
            models.Index(
                fields=["-priority", "-last_activity_at", "-id"],
                condition=_ACTIVE,
                name="conv_active_prio",
            ),
            models.Index(
                fields=["team", "-priority", "-last_activity_at", "-id"],
                condition=_ACTIVE,
                name="conv_active_team_prio",
            ),
            models.Index(fields=["solved_at"], condition=_SOLVED, name="conv_solved_at"),
            models.Index(
                fields=["team", "solved_at"], condition=_SOLVED, name="conv_team_solved_at"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    @property
    def sla_summary(self) -> ConversationDue | None:
        """The SLA summary row, None without one; select_related("sla_due") saves its query."""
        try:
            return self.sla_due
        except ConversationDue.DoesNotExist:
            return None


class ConversationDue(models.Model):
    """What a conversation shows of its SLA timers: badges, "Due soonest", At risk.

    A narrow row of its own (ADR 0009): a recount rewrites thousands of these, and on the
    conversation row each such write went into every one of its indexes. The sla app keeps
    the full timers and writes these through services.set_sla_due only; a conversation
    with nothing to show (no due time, no warning, not breached, not paused) has no row.
    """

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, primary_key=True, related_name="sla_due"
    )
    # The earliest due time of a target still running; none while paused or when all are met.
    due_at = models.DateTimeField(_("SLA due"), null=True, blank=True)
    # The earliest warning time of those targets: at risk from then on.
    warning_at = models.DateTimeField(null=True, blank=True)
    # A target of the SLA was missed (in its current cycle).
    breached = models.BooleanField(default=False)
    # The SLA clock stands still (pending or on hold).
    paused = models.BooleanField(default=False)

    class Meta:
        indexes = [
            # "Due soonest" and At risk walk the running timers in due order.
            models.Index(
                fields=["due_at", "conversation"],
                condition=models.Q(due_at__isnull=False),
                name="convdue_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}: {self.due_at}"


class ConversationTag(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "tag"], name="conversation_tag_unique")
        ]
        indexes = [models.Index(fields=["tag", "conversation"], name="convtag_tag_conv")]

    def __str__(self) -> str:
        return f"{self.conversation_id}:{self.tag_id}"


class MessageKind(models.TextChoices):
    CUSTOMER = "customer", _("Customer message")
    REPLY = "reply", _("Reply")
    NOTE = "note", _("Internal note")
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    SYSTEM = "system", _("System")


PUBLIC_KINDS = frozenset({MessageKind.CUSTOMER, MessageKind.REPLY})


class DeliveryStatus(models.TextChoices):
    NONE = "", _("Not sent")
    QUEUED = "queued", _("Queued")
    # Claimed by one worker for one attempt; a claim older than the send timeout is stale.
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    kind = models.CharField(max_length=20, choices=MessageKind.choices)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    author_user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    email_message_id = models.CharField(max_length=998, blank=True, db_index=True)
    email_in_reply_to = models.CharField(max_length=998, blank=True)
    email_references = models.TextField(blank=True)
    delivery_status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.NONE, blank=True
    )
    delivery_error = models.TextField(blank=True)
    # When delivery_status last changed: finds replies stuck in queued or sending.
    delivery_updated_at = models.DateTimeField(null=True, blank=True)
    moved_from = models.ForeignKey(
        Conversation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The conversation this message was in before a merge."),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["conversation", "created_at", "id"], name="msg_conv_created"),
            # The outbound sweep looks only at replies still on their way.
            models.Index(
                fields=["delivery_updated_at"],
                condition=models.Q(delivery_status__in=["queued", "sending"]),
                name="msg_delivery_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} in {self.conversation_id}"

    @property
    def is_public(self) -> bool:
        return self.kind in PUBLIC_KINDS


def attachment_name(sha256: str) -> str:
    """Content-addressed: the stored name never comes from the client."""
    return f"attachments/{sha256[:2]}/{sha256}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return attachment_name(instance.sha256)


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    filename = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    content_type = models.CharField(max_length=127)
    inline = models.BooleanField(default=False)
    # The Content-ID of an email part (without <>), which "cid:" URLs in the message's HTML name.
    content_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class SavedView(models.Model):
    """An inbox view built from filters; private to its owner or shared with a team."""

    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="saved_views",
        verbose_name=_("owner"),
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="saved_views",
        verbose_name=_("shared with team"),
    )
    # Query-string style filters, validated by the inbox's filter form when saved and used.
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    sort = models.CharField(_("sort"), max_length=32, default="-last_activity_at")
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "name", "id"]
        indexes = [
            models.Index(fields=["owner", "position"], name="savedview_owner"),
            models.Index(fields=["team", "position"], name="savedview_team"),
        ]

    def __str__(self) -> str:
        return self.name
