"""Workspace pages: the inbox (views, filters, bulk changes) and its left rail.

The list and the rail are server-rendered; htmx reloads them when realtime.js
says something visible changed (`fd:inbox-changed` on <body>). The list's own
URL carries the filters and the cursor, so a refresh keeps the page the user is on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import Resolver404, URLPattern, path, resolve, reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from frontdesk.accounts import selectors as account_selectors
from frontdesk.accounts.decorators import acting_user, or_404, staff_required
from frontdesk.accounts.models import Team, User
from frontdesk.conversations import selectors, services
from frontdesk.conversations.models import Conversation, Priority, SavedView, Status
from frontdesk.conversations.selectors import (
    BUILTIN_VIEWS,
    FOLLOWING_VIEWS,
    VIEW_MINE,
)
from frontdesk.conversations.sla_badges import SlaBadge, conversation_badge
from frontdesk.conversations.views.inbox_forms import (
    BULK_ASSIGN,
    BULK_STATUS,
    FILTER_NAMES,
    NONE,
    BulkForm,
    InboxFilterForm,
    SavedViewForm,
)
from frontdesk.core.errors import InvalidInput, ServiceError
from frontdesk.core.models import Via

# Thirty rows fill a 1280x800 screen and keep the page well inside its time
# budget at a million conversations (bench/README.md); the pager shows the rest.
PAGE_SIZE = 30
LIST_TARGET = "inbox-list"
# The save form shares the page with the filter form; the prefix keeps their ids apart.
SAVE_PREFIX = "save"
# Every view /inbox/<view>/ shows, counted in the rail or not.
VIEW_TITLES: dict[str, Any] = {**BUILTIN_VIEWS, **FOLLOWING_VIEWS}


# --- the inbox page -----------------------------------------------------------------------


@require_GET
@staff_required
def inbox(request: HttpRequest) -> HttpResponse:
    return _inbox(request, view=VIEW_MINE)


@require_GET
@staff_required
def inbox_view(request: HttpRequest, view: str) -> HttpResponse:
    if view not in VIEW_TITLES:
        raise Http404(_("No such view."))
    return _inbox(request, view=view)


@require_GET
@staff_required
def saved_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    saved = or_404(lambda: selectors.access_saved_view(user, pk))
    return _inbox(request, saved=saved)


def _inbox(request: HttpRequest, *, view: str = "", saved: SavedView | None = None) -> HttpResponse:
    user = acting_user(request)
    teams = selectors.team_choices(user)
    people = selectors.people_choices(user)
    data: QueryDict = request.GET
    if saved is not None and not any(name in request.GET for name in FILTER_NAMES):
        # A saved view opens with its own filters in the form, ready to narrow or change.
        data = QueryDict(mutable=True)
        for key, value in saved.filters.items():
            data[key] = str(value)
        data["sort"] = request.GET.get("sort") or _saved_sort(saved)
    form = InboxFilterForm(data, teams=teams, people=people)
    base = selectors.builtin_view_filters(user, view) if view else None
    page = None
    cursor_error = ""
    if form.is_valid():
        try:
            page = selectors.list_conversations(
                user,
                filters=form.filters(),
                also=base,
                sort=form.sort_order(),
                cursor=request.GET.get("cursor") or None,
                limit=PAGE_SIZE,
            )
        except InvalidInput as error:
            cursor_error = error.detail
    rows = inbox_rows(page.items) if page else []
    here = reverse("conversations:saved_view", args=[saved.pk]) if saved else _view_url(view)
    query = {k: str(v) for k, v in data.items() if k in (*FILTER_NAMES, "sort") and v}
    context: dict[str, Any] = {
        "section": "inbox",
        "title": saved.name if saved else VIEW_TITLES[view],
        "view": view,
        "saved": saved,
        "form": form,
        "page": page,
        "rows": rows,
        "cursor_error": cursor_error,
        "list_url": request.get_full_path(),
        "first_url": _with_query(here, query),
        "next_url": _with_query(here, {**query, "cursor": page.next_cursor})
        if page and page.next_cursor
        else "",
        "is_first_page": not request.GET.get("cursor"),
        "filter_query": urlencode(query),
        "has_filters": any(k in query for k in FILTER_NAMES),
        "bulk_form": BulkForm(None, people=people),
        "save_form": SavedViewForm(None, teams=_my_teams(user, teams), prefix=SAVE_PREFIX),
        "may_edit_saved": saved is not None and (saved.owner_id == user.pk or user.is_admin),
    }
    if request.headers.get("HX-Target") == LIST_TARGET:
        return render(request, "conversations/_inbox_list.html", context)
    return render(request, "conversations/inbox.html", context)


@dataclass(frozen=True, kw_only=True)
class InboxRow:
    """What one inbox row shows, computed in Python.

    Template filters cost tens of microseconds each on every row (a date format,
    a translated choice label); fifty rows of them were most of the page's time.
    """

    number: int
    subject: str
    url: str
    customer: str
    status: str
    status_label: str
    priority: int
    priority_label: str
    assignee: str
    team: str
    tags: list[str]
    activity: datetime
    activity_iso: str
    activity_title: str
    sla: SlaBadge | None = None


def inbox_rows(conversations: Iterable[Conversation]) -> list[InboxRow]:
    status_labels = {value: str(label) for value, label in Status.choices}
    priority_labels = {value: str(label) for value, label in Priority.choices}
    now = timezone.now()
    rows = []
    for c in conversations:
        local = timezone.localtime(c.last_activity_at)
        rows.append(
            InboxRow(
                number=c.number,
                subject=c.subject,
                url=reverse("conversations:detail", args=[c.number]),
                customer=c.customer.name if c.customer else "",
                status=c.status,
                status_label=status_labels.get(c.status, c.status),
                priority=c.priority,
                priority_label=priority_labels.get(c.priority, str(c.priority)),
                assignee=c.assignee.display_name if c.assignee else "",
                team=c.team.name if c.team else "",
                tags=[tag.name for tag in c.tags.all()],
                activity=c.last_activity_at,
                activity_iso=local.isoformat(),
                activity_title=formats.date_format(local, "SHORT_DATETIME_FORMAT"),
                sla=conversation_badge(c, now),
            )
        )
    return rows


def _saved_sort(saved: SavedView) -> str:
    return saved.sort if saved.sort in selectors.SORTS else selectors.SORT_ACTIVITY


def _view_url(view: str) -> str:
    if view == VIEW_MINE:
        return reverse("conversations:inbox")
    return reverse("conversations:inbox_view", args=[view])


def _with_query(url: str, query: dict[str, str]) -> str:
    return f"{url}?{urlencode(query)}" if query else url


def _my_teams(user: User, teams: list[tuple[int, str]]) -> list[tuple[int, str]]:
    mine = account_selectors.team_ids_for(user)
    return [(pk, name) for pk, name in teams if pk in mine]


# --- the rail -----------------------------------------------------------------------------


@require_GET
@staff_required
def rail(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    counts = selectors.builtin_view_counts(user)
    current = _current(request)
    builtin = [
        {
            "url": _view_url(view),
            "label": label,
            "count": counts[view],
            "capped": counts[view] > selectors.COUNT_CAP,
            "current": current == ("view", view),
        }
        for view, label in BUILTIN_VIEWS.items()
    ]
    saved = [
        {
            "url": reverse("conversations:saved_view", args=[v.pk]),
            "label": v.name,
            "shared": v.team_id is not None,
            "team": v.team.name if v.team is not None else "",
            "current": current == ("saved", v.pk),
        }
        for v in selectors.list_saved_views(user)
    ]
    following = [
        {"url": _view_url(view), "label": label, "current": current == ("view", view)}
        for view, label in FOLLOWING_VIEWS.items()
    ]
    # Supervisors and admins watch the SLA risks of their teams (a page of the sla app).
    at_risk = None
    if user.is_active and (user.is_admin or user.is_supervisor):
        at_risk = {"url": reverse("sla:at_risk"), "current": current == ("at_risk", None)}
    return render(
        request,
        "conversations/_rail.html",
        {
            "builtin": builtin,
            "following": following,
            "at_risk": at_risk,
            "saved_views": saved,
            "count_cap": selectors.COUNT_CAP,
        },
    )


def _current(request: HttpRequest) -> tuple[str, Any] | None:
    """Which rail entry the page shows: the rail is fetched by htmx, so ask its URL."""
    url = request.GET.get("current") or request.headers.get("HX-Current-URL") or ""
    try:
        match = resolve(urlsplit(url).path or "/")
    except Resolver404:
        return None
    if match.view_name == "conversations:inbox":
        return ("view", VIEW_MINE)
    if match.view_name == "conversations:inbox_view":
        return ("view", match.kwargs.get("view"))
    if match.view_name == "conversations:saved_view":
        return ("saved", match.kwargs.get("pk"))
    if match.view_name == "sla:at_risk":
        return ("at_risk", None)
    return None


# --- bulk changes -------------------------------------------------------------------------


@require_POST
@staff_required
def bulk(request: HttpRequest) -> HttpResponse:
    """One change to each ticked conversation; a refusal for one does not stop the others."""
    user = acting_user(request)
    back = _back(request)
    form = BulkForm(request.POST, people=selectors.people_choices(user))
    if not form.is_valid():
        _flash_errors(request, form)
        return redirect(back)
    numbers: list[int] = form.cleaned_data["conversation"]
    try:
        change = _bulk_change(user, form.cleaned_data)
    except ServiceError as error:
        messages.error(request, error.detail)
        return redirect(back)
    found = selectors.conversations_by_number(user, numbers)
    updated = 0
    refused: list[str] = []
    for number in numbers:
        conversation = found.get(number)
        if conversation is None:
            refused.append(_("#%(number)s (not found)") % {"number": number})
            continue
        try:
            change(conversation)
        except ServiceError as error:
            refused.append(f"#{number} ({error.detail})")
        else:
            updated += 1
    _report(request, updated, refused)
    return redirect(back)


def _bulk_change(user: User, data: dict[str, Any]) -> Any:
    action = data["action"]
    if action == BULK_ASSIGN:
        assignee_value = data["assignee"]
        assignee = (
            None
            if assignee_value == NONE
            else account_selectors.access_user(user, int(assignee_value))
        )

        def assign(c: Conversation) -> None:
            services.assign(c, by=user, assignee=assignee, via=Via.WEB)

        return assign
    if action == BULK_STATUS:
        status = data["status"]

        def set_status(c: Conversation) -> None:
            services.set_status(c, by=user, status=status, via=Via.WEB)

        return set_status
    tag = data["tag"]

    def add_tag(c: Conversation) -> None:
        services.add_tags(c, by=user, tags=[tag], via=Via.WEB)

    return add_tag


def _report(request: HttpRequest, updated: int, refused: list[str]) -> None:
    done = ngettext("%(count)s updated", "%(count)s updated", updated) % {"count": updated}
    if not refused:
        messages.success(request, done)
        return
    not_done = ngettext(
        "%(count)s refused: %(which)s", "%(count)s refused: %(which)s", len(refused)
    ) % {"count": len(refused), "which": ", ".join(refused)}
    level = messages.warning if updated else messages.error
    level(request, f"{done}, {not_done}")


def _flash_errors(request: HttpRequest, *forms: Form) -> None:
    for form in forms:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else None
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else str(error))


def _back(request: HttpRequest) -> str:
    """Where a form posted from the inbox returns: its own page, never another site."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("conversations:inbox")


