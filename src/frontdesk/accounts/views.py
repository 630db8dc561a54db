"""Sign-in, password reset, personal settings and the Manage pages for people and teams.

Views parse a form, call one service (or a selector) and render; every rule
lives in accounts/services.py.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontdesk.accounts import selectors, services
from frontdesk.accounts.decorators import acting_user, admin_required, or_404, staff_required
from frontdesk.accounts.forms import (
    NewUserForm,
    PreferencesForm,
    ResetPasswordForm,
    SignInForm,
    TeamForm,
    TokenForm,
    UserForm,
)
from frontdesk.accounts.mentions import handle_for as mention_handle_for
from frontdesk.accounts.models import User
from frontdesk.core.errors import ServiceError
from frontdesk.core.forms import apply_service_error, submit
from frontdesk.core.models import Via

# --- signing in -----------------------------------------------------------------------------


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_success_url(self) -> str:
        user = self.request.user
        if isinstance(user, User) and user.is_customer:
            # Customers work in the portal; a workspace `next` would only answer 403.
            target = self.get_redirect_url()
            portal = reverse("portal:home")
            return target if target.startswith(portal) else portal
        return super().get_success_url()


class ResetView(auth_views.PasswordResetView):
    form_class = ResetPasswordForm
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class ResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class ResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        # Proving the mailbox is proof enough: a lock from someone guessing ends here.
        services.clear_sign_in_failures(form.user.email)
        return response


class ResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


def send_set_password_link(request: HttpRequest, user: User) -> None:
    """Email `user` the same link as "forgot password", to choose a first password."""
    form = ResetPasswordForm({"email": user.email})
    if form.is_valid():
        form.save(
            request=request,
            use_https=request.is_secure(),
            subject_template_name=ResetView.subject_template_name,
            email_template_name=ResetView.email_template_name,
        )


# --- personal settings ----------------------------------------------------------------------


def _settings_page(
    request: HttpRequest, template: str, page: str, context: dict[str, Any]
) -> HttpResponse:
    return render(request, template, {"section": "settings", "settings_page": page, **context})


@staff_required
def settings_view(request: HttpRequest) -> HttpResponseBase:
    user = acting_user(request)
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                updated = services.update_preferences(
                    user,
                    by=user,
                    language=data["language"],
                    time_zone=data["time_zone"],
                    signature=data["signature"],
                    notify_on_assignment=data["notify_on_assignment"],
                    notify_on_customer_reply=data["notify_on_customer_reply"],
                    notify_on_new_in_team=data["notify_on_new_in_team"],
                    notify_on_mention=data["notify_on_mention"],
                    via=Via.WEB,
                )
                services.set_presence(user, by=user, presence=data["presence"], via=Via.WEB)
            except ServiceError as error:
                apply_service_error(form, error)
            else:
                if updated.language:
                    # The confirmation already speaks the language just chosen.
                    translation.activate(updated.language)
                messages.success(request, _("Saved."))
                return redirect("accounts:settings")
    else:
        form = PreferencesForm(
            initial={
                "language": user.language,
                "time_zone": user.time_zone,
                "signature": user.signature,
                "notify_on_assignment": user.notify_on_assignment,
                "notify_on_customer_reply": user.notify_on_customer_reply,
                "notify_on_new_in_team": user.notify_on_new_in_team,
                "notify_on_mention": user.notify_on_mention,
                "presence": user.presence,
            }
        )
    context = {"form": form, "mention_handle": mention_handle_for(user)}
    return _settings_page(request, "accounts/settings.html", "preferences", context)


@staff_required
def settings_password(request: HttpRequest) -> HttpResponseBase:
    user = acting_user(request)
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        # Changing the password signs out other sessions, not this one.
        update_session_auth_hash(request, form.user)
        messages.success(request, _("Your password was changed."))
        return redirect("accounts:settings_password")
    return _settings_page(request, "accounts/settings_password.html", "password", {"form": form})


@staff_required
def settings_tokens(request: HttpRequest) -> HttpResponseBase:
    user = acting_user(request)
    created: str | None = None
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _token, created = services.create_api_token(
                user,
                by=user,
                name=form.cleaned_data["name"],
                expires_days=form.cleaned_data["expires_days"],
                via=Via.WEB,
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            # Rendered, not redirected: this response is the only place the token appears.
            form = TokenForm()
    context = {"form": form, "tokens": selectors.list_api_tokens(user), "created_token": created}
    response = _settings_page(request, "accounts/settings_tokens.html", "tokens", context)
    response.headers["Cache-Control"] = "no-store"
    return response


@require_POST
@staff_required
def settings_token_revoke(request: HttpRequest, token_id: int) -> HttpResponseBase:
    user = acting_user(request)
    token = or_404(lambda: selectors.access_api_token(user, token_id))
    services.revoke_api_token(token, by=user, via=Via.WEB)
    messages.success(request, _("Token %(prefix)s… was revoked.") % {"prefix": token.prefix})
    return redirect("accounts:settings_tokens")


# --- manage: users --------------------------------------------------------------------------


def _manage_page(
    request: HttpRequest, template: str, page: str, context: dict[str, Any]
) -> HttpResponse:
    return render(request, template, {"section": "manage", "manage_page": page, **context})


@admin_required
def manage_users(request: HttpRequest) -> HttpResponseBase:
    user = acting_user(request)
    try:
        page = selectors.list_users(user, cursor=request.GET.get("cursor") or None, limit=100)
    except ServiceError:
        page = selectors.list_users(user, limit=100)
    return _manage_page(request, "accounts/manage_users.html", "users", {"page": page})


def _user_initial(person: User) -> dict[str, Any]:
    return {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "role": person.role,
        "teams": list(person.teams.all()),
        "sees_all_teams": person.sees_all_teams,
        "skills": ", ".join(skill.name for skill in person.skills.all()),
        "languages": ", ".join(person.languages),
    }


@admin_required
def manage_user_new(request: HttpRequest) -> HttpResponseBase:
    admin = acting_user(request)
    form = NewUserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person = services.create_user(
                by=admin,
                email=data["email"],
                password=data["password"] or None,
                role=data["role"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                teams=list(data["teams"]),
                sees_all_teams=data["sees_all_teams"],
                languages=form.language_codes(),
                skills=form.skill_names(),
                via=Via.WEB,
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            if not data["password"]:
                send_set_password_link(request, person)
                messages.success(
                    request,
                    _("Saved. %(email)s was sent a link to set a password.")
                    % {"email": person.email},
                )
            else:
                messages.success(request, _("Saved."))
            return redirect("accounts:manage_users")
    context = {"form": form, "person": None}
    return _manage_page(request, "accounts/manage_user_form.html", "users", context)


@admin_required
def manage_user_edit(request: HttpRequest, user_id: int) -> HttpResponseBase:
    admin = acting_user(request)
    person = or_404(lambda: selectors.access_user(admin, user_id))
    if request.method == "POST":
        form = UserForm(request.POST)
    else:
        form = UserForm(initial=_user_initial(person))
    if submit(
        form,
        lambda data: services.update_user(
            person,
            by=admin,
            first_name=data["first_name"],
            last_name=data["last_name"],
            role=data["role"],
            teams=list(data["teams"]),
            skills=form.skill_names(),
            languages=form.language_codes(),
            sees_all_teams=data["sees_all_teams"],
            via=Via.WEB,
        ),
    ):
        messages.success(request, _("Saved."))
        return redirect("accounts:manage_user", user_id=person.pk)
    context = {"form": form, "person": person}
    return _manage_page(request, "accounts/manage_user_form.html", "users", context)


@require_POST
@admin_required
def manage_user_active(request: HttpRequest, user_id: int) -> HttpResponseBase:
    admin = acting_user(request)
    person = or_404(lambda: selectors.access_user(admin, user_id))
    active = request.POST.get("active") == "1"
    try:
        services.set_user_active(person, by=admin, active=active, via=Via.WEB)
    except ServiceError as error:
        messages.error(request, error.detail)
    else:
        if active:
            messages.success(request, _("%(user)s was reactivated.") % {"user": person})
        else:
            messages.success(request, _("%(user)s was deactivated.") % {"user": person})
    return redirect(_back(request, reverse("accounts:manage_users")))


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


# --- manage: teams --------------------------------------------------------------------------


@admin_required
def manage_teams(request: HttpRequest) -> HttpResponseBase:
    teams = selectors.list_teams(acting_user(request))
    return _manage_page(request, "accounts/manage_teams.html", "teams", {"teams": teams})


@admin_required
def manage_team_new(request: HttpRequest) -> HttpResponseBase:
    admin = acting_user(request)
    form = TeamForm(request.POST or None)
    if submit(
        form,
        lambda data: services.create_team(
            by=admin,
            name=data["name"],
            email=data["email"],
            lead=data["lead"],
            members=list(data["members"]),
            via=Via.WEB,
        ),
    ):
        messages.success(request, _("Saved."))
        return redirect("accounts:manage_teams")
    context = {"form": form, "team": None}
    return _manage_page(request, "accounts/manage_team_form.html", "teams", context)


@admin_required
def manage_team_edit(request: HttpRequest, team_id: int) -> HttpResponseBase:
    admin = acting_user(request)
    team = or_404(lambda: selectors.access_team(admin, team_id))
    if request.method == "POST":
        form = TeamForm(request.POST)
    else:
        form = TeamForm(
            initial={
                "name": team.name,
                "email": team.email,
                "lead": team.lead_id,
                "members": [member.pk for member in team.members.all()],
            }
        )
    if submit(
        form,
        lambda data: services.update_team(
            team,
            by=admin,
            name=data["name"],
            email=data["email"],
            lead=data["lead"],
            clear_lead=data["lead"] is None,
            members=list(data["members"]),
            via=Via.WEB,
        ),
    ):
        messages.success(request, _("Saved."))
        return redirect("accounts:manage_teams")
    context = {"form": form, "team": team}
    return _manage_page(request, "accounts/manage_team_form.html", "teams", context)
