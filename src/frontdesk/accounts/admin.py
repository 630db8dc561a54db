"""Django admin for people, teams, skills and API tokens: the admins' tool until the
workspace settings UI lands.

Access follows the Frontdesk role, not Django's per-model permissions: users with
the admin role (or superusers) may use these pages, nobody else. `is_staff`, which
the admin site checks at the door, is kept equal to "has the admin role".

Saves here go straight to the ORM (the admin is a trusted tool), but each one
still leaves an audit row, so the trail stays complete. API tokens are the
exception: they are issued only by `create_api_token` (the plaintext is shown
once) and revoked only by `revoke_api_token`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from frontdesk.accounts.models import ApiToken, Membership, Role, Skill, Team, User
from frontdesk.accounts.services import normalize_languages, revoke_api_token
from frontdesk.core.audit import record_event
from frontdesk.core.errors import InvalidInput
from frontdesk.core.models import Via

M = TypeVar("M", bound=models.Model)
P = TypeVar("P", bound=models.Model)


def acting_user(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) else None


def is_frontdesk_admin(request: HttpRequest) -> bool:
    user = acting_user(request)
    return bool(user is not None and user.is_active and user.is_admin)


class FrontdeskModelAdmin(admin.ModelAdmin[M]):
    """Admin-role access, and one audit row for every save and delete made here."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_frontdesk_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return is_frontdesk_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_frontdesk_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return is_frontdesk_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return is_frontdesk_admin(request)

    def save_model(self, request: HttpRequest, obj: M, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        verb = "changed" if change else "created"
        record_event(
            obj,
            action=f"{obj._meta.model_name}.{verb}_in_admin",
            actor=acting_user(request),
            via=Via.WEB,
            data={"fields": sorted(getattr(form, "changed_data", []))},
        )

    def delete_model(self, request: HttpRequest, obj: M) -> None:
        self._record_delete(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[M]) -> None:
        for obj in queryset:
            self._record_delete(request, obj)
        super().delete_queryset(request, queryset)

    def _record_delete(self, request: HttpRequest, obj: M) -> None:
        record_event(
            obj,
            action=f"{obj._meta.model_name}.deleted_in_admin",
            actor=acting_user(request),
            via=Via.WEB,
            data={"label": str(obj)},
        )


class FrontdeskTabularInline(admin.TabularInline[M, P]):
    def has_view_permission(self, request: HttpRequest, obj: P | None = None) -> bool:
        return is_frontdesk_admin(request)

    def has_add_permission(self, request: HttpRequest, obj: P | None = None) -> bool:
        return is_frontdesk_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: P | None = None) -> bool:
        return is_frontdesk_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: P | None = None) -> bool:
        return is_frontdesk_admin(request)


def _staff_users() -> QuerySet[User]:
    # Customers with portal logins can be many and never belong to teams.
    return User.objects.exclude(role=Role.CUSTOMER).order_by("email")


class LanguagesField(forms.Field):
    """Languages typed as `en, cs, pt-BR`, stored as a normalised list."""

    widget = forms.TextInput

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        return value

    def to_python(self, value: Any) -> list[str]:
        text = "" if value is None else str(value)
        try:
            return normalize_languages([part for part in text.split(",") if part.strip()])
        except InvalidInput as exc:
            raise forms.ValidationError(exc.detail) from None


def _languages_field() -> LanguagesField:
    return LanguagesField(
        label=_("languages"),
        required=False,
        help_text=_("Languages this person can handle, comma-separated: en, cs, th."),
    )


class _EmailFormMixin:
    cleaned_data: dict[str, Any]
    instance: User

    def clean_email(self) -> str:
        email = str(self.cleaned_data.get("email", "")).strip().lower()
        clash = User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk)
        if email and clash.exists():
            raise forms.ValidationError(_("A user with this email already exists."))
        return email


class UserAddForm(_EmailFormMixin, AdminUserCreationForm[User]):
    languages = _languages_field()

    class Meta:
        model = User
        fields = ("email", "role", "first_name", "last_name", "sees_all_teams", "languages")


class UserEditForm(_EmailFormMixin, UserChangeForm[User]):
    languages = _languages_field()

    class Meta:
        model = User
        fields = "__all__"


class TeamsOfUserInline(FrontdeskTabularInline[Membership, User]):
    model = Membership
    fk_name = "user"
    fields = ("team", "joined_at")
    readonly_fields = ("joined_at",)
    extra = 0
    verbose_name = _("team")
    verbose_name_plural = _("teams")


@admin.register(User)
class UserAdmin(FrontdeskModelAdmin[User], DjangoUserAdmin[User]):
    form = UserEditForm
    add_form = UserAddForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "language", "time_zone")}),
        (
            _("Role and work"),
            {"fields": ("role", "sees_all_teams", "skills", "languages", "presence")},
        ),
        (_("Status"), {"fields": ("is_active", "is_superuser", "last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "usable_password",
                    "password1",
                    "password2",
                    "role",
                    "first_name",
                    "last_name",
                    "sees_all_teams",
                    "languages",
                ),
            },
        ),
    )
    readonly_fields = ("last_login", "date_joined")
    list_display = ("email", "first_name", "last_name", "role", "presence", "is_active")
    list_filter = ("role", "presence", "is_active", "teams")
    search_fields = ("email", "first_name", "last_name")
    ordering = ("email",)
    filter_horizontal = ("skills",)
    inlines = (TeamsOfUserInline,)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # The username mirrors the email, and the admin site's door follows the role.
        obj.email = obj.email.strip().lower()
        obj.username = obj.email
        obj.is_staff = obj.role == Role.ADMIN or obj.is_superuser
        super().save_model(request, obj, form, change)


class MembersInline(FrontdeskTabularInline[Membership, Team]):
    model = Membership
    fk_name = "team"
    fields = ("user", "joined_at")
    readonly_fields = ("joined_at",)
    extra = 0
    verbose_name = _("member")
    verbose_name_plural = _("members")

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField[Any] | None:
        if db_field.name == "user":
            kwargs["queryset"] = _staff_users()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Team)
class TeamAdmin(FrontdeskModelAdmin[Team]):
    fields = ("name", "email", "lead", "created_at")
    readonly_fields = ("created_at",)
    list_display = ("name", "lead", "email")
    list_select_related = ("lead",)
    search_fields = ("name",)
    inlines = (MembersInline,)

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField[Any] | None:
        if db_field.name == "lead":
            kwargs["queryset"] = _staff_users()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Skill)
class SkillAdmin(FrontdeskModelAdmin[Skill]):
    list_display = ("name",)
    search_fields = ("name",)


@admin.register(ApiToken)
class ApiTokenAdmin(FrontdeskModelAdmin[ApiToken]):
    """Read-only: the secret is never stored, so there is nothing here to reveal."""

    fields = (
        "user",
        "name",
        "prefix",
        "digest",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    readonly_fields = fields
    list_display = (
        "prefix",
        "name",
        "user",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_select_related = ("user",)
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("prefix", "name", "user__email")
    actions = ("revoke_tokens",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        # Revoke instead: a deleted token would take its audit context with it.
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return is_frontdesk_admin(request)

    @admin.action(description=_("Revoke the selected tokens"), permissions=["revoke"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            revoke_api_token(token, by=acting_user(request), via=Via.WEB)
            count += 1
        self.message_user(
            request, _("Tokens revoked: %(count)d.") % {"count": count}, messages.SUCCESS
        )
