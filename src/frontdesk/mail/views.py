"""Workspace pages: mailboxes and quarantined mail (admins only), originals of messages (staff)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from frontdesk.accounts.decorators import acting_user, admin_required, or_404, staff_page
from frontdesk.accounts.models import User
from frontdesk.core.errors import InvalidInput, ServiceError
from frontdesk.core.forms import submit
from frontdesk.core.models import Via
from frontdesk.mail import selectors, services
from frontdesk.mail.forms import MailboxForm
from frontdesk.mail.intake import IngestResult
from frontdesk.mail.originals import describe_original, header_summary

QUARANTINE_PAGE_SIZE = 50
EML = "message/rfc822"


def _page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    manage_page: str = "mailboxes",
) -> HttpResponseBase:
    return render(request, template, {"section": "manage", "manage_page": manage_page, **context})


@admin_required
def mailboxes(request: HttpRequest) -> HttpResponseBase:
    admin = acting_user(request)
    found = selectors.list_mailboxes(admin)
    quarantined = selectors.count_open_quarantine(admin)
    return _page(request, "mail/mailboxes.html", {"mailboxes": found, "quarantined": quarantined})


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


# --- quarantined mail -----------------------------------------------------------------------


@admin_required
def quarantine(request: HttpRequest) -> HttpResponseBase:
    """Open quarantined mail newest first; `?show=all` adds the resolved ones."""
    admin = acting_user(request)
    include_resolved = request.GET.get("show") == "all"
    cursor = request.GET.get("cursor") or None
    try:
        page = selectors.list_quarantine(
            admin, include_resolved=include_resolved, cursor=cursor, limit=QUARANTINE_PAGE_SIZE
        )
    except InvalidInput:
        if cursor is None:
            raise
        messages.warning(request, _("That page no longer exists; here is the first one."))
        page = selectors.list_quarantine(
            admin, include_resolved=include_resolved, limit=QUARANTINE_PAGE_SIZE
        )
    context = {"page": page, "include_resolved": include_resolved, "paged": cursor is not None}
    return _page(request, "mail/quarantine.html", context, manage_page="quarantine")


@admin_required
def quarantine_detail(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    item = or_404(lambda: selectors.access_quarantine(admin, pk, with_raw=True))
    context = {"item": item, "headers": header_summary(bytes(item.raw))}
    return _page(request, "mail/quarantine_detail.html", context, manage_page="quarantine")


@admin_required
def quarantine_raw(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    item = or_404(lambda: selectors.access_quarantine(admin, pk, with_raw=True))
    response = HttpResponse(bytes(item.raw), content_type=EML)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"quarantined-{item.pk}.eml"
    )
    return _never_inline(response)


@require_POST
@admin_required
def quarantine_retry(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    item = or_404(lambda: selectors.access_quarantine(admin, pk))
    try:
        result = services.retry_quarantined_mail(item, by=admin, via=Via.WEB)
    except ServiceError as error:
        messages.error(request, error.detail)
        return redirect("mail:quarantine_detail", pk=item.pk)
    if result.outcome == "quarantined":
        messages.error(
            request,
            _("The mail was refused again: %(reason)s") % {"reason": result.detail},
        )
        return redirect("mail:quarantine_detail", pk=item.pk)
    messages.success(request, _retried(result))
    return redirect("mail:quarantine")


def _retried(result: IngestResult) -> str:
    if result.outcome in ("created", "threaded") and result.conversation_number is not None:
        return _("The mail was taken in, in conversation #%(number)d.") % {
            "number": result.conversation_number
        }
    if result.outcome == "ignored":
        return _("The mail was taken in and ignored: %(detail)s") % {"detail": result.detail}
    return _("The mail had already been taken in.")


@require_POST
@admin_required
def quarantine_discard(request: HttpRequest, pk: int) -> HttpResponseBase:
    admin = acting_user(request)
    item = or_404(lambda: selectors.access_quarantine(admin, pk))
    try:
        services.discard_quarantined_mail(item, by=admin, via=Via.WEB)
    except ServiceError as error:
        messages.error(request, error.detail)
        return redirect("mail:quarantine_detail", pk=item.pk)
    messages.success(request, _("The mail was discarded; its original is still kept."))
    return redirect("mail:quarantine")


# --- the original of a message --------------------------------------------------------------


@staff_page
@require_GET
def original(request: HttpRequest, user: User, message_id: int) -> HttpResponse:
    """The whole mail as it arrived: headers, the full text with quotes, the parts."""
    record = selectors.access_original(user, message_id)
    raw = selectors.read_original(record)
    context = {
        "section": "inbox",
        "record": record,
        "conversation": record.message.conversation if record.message else None,
        "original": describe_original(raw) if raw is not None else None,
    }
    return render(request, "mail/original.html", context)


@staff_page
@require_GET
def original_download(request: HttpRequest, user: User, message_id: int) -> HttpResponseBase:
    record = selectors.access_original(user, message_id)
    try:
        stored = record.raw.open("rb")
    except FileNotFoundError:
        raise Http404(_("The original is no longer in storage.")) from None
    response = FileResponse(
        stored, as_attachment=True, filename=f"message-{message_id}.eml", content_type=EML
    )
    return _never_inline(response)


def _never_inline(response: HttpResponseBase) -> HttpResponseBase:
    """A mail is a download: no sniffing it into a page, and nothing in it may run if opened."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
