"""Mailboxes: where the email channel reads mail (IMAP) and sends it (SMTP).

Passwords and tokens are stored only as ciphertext (`mail/crypto.py`); the
plaintext exists only while connecting.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontdesk.accounts.models import Team


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
