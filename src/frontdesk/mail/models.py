"""Mailboxes: where the email channel reads mail (IMAP) and sends it (SMTP).

Passwords and tokens are stored only as ciphertext (`mail/crypto.py`); the
plaintext exists only while connecting.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontdesk.accounts.models import Team
from frontdesk.conversations.models import Conversation, Message


class Security(models.TextChoices):
    SSL = "ssl", _("SSL/TLS")
    STARTTLS = "starttls", _("STARTTLS")
    NONE = "none", _("None (unencrypted)")


class ImapAuth(models.TextChoices):
    PASSWORD = "password", _("Password")
    OAUTH2 = "oauth2", _("OAuth2 access token (XOAUTH2)")


class Mailbox(models.Model):
    """One address customers write to, and the servers behind it."""

    name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("email address"), max_length=254, unique=True)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    default_team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mailboxes",
        verbose_name=_("default team"),
    )
    signature = models.TextField(_("signature"), blank=True)
    auto_acknowledge = models.BooleanField(_("auto-acknowledgement"), default=False)
    active = models.BooleanField(_("active"), default=True)
    # One flag for both servers: a self-signed certificate is a property of the host.
    verify_certificates = models.BooleanField(_("verify TLS certificates"), default=True)

    imap_host = models.CharField(_("IMAP host"), max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_security = models.CharField(
        _("IMAP security"), max_length=10, choices=Security.choices, default=Security.SSL
    )
    imap_username = models.CharField(_("IMAP username"), max_length=255, blank=True)
    imap_auth = models.CharField(
        _("IMAP sign-in"), max_length=10, choices=ImapAuth.choices, default=ImapAuth.PASSWORD
    )
    imap_password_encrypted = models.TextField(blank=True, editable=False)
    imap_oauth2_token_encrypted = models.TextField(blank=True, editable=False)
    imap_folder = models.CharField(_("IMAP folder"), max_length=255, default="INBOX")

    smtp_host = models.CharField(_("SMTP host"), max_length=255, blank=True)
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=587)
    smtp_security = models.CharField(
        _("SMTP security"), max_length=10, choices=Security.choices, default=Security.STARTTLS
    )
    smtp_username = models.CharField(_("SMTP username"), max_length=255, blank=True)
    smtp_password_encrypted = models.TextField(blank=True, editable=False)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    # The worker process that holds this mailbox's IMAP IDLE connection, until when;
    # another worker takes the mailbox over only after the lease ran out.
    idle_owner = models.CharField(max_length=100, blank=True, editable=False)
    idle_lease_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def imap_configured(self) -> bool:
        return bool(self.imap_host)

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host)

    @property
    def has_imap_password(self) -> bool:
        return bool(self.imap_password_encrypted)

    @property
    def has_imap_oauth2_token(self) -> bool:
        return bool(self.imap_oauth2_token_encrypted)

    @property
    def has_smtp_password(self) -> bool:
        return bool(self.smtp_password_encrypted)


class InboundOutcome(models.TextChoices):
    CREATED = "created", _("New conversation")
    THREADED = "threaded", _("Added to a conversation")
    IGNORED = "ignored", _("Ignored")


def original_path(instance: InboundMessage, filename: str) -> str:
    return filename


class InboundMessage(models.Model):
    """One email taken in, by its idempotency key: the same mail twice is found here.

    The row is written in the same transaction as the conversation and message
    it led to, so a message is either wholly taken in (and never again) or not
    at all. The raw message is kept in storage: the full original, quoted
    history and oversized attachments included, stays one click away.
    """

    idempotency_key = models.CharField(max_length=80, unique=True)
    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound"
    )
    email_message_id = models.CharField(max_length=998, blank=True)
    sender = models.CharField(max_length=254, blank=True)
    outcome = models.CharField(max_length=10, choices=InboundOutcome.choices)
    # Sent by a machine (auto-reply, list, bounce): never acknowledge it automatically.
    automated = models.BooleanField(default=False)
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    raw = models.FileField(upload_to=original_path, max_length=200, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    detail = models.TextField(blank=True)
    source = models.CharField(max_length=500, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            # The per-sender rate limit counts one sender's recent mail.
            models.Index(fields=["sender", "received_at"], name="inbound_sender_at"),
            models.Index(fields=["message"], name="inbound_message"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} {self.email_message_id or self.idempotency_key}"


class Quarantine(models.Model):
    """Mail that was not taken in (unparseable, over the rate limit, no sender), kept raw.

    Admins see these, with the reason, and retry or discard them; nothing is dropped.
    `key` makes a re-poll of the same bytes land on the same row.
    """

    key = models.CharField(max_length=80, unique=True)
    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="quarantined"
    )
    # In the database rather than in storage: the row and its bytes commit together.
    raw = models.BinaryField()
    size = models.PositiveBigIntegerField(default=0)
    reason = models.TextField()
    sender = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # "imported" (a retry took it in) or "discarded" (an admin decided it is not wanted).
    resolution = models.CharField(max_length=20, blank=True)
    resolved_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    retries = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["-created_at", "-id"],
                condition=models.Q(resolved_at__isnull=True),
                name="quarantine_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reason} ({self.sender or self.key})"
