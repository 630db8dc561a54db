"""The bell in the workspace header, the notifications page, and the @-mention lookup.

The bell is a fragment the header fetches on load and again whenever the
realtime socket says the user's notifications changed (fd:notifications-changed).
Opening a notification is a POST (it marks it read) that lands on the
conversation; without htmx everything here works as plain links and forms.
"""

from __future__ import annotations

from dataclasses import asdict

from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_POST

from frontdesk.accounts.decorators import staff_page
from frontdesk.accounts.models import User
from frontdesk.core.errors import ServiceError
from frontdesk.core.models import Via
from frontdesk.notifications import selectors, services

PAGE_SIZE = 30
# An autocomplete query is a name's first letters, never a paragraph.
MAX_PREFIX = 100


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@staff_page
@require_GET
def bell(request: HttpRequest, user: User) -> HttpResponse:
    unread = selectors.count_unread(user)
    context = {
        "unread": unread,
        "capped": unread > selectors.UNREAD_CAP,
        "cap": selectors.UNREAD_CAP,
        "section": request.GET.get("section", ""),
    }
    return render(request, "notifications/_bell.html", context)


@staff_page
@require_GET
def notification_list(request: HttpRequest, user: User) -> HttpResponse:
    cursor = request.GET.get("cursor") or None
    try:
        page = selectors.list_notifications(user, cursor=cursor, limit=PAGE_SIZE)
    except ServiceError:
        # A cursor from elsewhere: start from the newest.
        page = selectors.list_notifications(user, limit=PAGE_SIZE)
        cursor = None
    context = {"section": "notifications", "page": page}
    if _is_htmx(request):
        template = "notifications/_rows.html" if cursor else "notifications/_list.html"
        return render(request, template, context)
    return render(request, "notifications/list.html", context)


@staff_page
@require_POST
def open_notification(request: HttpRequest, user: User, notification_id: int) -> HttpResponseBase:
    notification = selectors.access_notification(user, notification_id)
    services.mark_read(notification, by=user, via=Via.WEB)
    target = reverse("conversations:detail", kwargs={"number": notification.conversation.number})
    if notification.message_id is not None:
        target += f"#message-{notification.message_id}"
    return redirect(target)


@staff_page
@require_POST
def read_all(request: HttpRequest, user: User) -> HttpResponseBase:
    services.mark_all_read(user, by=user, via=Via.WEB)
    if _is_htmx(request):
        page = selectors.list_notifications(user, limit=PAGE_SIZE)
        return render(request, "notifications/_list.html", {"page": page})
    return redirect("notifications:list")


@staff_page
@require_GET
def mention_candidates(request: HttpRequest, user: User, number: int) -> JsonResponse:
    """Colleagues who can see conversation `number`, for the composer's @ autocomplete."""
    prefix = request.GET.get("q", "")[:MAX_PREFIX]
    found = selectors.list_mention_candidates(user, number, prefix=prefix)
    return JsonResponse({"results": [asdict(candidate) for candidate in found]})


urls: list[URLPattern] = [
    path("", notification_list, name="list"),
    path("bell/", bell, name="bell"),
    path("read-all/", read_all, name="read_all"),
    path("<int:notification_id>/open/", open_notification, name="open"),
    path("mentions/<int:number>/", mention_candidates, name="mention_candidates"),
]
