"""What each agent finds under the bell: things that happened to conversations they care about."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontdesk.conversations.models import Conversation, Message

# Enough of a message to recognise it in a list; the conversation has the rest.
EXCERPT_CHARS = 200


class NotificationKind(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned to you")
    CUSTOMER_REPLIED = "customer_replied", _("Customer replied")
    NEW_IN_TEAM = "new_in_team", _("New in your team")
    MENTIONED = "mentioned", _("Mentioned you")


class Notification(models.Model):
    """One notice for one person; read once they opened it or marked all read."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="+", verbose_name=_("conversation")
    )
    # The message it is about (the customer's, the note mentioning someone), if any.
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    excerpt = models.CharField(_("excerpt"), max_length=EXCERPT_CHARS, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at", "-id"], name="notification_recipient_new"
            ),
            # The bell's count and "mark all read" touch only the unread rows.
            models.Index(
                fields=["recipient", "-created_at", "-id"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]
        constraints = [
            # A task run twice does not tell anyone twice about the same message.
            models.UniqueConstraint(
                fields=["recipient", "kind", "message"],
                condition=Q(message__isnull=False),
                name="notification_once_per_message",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.conversation_id} for {self.recipient_id}"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None
