"""Workspace pages: manage mailboxes and test their connections (admins only)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontdesk.accounts.decorators import acting_user, admin_required, or_404
from frontdesk.core.errors import ServiceError
from frontdesk.core.forms import submit
from frontdesk.core.models import Via
from frontdesk.mail import selectors, services
from frontdesk.mail.forms import MailboxForm


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponseBase:
    return render(request, template, {"section": "manage", "manage_page": "mailboxes", **context})


@admin_required
def mailboxes(request: HttpRequest) -> HttpResponseBase:
    found = selectors.list_mailboxes(acting_user(request))
    return _page(request, "mail/mailboxes.html", {"mailboxes": found})


@admin_required
def mailbox_new(request: HttpRequest) -> HttpResponseBase:
    admin = acting_user(request)
    form = MailboxForm(request.POST or None)
    created: list[int] = []

    def save(_data: dict[str, Any]) -> None:
        mailbox = services.create_mailbox(by=admin, via=Via.WEB, **form.service_arguments())
        created.append(mailbox.pk)

    if submit(form, save):
        messages.success(request, _("Mailbox added. Test its connection to check the settings."))
        return redirect("mail:mailbox_edit", pk=created[0])
    return _page(request, "mail/mailbox_form.html", {"form": form, "mailbox": None})


@admin_required
def mailbox_edit(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    mailbox = or_404(lambda: selectors.access_mailbox(admin, pk))
    if request.method == "POST":
        form = MailboxForm(request.POST, mailbox=mailbox)
    else:
        form = MailboxForm(mailbox=mailbox, initial=MailboxForm.initial_for(mailbox))
    if submit(
        form,
        lambda _data: services.update_mailbox(
            mailbox, by=admin, via=Via.WEB, **form.service_arguments()
        ),
    ):
        messages.success(request, _("Saved."))
        return redirect("mail:mailbox_edit", pk=mailbox.pk)
    return _page(request, "mail/mailbox_form.html", {"form": form, "mailbox": mailbox})


@require_POST
@admin_required
def mailbox_active(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    mailbox = or_404(lambda: selectors.access_mailbox(admin, pk))
    active = request.POST.get("active") == "1"
    try:
        services.set_mailbox_active(mailbox, by=admin, active=active, via=Via.WEB)
    except ServiceError as error:
        messages.error(request, error.detail)
    else:
        messages.success(
            request,
            _("Mailbox %(email)s is active again.") % {"email": mailbox.email}
            if active
            else _("Mailbox %(email)s was deactivated.") % {"email": mailbox.email},
        )
    return redirect("mail:mailboxes")


@require_POST
@admin_required
def mailbox_test(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Test the saved settings; htmx swaps in the result, a plain POST gets a page."""
    admin = acting_user(request)
    mailbox = or_404(lambda: selectors.access_mailbox(admin, pk))
    check = services.check_mailbox_connection(mailbox, by=admin, via=Via.WEB)
    context = {"mailbox": mailbox, "check": check, "results": (check.imap, check.smtp)}
    if request.headers.get("HX-Request") == "true":
        return render(request, "mail/_check_result.html", context)
    return _page(request, "mail/mailbox_test.html", context)
