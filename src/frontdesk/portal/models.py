"""Single-use links the portal mails out: sign-in links and email verification."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TokenPurpose(models.TextChoices):
    SIGN_IN = "sign_in", _("Sign-in link")
    VERIFY_EMAIL = "verify_email", _("Email verification")


class PortalToken(models.Model):
    """One mailed link; only the SHA-256 of its secret is kept, so a leaked row signs no one in."""

    purpose = models.CharField(max_length=20, choices=TokenPurpose.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_tokens"
    )
    digest = models.CharField(max_length=64, unique=True)
    # A sign-up keeps the chosen password here until the link is used, so that a
    # second sign-up for the same address cannot set the password of the first.
    password_hash = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "purpose"], name="portaltoken_user_purpose")]

    def __str__(self) -> str:
        return f"{self.purpose} for {self.user_id}"