# --- saved views --------------------------------------------------------------------------


@require_POST
@staff_required
def saved_view_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    teams = selectors.team_choices(user)
    form = SavedViewForm(request.POST, teams=_my_teams(user, teams), prefix=SAVE_PREFIX)
    filters = InboxFilterForm(
        QueryDict(request.POST.get("query", "")),
        teams=teams,
        people=selectors.people_choices(user),
    )
    back = _back(request)
    if not form.is_valid() or not filters.is_valid():
        _flash_errors(request, form, filters)
        return redirect(back)
    try:
        saved = services.create_saved_view(
            by=user,
            name=form.cleaned_data["name"],
            filters=filters.query(),
            sort=filters.sort_order(),
            team=_team(user, form.cleaned_data["team"]),
            via=Via.WEB,
        )
    except ServiceError as error:
        messages.error(request, error.detail)
        return redirect(back)
    messages.success(request, _("View “%(name)s” saved.") % {"name": saved.name})
    return redirect("conversations:saved_view", pk=saved.pk)


@require_GET
@staff_required
def saved_views(request: HttpRequest) -> HttpResponse:
    """The user's saved views to rename, share or delete, and those shared with them."""
    user = acting_user(request)
    mine_teams = _my_teams(user, selectors.team_choices(user))
    rows = []
    for view in selectors.list_saved_views(user):
        own = view.owner_id == user.pk
        form = None
        if own:
            form = SavedViewForm(
                None,
                teams=mine_teams,
                initial={"name": view.name, "team": view.team_id},
                prefix=f"v{view.pk}",
            )
        rows.append({"view": view, "own": own, "form": form})
    return render(
        request,
        "conversations/saved_views.html",
        {"section": "inbox", "rows": rows},
    )


