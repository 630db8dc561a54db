"""Workspace pages under Manage → Routing (admins only): rules, and how teams assign work."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from frontdesk.accounts.decorators import acting_user, admin_required, or_404
from frontdesk.accounts.models import User
from frontdesk.accounts.selectors import access_team
from frontdesk.conversations.models import Channel, Priority
from frontdesk.conversations.views.inbox import inbox_rows
from frontdesk.core.errors import ServiceError
from frontdesk.core.forms import submit
from frontdesk.core.models import Via
from frontdesk.core.ordering import move_step
from frontdesk.mail import selectors as mail_selectors
from frontdesk.routing import selectors, services
from frontdesk.routing.forms import RuleForm, TeamAssignmentForm
from frontdesk.routing.models import AssignmentMode, RoutingRule


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponseBase:
    return render(request, template, {"section": "manage", "manage_page": "routing", **context})


# --- rules -------------------------------------------------------------------------------------


@require_GET
@admin_required
def rules(request: HttpRequest) -> HttpResponseBase:
    found = selectors.list_rules(acting_user(request))
    mailboxes = dict(mail_selectors.mailbox_names())
    rows = [(rule, _conditions(rule, mailboxes), _actions(rule)) for rule in found]
    return _page(request, "routing/rules.html", {"rows": rows})


def _conditions(rule: RoutingRule, mailboxes: dict[int, str]) -> list[str]:
    channels = dict(Channel.choices)
    parts = []
    if rule.channels:
        parts.append(", ".join(str(channels.get(c, c)) for c in rule.channels))
    if rule.mailbox_ids:
        parts.append(", ".join(mailboxes.get(i, f"#{i}") for i in rule.mailbox_ids))
    if rule.languages:
        parts.append(_("language %(codes)s") % {"codes": ", ".join(rule.languages)})
    if rule.tags:
        parts.append(_("tag %(tags)s") % {"tags": ", ".join(rule.tags)})
    if rule.customer_ids:
        parts.append(_("%(count)d customers") % {"count": len(rule.customer_ids)})
    if rule.company_ids:
        parts.append(_("%(count)d companies") % {"count": len(rule.company_ids)})
    for key, value in rule.custom_fields.items():
        parts.append(f"{key} = {value}")
    if rule.keywords:
        parts.append(_("words %(words)s") % {"words": ", ".join(rule.keywords[:5])})
    return parts


def _actions(rule: RoutingRule) -> list[str]:
    parts = []
    if rule.team is not None:
        parts.append(_("team %(team)s") % {"team": rule.team.name})
    if rule.priority is not None:
        parts.append(_("priority %(priority)s") % {"priority": Priority(rule.priority).label})
    if rule.add_tags:
        parts.append(_("tags %(tags)s") % {"tags": ", ".join(rule.add_tags)})
    if rule.skill is not None:
        parts.append(_("skill %(skill)s") % {"skill": rule.skill.name})
    return parts


@admin_required
def rule_new(request: HttpRequest) -> HttpResponseBase:
    admin = acting_user(request)
    form = RuleForm(request.POST or None, user=admin, mailboxes=mail_selectors.mailbox_names())
    created: list[int] = []

    def save(_data: dict[str, Any]) -> None:
        rule = services.create_rule(by=admin, via=Via.WEB, **form.service_arguments())
        created.append(rule.pk)

    if request.method == "POST" and submit(form, save):
        messages.success(request, _("Rule added."))
        return redirect("routing:rule_edit", pk=created[0])
    return _page(request, "routing/rule_form.html", {"form": form, "rule": None})


@admin_required
def rule_edit(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    rule = or_404(lambda: selectors.access_rule(admin, pk))
    mailboxes = mail_selectors.mailbox_names()
    if request.method == "POST":
        form = RuleForm(request.POST, user=admin, mailboxes=mailboxes)
    else:
        form = RuleForm(user=admin, mailboxes=mailboxes, initial=RuleForm.initial_for(rule))
    if request.method == "POST" and submit(
        form,
        lambda _data: services.update_rule(rule, by=admin, via=Via.WEB, **form.service_arguments()),
    ):
        messages.success(request, _("Saved."))
        return redirect("routing:rule_edit", pk=rule.pk)
    return _page(request, "routing/rule_form.html", {"form": form, "rule": rule})


@require_POST
@admin_required
def rule_move(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    rule = or_404(lambda: selectors.access_rule(admin, pk))
    position = max(0, rule.position + move_step(request))
    try:
        services.move_rule(rule, by=admin, position=position, via=Via.WEB)
    except ServiceError as error:
        messages.error(request, error.detail)
    return redirect("routing:rules")


@require_POST
@admin_required
def rule_delete(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    rule = or_404(lambda: selectors.access_rule(admin, pk))
    try:
        services.delete_rule(rule, by=admin, via=Via.WEB)
    except ServiceError as error:
        messages.error(request, error.detail)
        return redirect("routing:rule_edit", pk=rule.pk)
    messages.success(request, _("Rule %(name)s was deleted.") % {"name": rule.name})
    return redirect("routing:rules")


@require_GET
@admin_required
def rule_dry_run(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    rule = or_404(lambda: selectors.access_rule(admin, pk))
    found = selectors.dry_run(admin, rule)
    return _page(
        request,
        "routing/dry_run.html",
        {
            "rule": rule,
            "rows": inbox_rows(found),
            "limit": selectors.DRY_RUN_LIMIT,
            "scan": selectors.DRY_RUN_SCAN,
        },
    )


# --- team assignment ---------------------------------------------------------------------------


@require_GET
@admin_required
def teams(request: HttpRequest) -> HttpResponseBase:
    found = selectors.list_team_settings(acting_user(request))
    modes = dict(AssignmentMode.choices)
    rows = [(s, modes.get(s.mode, s.mode)) for s in found]
    return _page(request, "routing/teams.html", {"rows": rows})


@admin_required
def team_edit(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    team = or_404(lambda: access_team(admin, pk))
    members: list[User] = [m for m in team.members.all() if m.is_active and m.is_agent_staff]
    current = selectors.team_settings(team)
    form = TeamAssignmentForm(
        request.POST or None,
        members=members,
        capacities=selectors.capacities_of_team(admin, team),
        initial={"mode": current.mode, "default_capacity": current.default_capacity},
    )
    if request.method == "POST" and submit(
        form,
        lambda data: services.update_team_assignment(
            team,
            by=admin,
            mode=data["mode"],
            default_capacity=data["default_capacity"],
            capacities=form.capacities(),
            via=Via.WEB,
        ),
    ):
        messages.success(request, _("Saved."))
        return redirect("routing:team_edit", pk=team.pk)
    return _page(
        request,
        "routing/team_form.html",
        {"form": form, "team": team, "channels": Channel.choices},
    )
