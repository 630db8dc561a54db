"""The mailbox form; it parses, mail/services.py decides.

Password and token fields never show what is stored: on edit an empty field
keeps the stored secret, and a checkbox forgets it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from frontdesk.accounts.models import Team
from frontdesk.mail.models import ImapAuth, Mailbox, Security
from frontdesk.mail.services import MAX_SECRET, MAX_SIGNATURE

_SECRET_WIDGET = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})

GROUPS: tuple[tuple[Promise, tuple[str, ...]], ...] = (
    (
        gettext_lazy("Mailbox"),
        (
            "name",
            "email",
            "display_name",
            "default_team",
            "signature",
            "auto_acknowledge",
        ),
    ),
    (
        gettext_lazy("Incoming mail (IMAP)"),
        (
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_username",
            "imap_auth",
            "imap_password",
            "clear_imap_password",
            "imap_oauth2_token",
            "clear_imap_oauth2_token",
            "imap_folder",
        ),
    ),
    (
        gettext_lazy("Outgoing mail (SMTP)"),
        (
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "smtp_username",
            "smtp_password",
            "clear_smtp_password",
        ),
    ),
    (gettext_lazy("Security"), ("verify_certificates",)),
)


class MailboxForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("How agents see this mailbox, such as Support or Billing."),
    )
    email = forms.EmailField(label=gettext_lazy("Email address"), max_length=254)
    display_name = forms.CharField(
        label=gettext_lazy("Display name"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("The sender name customers see, such as Acme Support."),
    )
    default_team = forms.ModelChoiceField(
        label=gettext_lazy("Default team"),
        queryset=Team.objects.none(),
        required=False,
        help_text=gettext_lazy("New conversations from this mailbox go to this team."),
    )
    signature = forms.CharField(
        label=gettext_lazy("Signature"),
        max_length=MAX_SIGNATURE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    auto_acknowledge = forms.BooleanField(
        label=gettext_lazy("Acknowledge new conversations automatically"), required=False
    )

    imap_host = forms.CharField(
        label=gettext_lazy("IMAP host"),
        max_length=255,
        required=False,
        help_text=gettext_lazy("Leave empty if mail reaches this mailbox another way."),
    )
    imap_port = forms.IntegerField(
        label=gettext_lazy("IMAP port"), min_value=1, max_value=65535, initial=993
    )
    imap_security = forms.ChoiceField(
        label=gettext_lazy("IMAP security"), choices=Security.choices, initial=Security.SSL
    )
    imap_username = forms.CharField(
        label=gettext_lazy("IMAP username"), max_length=255, required=False
    )
    imap_auth = forms.ChoiceField(
        label=gettext_lazy("IMAP sign-in"), choices=ImapAuth.choices, initial=ImapAuth.PASSWORD
    )
    imap_password = forms.CharField(
        label=gettext_lazy("IMAP password"),
        max_length=MAX_SECRET,
        required=False,
        strip=False,
        widget=_SECRET_WIDGET,
    )
    clear_imap_password = forms.BooleanField(
        label=gettext_lazy("Forget the stored IMAP password"), required=False
    )
    imap_oauth2_token = forms.CharField(
        label=gettext_lazy("OAuth2 access token"),
        max_length=MAX_SECRET,
        required=False,
        widget=_SECRET_WIDGET,
        help_text=gettext_lazy("For IMAP sign-in with XOAUTH2."),
    )
    clear_imap_oauth2_token = forms.BooleanField(
        label=gettext_lazy("Forget the stored access token"), required=False
    )
    imap_folder = forms.CharField(
        label=gettext_lazy("Folder to watch"), max_length=255, initial="INBOX"
    )

    smtp_host = forms.CharField(
        label=gettext_lazy("SMTP host"),
        max_length=255,
        required=False,
        help_text=gettext_lazy("Leave empty to send with the server's default mail settings."),
    )
    smtp_port = forms.IntegerField(
        label=gettext_lazy("SMTP port"), min_value=1, max_value=65535, initial=587
    )
    smtp_security = forms.ChoiceField(
        label=gettext_lazy("SMTP security"),
        choices=Security.choices,
        initial=Security.STARTTLS,
    )
    smtp_username = forms.CharField(
        label=gettext_lazy("SMTP username"),
        max_length=255,
        required=False,
        help_text=gettext_lazy("Leave empty if the server accepts mail without signing in."),
    )
    smtp_password = forms.CharField(
        label=gettext_lazy("SMTP password"),
        max_length=MAX_SECRET,
        required=False,
        strip=False,
        widget=_SECRET_WIDGET,
    )
    clear_smtp_password = forms.BooleanField(
        label=gettext_lazy("Forget the stored SMTP password"), required=False
    )
    verify_certificates = forms.BooleanField(
        label=gettext_lazy("Verify the servers' TLS certificates"),
        required=False,
        initial=True,
        help_text=gettext_lazy(
            "Turn off only for a server with a self-signed certificate you trust."
        ),
    )

    def __init__(self, *args: Any, mailbox: Mailbox | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mailbox = mailbox
        self.fields["default_team"].queryset = Team.objects.order_by("name")  # type: ignore[attr-defined]
        stored = {
            "imap_password": mailbox is not None and mailbox.has_imap_password,
            "imap_oauth2_token": mailbox is not None and mailbox.has_imap_oauth2_token,
            "smtp_password": mailbox is not None and mailbox.has_smtp_password,
        }
        for name, has_secret in stored.items():
            if has_secret:
                self.fields[name].help_text = gettext_lazy(
                    "A value is stored. Leave empty to keep it."
                )
            else:
                # Nothing to forget.
                del self.fields[f"clear_{name}"]

    @classmethod
    def initial_for(cls, mailbox: Mailbox) -> dict[str, Any]:
        """The form's values for an existing mailbox; secrets stay out."""
        names = [name for _legend, names in GROUPS for name in names]
        return {
            name: getattr(mailbox, name if name != "default_team" else "default_team_id")
            for name in names
            if not name.startswith("clear_")
            and name
            not in {
                "imap_password",
                "imap_oauth2_token",
                "smtp_password",
            }
        }

    def groups(self) -> list[tuple[Promise, list[forms.BoundField]]]:
        return [
            (legend, [self[name] for name in names if name in self.fields])
            for legend, names in GROUPS
        ]

    def service_arguments(self) -> dict[str, Any]:
        """The cleaned data as keyword arguments of create_mailbox / update_mailbox."""
        data = dict(self.cleaned_data)
        if self.mailbox is None:
            for name in list(data):
                if name.startswith("clear_"):
                    del data[name]
        else:
            data["clear_default_team"] = data["default_team"] is None
        return data