@require_POST
@staff_required
def saved_view_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    view = or_404(lambda: selectors.access_saved_view(user, pk))
    form = SavedViewForm(
        request.POST,
        teams=_my_teams(view.owner, selectors.team_choices(user)),
        prefix=f"v{view.pk}",
    )
    if not form.is_valid():
        _flash_errors(request, form)
        return redirect("conversations:saved_views")
    try:
        services.update_saved_view(
            view,
            by=user,
            name=form.cleaned_data["name"],
            team=_team(user, form.cleaned_data["team"]),
            via=Via.WEB,
        )
    except ServiceError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("View saved."))
    return redirect("conversations:saved_views")


@require_POST
@staff_required
def saved_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    view = or_404(lambda: selectors.access_saved_view(user, pk))
    try:
        services.delete_saved_view(view, by=user, via=Via.WEB)
    except ServiceError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("View “%(name)s” deleted.") % {"name": view.name})
    return redirect("conversations:saved_views")


def _team(user: User, team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    return account_selectors.access_team(user, team_id, with_members=False)


# Order matters: "rail", "bulk" and "saved" would otherwise match <slug:view>.
urls: list[URLPattern] = [
    path("inbox/", inbox, name="inbox"),
    path("inbox/rail/", rail, name="rail"),
    path("inbox/bulk/", bulk, name="inbox_bulk"),
    path("inbox/saved/", saved_views, name="saved_views"),
    path("inbox/saved/new/", saved_view_create, name="saved_view_create"),
    path("inbox/saved/<int:pk>/", saved_view, name="saved_view"),
    path("inbox/saved/<int:pk>/edit/", saved_view_edit, name="saved_view_edit"),
    path("inbox/saved/<int:pk>/delete/", saved_view_delete, name="saved_view_delete"),
    path("inbox/<slug:view>/", inbox_view, name="inbox_view"),
]
