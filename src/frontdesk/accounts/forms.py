"""Forms of the sign-in, settings and manage pages; they parse, the services decide."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from frontdesk.accounts.models import STAFF_ROLES, Presence, Role, Team, User
from frontdesk.accounts.selectors import sign_in_locked_until
from frontdesk.accounts.services import (
    MAX_SIGNATURE,
    MAX_TOKEN_DAYS,
    available_time_zones,
    clear_sign_in_failures,
    normalize_sign_in_email,
    record_sign_in_failure,
)


def locked_message(until: datetime) -> str:
    local = timezone.localtime(until)
    return _("Too many failed attempts. Try again after %(time)s.") % {
        "time": f"{local:%H:%M} {local.tzname() or ''}".strip()
    }


class SignInForm(AuthenticationForm):
    """Django's sign-in form, refusing a locked email before looking at the password."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": gettext_lazy("Wrong email or password."),
    }

    def clean_username(self) -> str:
        # Addresses are stored in lower case; people type them however they like.
        return normalize_sign_in_email(str(self.cleaned_data.get("username", "")))

    def clean(self) -> dict[str, Any]:
        email = str(self.cleaned_data.get("username", ""))
        if email:
            now = timezone.now()
            until = sign_in_locked_until(email, at=now)
            if until is not None:
                raise forms.ValidationError(locked_message(until), code="locked")
            try:
                cleaned = super().clean()
            except forms.ValidationError as error:
                if error.code == "invalid_login":
                    row = record_sign_in_failure(email, at=now)
                    if row.locked_until is not None and row.locked_until > now:
                        raise forms.ValidationError(
                            locked_message(row.locked_until), code="locked"
                        ) from None
                raise
            clear_sign_in_failures(email)
            return cleaned
        return super().clean()


class ResetPasswordForm(PasswordResetForm):
    """Also reaches people who never had a password: an invited user sets one this way."""

    def get_users(self, email: str) -> Any:
        return User.objects.filter(email__iexact=email.strip(), is_active=True)


# --- settings -------------------------------------------------------------------------------


def _language_choices() -> list[tuple[str, str]]:
    return [("", _("Browser default")), *settings.LANGUAGES]


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(available_time_zones())]


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Language"), required=False, choices=())
    # A select, but checked by the service: a bad value comes back as this field's error.
    time_zone = forms.CharField(label=gettext_lazy("Time zone"), widget=forms.Select(choices=()))
    signature = forms.CharField(
        label=gettext_lazy("Signature"),
        required=False,
        max_length=MAX_SIGNATURE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Added below your replies to customers."),
    )
    notify_on_assignment = forms.BooleanField(
        label=gettext_lazy("Email me when a conversation is assigned to me"), required=False
    )
    notify_on_customer_reply = forms.BooleanField(
        label=gettext_lazy("Email me when a customer replies in my conversations"),
        required=False,
    )
    notify_on_mention = forms.BooleanField(
        label=gettext_lazy("Email me when someone mentions me in a note"), required=False
    )
    notify_on_new_in_team = forms.BooleanField(
        label=gettext_lazy("Tell me of new conversations in my teams"),
        required=False,
        help_text=gettext_lazy(
            "Under the bell and by email, for each conversation that arrives in or is "
            "moved to one of your teams."
        ),
    )
    presence = forms.ChoiceField(label=gettext_lazy("Presence"), choices=Presence.choices)

    # Shown together, under what the bell always shows anyway.
    NOTIFICATION_FIELDS = (
        "notify_on_assignment",
        "notify_on_customer_reply",
        "notify_on_mention",
        "notify_on_new_in_team",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = _language_choices()  # type: ignore[attr-defined]
        self.fields["time_zone"].widget.choices = _time_zone_choices()

    def general_fields(self) -> list[forms.BoundField]:
        return [f for f in self.visible_fields() if f.name not in self.NOTIFICATION_FIELDS]

    def notification_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.NOTIFICATION_FIELDS]


class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    expires_days = forms.IntegerField(
        label=gettext_lazy("Expires after (days)"),
        required=False,
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        help_text=gettext_lazy("Leave empty for a token that does not expire."),
    )


# --- manage ---------------------------------------------------------------------------------


def _staff_role_choices() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in Role.choices if value in STAFF_ROLES]


def _comma_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class UserForm(forms.Form):
    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=gettext_lazy("Last name"), max_length=150, required=False)
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=())
    teams = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Teams"),
        queryset=Team.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    sees_all_teams = forms.BooleanField(
        label=gettext_lazy("Sees all teams"),
        required=False,
        help_text=gettext_lazy("May see and act on conversations of every team."),
    )
    skills = forms.CharField(
        label=gettext_lazy("Skills"),
        required=False,
        help_text=gettext_lazy("Separated by commas, e.g. refunds, German, hardware."),
    )
    languages = forms.CharField(
        label=gettext_lazy("Languages spoken"),
        required=False,
        help_text=gettext_lazy("Language codes separated by commas, e.g. en, cs, pt-br."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _staff_role_choices()  # type: ignore[attr-defined]

    def skill_names(self) -> list[str]:
        return _comma_list(self.cleaned_data.get("skills", ""))

    def language_codes(self) -> list[str]:
        return _comma_list(self.cleaned_data.get("languages", ""))


class NewUserForm(UserForm):
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=150)
    password = forms.CharField(
        label=gettext_lazy("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy("Leave empty to email them a link to set their own."),
    )

    field_order = ["email", "first_name", "last_name", "role", "password"]


class TeamForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    email = forms.EmailField(
        label=gettext_lazy("Email"),
        required=False,
        help_text=gettext_lazy("The address customers write to for this team, if it has one."),
    )
    lead = forms.ModelChoiceField(
        label=gettext_lazy("Lead"), queryset=User.objects.none(), required=False
    )
    members = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Members"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff = User.objects.filter(is_active=True, role__in=STAFF_ROLES).order_by(
            "first_name", "last_name", "email"
        )
        self.fields["lead"].queryset = staff  # type: ignore[attr-defined]
        self.fields["members"].queryset = staff  # type: ignore[attr-defined]
