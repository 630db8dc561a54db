"""People who sign in, the teams (departments) they work in, and their API tokens."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    SUPERVISOR = "supervisor", _("Supervisor")
    AGENT = "agent", _("Agent")
    REVIEWER = "reviewer", _("Reviewer")
    CUSTOMER = "customer", _("Customer")


STAFF_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.REVIEWER})


class Presence(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class FrontdeskUserManager(UserManager["User"]):
    """Users sign in with their email; the username mirrors it."""

    def create_user(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        email = self.normalize_email(email).lower()
        extra.setdefault("username", email)
        # The Django admin site lets in is_staff users only; it follows the admin role.
        extra.setdefault("is_staff", extra.get("role") == Role.ADMIN)
        return super().create_user(email=email, password=password, **extra)

    def create_superuser(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("role", Role.ADMIN)
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class Skill(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """Anyone who signs in: staff by role, or a customer using the portal."""

    email = models.EmailField(_("email"), unique=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    sees_all_teams = models.BooleanField(
        _("sees all teams"),
        default=False,
        help_text=_("May see and act on conversations of every team."),
    )
    languages = models.JSONField(_("languages"), default=list, blank=True)
    skills = models.ManyToManyField(
        Skill, blank=True, related_name="users", verbose_name=_("skills")
    )
    presence = models.CharField(
        _("presence"), max_length=10, choices=Presence.choices, default=Presence.OFFLINE
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    # Empty: follow the browser (or the language switcher's cookie).
    language = models.CharField(_("language"), max_length=10, blank=True, default="")
    signature = models.TextField(_("signature"), blank=True)
    notify_on_assignment = models.BooleanField(
        _("notify me when a conversation is assigned to me"), default=True
    )
    notify_on_customer_reply = models.BooleanField(
        _("notify me when a customer replies in my conversations"), default=True
    )
    # Off by default: the inbox already lists new arrivals live, and a bell
    # ringing for each one drowns the notices meant for one person.
    notify_on_new_in_team = models.BooleanField(
        _("notify me of new conversations in my teams"), default=False
    )
    notify_on_mention = models.BooleanField(
        _("email me when someone mentions me in a note"), default=True
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["username"]

    objects: ClassVar[FrontdeskUserManager] = FrontdeskUserManager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR

    @property
    def is_customer(self) -> bool:
        return self.role == Role.CUSTOMER

    @property
    def is_agent_staff(self) -> bool:
        """Works conversations: agents, supervisors, reviewers and admins."""
        return self.role in STAFF_ROLES


class Team(models.Model):
    """A department: conversations are routed to a team, and agents belong to teams."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    email = models.EmailField(_("email"), blank=True)
    lead = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_teams",
        verbose_name=_("lead"),
    )
    members = models.ManyToManyField(
        User, through="Membership", related_name="teams", verbose_name=_("members")
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.team_id}"


class ApiToken(models.Model):
    """A bearer token for integrators; only its SHA-256 is stored, shown once at creation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id})"

    def is_usable(self, now: Any = None) -> bool:
        now = now or timezone.now()
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now


class SignInFailure(models.Model):
    """Failed sign-ins for one email in the current window; enough of them lock it."""

    email = models.CharField(max_length=254, unique=True)
    failures = models.PositiveIntegerField(default=0)
    first_failed_at = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.email}: {self.failures}"
