"""Rows every app shares: the audit trail and the periodic-job claims."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Via(models.TextChoices):
    """The door a change came through."""

    WEB = "web", _("Web")
    API = "api", _("API")
    EMAIL = "email", _("Email")
    CLI = "cli", _("Command line")
    SYSTEM = "system", _("System")
    PORTAL = "portal", _("Portal")
    CHAT = "chat", _("Chat")
    PHONE = "phone", _("Phone")
    VISIT = "visit", _("Visit")
    MESSAGING = "messaging", _("Messaging")


class Event(models.Model):
    """One audited change: who did what to which object, when, and through which door."""

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    via = models.CharField(max_length=20, choices=Via.choices)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["object_type", "object_id", "at"], name="event_object_at")]
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}#{self.object_id}"


class PeriodicJob(models.Model):
    """The claim row for a periodic job; a conditional UPDATE on it elects one runner."""

    name = models.CharField(max_length=100, unique=True)
    interval_s = models.PositiveIntegerField()
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_worker = models.CharField(max_length=100, blank=True)
    runs = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return self.name


class Counter(models.Model):
    """A named, monotonically increasing number (conversation numbers)."""

    name = models.CharField(max_length=50, unique=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
