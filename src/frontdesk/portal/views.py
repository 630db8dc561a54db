"""Portal pages: parse the request, call one service or selector, render.

Every page works as a plain form without JavaScript; htmx only refreshes the
thread when the realtime socket says the request changed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language

from frontdesk.accounts.models import User
from frontdesk.conversations import services as conversations
from frontdesk.conversations.models import ACTIVE_STATUSES, Channel, Status
from frontdesk.conversations.selectors import access_attachment
from frontdesk.core.errors import InvalidInput, NotFound, ServiceError
from frontdesk.core.middleware import activate_preferences
from frontdesk.core.models import Via
from frontdesk.customers.models import Customer
from frontdesk.portal import selectors, services
from frontdesk.portal.forms import (
    PortalSignInForm,
    ReplyForm,
    RequestForm,
    SignInLinkForm,
    SignUpForm,
    apply_service_error,
    uploads,
)
from frontdesk.portal.models import TokenPurpose

# (request, user, customer, *url arguments) -> response
CustomerView = Callable[..., HttpResponseBase]


def customer_page(view: CustomerView) -> Callable[..., HttpResponseBase]:
    """Signed-in customers only; staff go to their workspace, others to the portal sign-in."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:login"))
        if not isinstance(user, User) or not user.is_customer:
            return redirect("home")
        customer = selectors.portal_customer(user)
        # The customer's profile language and time zone win over the login's and the browser's.
        activate_preferences(
            request,
            language=selectors.profile_language(user),
            time_zone=selectors.profile_time_zone(user),
        )
        if customer is None:
            return render(request, "portal/unlinked.html", status=403)
        return view(request, user, customer, *args, **kwargs)

    return wrapper


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("portal:home")


def _signed_in_customer(request: HttpRequest) -> User | None:
    user = request.user
    if user.is_authenticated and isinstance(user, User) and user.is_customer:
        return user
    return None


# --- signing in -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if _signed_in_customer(request) is not None:
        return redirect(_next_url(request))
    form = PortalSignInForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        login(request, user)
        return redirect(_next_url(request) if user.is_customer else reverse("home"))
    return render(
        request,
        "portal/login.html",
        {"form": form, "link_form": SignInLinkForm(), "next": _next_url(request)},
        status=200 if request.method == "GET" or form.is_valid() else 422,
    )


@require_POST
def request_link(request: HttpRequest) -> HttpResponse:
    form = SignInLinkForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "portal/login.html",
            {"form": PortalSignInForm(request), "link_form": form, "next": _next_url(request)},
            status=422,
        )
    services.request_sign_in_link(form.cleaned_data["email"], base_url=_base_url(request))
    return render(request, "portal/check_email.html", {"email": form.cleaned_data["email"]})


def _follow_link(
    request: HttpRequest,
    token: str,
    *,
    purpose: str,
    use: Callable[[str], User],
    welcome: str = "",
) -> HttpResponse:
    """GET asks to confirm (mail scanners follow links); POST burns the link and signs in."""
    try:
        if request.method == "GET":
            user = services.check_link(token, purpose=purpose)
            verify = purpose == TokenPurpose.VERIFY_EMAIL
            return render(
                request, "portal/confirm_link.html", {"who": user.email, "verify": verify}
            )
        user = use(token)
    except services.LinkError as error:
        return render(request, "portal/link_invalid.html", {"reason": error.reason}, status=410)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if welcome:
        messages.success(request, welcome)
    return redirect("portal:home")


@require_http_methods(["GET", "POST"])
def magic_link(request: HttpRequest, token: str) -> HttpResponse:
    return _follow_link(request, token, purpose=TokenPurpose.SIGN_IN, use=services.use_sign_in_link)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("portal:login")


# --- signing up -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    if _signed_in_customer(request) is not None:
        return redirect("portal:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = services.SignUp(
            name=form.cleaned_data["name"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password"],
        )
        try:
            services.sign_up(data, base_url=_base_url(request))
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            return render(request, "portal/check_email.html", {"email": data.email, "signup": True})
    status = 422 if request.method == "POST" else 200
    return render(request, "portal/signup.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest, token: str) -> HttpResponse:
    return _follow_link(
        request,
        token,
        purpose=TokenPurpose.VERIFY_EMAIL,
        use=services.verify_email,
        welcome=_("Your email address is confirmed. Welcome!"),
    )


# --- language -------------------------------------------------------------------------------


@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """The switcher for signed-in customers: remember the choice, then Django's set_language."""
    user = _signed_in_customer(request)
    code = request.POST.get("language", "")
    if user is not None:
        try:
            services.set_portal_language(user, language=code)
        except (InvalidInput, NotFound):
            pass  # set_language below ignores an unknown code the same way
    return set_language(request)


# --- requests -------------------------------------------------------------------------------


@require_GET
@customer_page
def home(request: HttpRequest, user: User, customer: Customer) -> HttpResponse:
    shared = selectors.company_shared(customer)
    company = shared and request.GET.get("show") == "company"
    cursor = request.GET.get("cursor") or None
    try:
        page = selectors.list_requests(user, customer, company=company, cursor=cursor)
    except InvalidInput:
        page = selectors.list_requests(user, customer, company=company, cursor=None)
    rows = [
        {
            "conversation": c,
            "status": selectors.customer_status(c.status),
            "own": c.customer_id == customer.pk,
        }
        for c in page.items
    ]
    return render(
        request,
        "portal/home.html",
        {
            "customer": customer,
            "rows": rows,
            "next_cursor": page.next_cursor,
            "shared": shared,
            "company_view": company,
            "section": "home",
        },
    )


@require_http_methods(["GET", "POST"])
@customer_page
def new_request(request: HttpRequest, user: User, customer: Customer) -> HttpResponse:
    definitions = selectors.visible_fields(user)
    form = RequestForm(request.POST or None, request.FILES or None, definitions=definitions)
    if request.method == "POST" and form.is_valid():
        try:
            conversation = conversations.create_conversation(
                by=user,
                customer=customer,
                subject=form.cleaned_data["subject"],
                channel=Channel.PORTAL,
                text=form.cleaned_data["text"],
                fields=form.field_values(),
                language=translation.get_language() or "",
                attachments=uploads(form.cleaned_data["attachments"]),
                via=Via.PORTAL,
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Thank you. We received your request."))
            return redirect("portal:request", number=conversation.number)
    status = 422 if request.method == "POST" else 200
    context = {"form": form, "customer": customer, "section": "new"}
    return render(request, "portal/new.html", context, status=status)


def _thread_context(thread: selectors.RequestThread, customer: Customer) -> dict[str, Any]:
    conversation = thread.conversation
    return {
        "thread": thread,
        "conversation": conversation,
        "customer": customer,
        "status": selectors.customer_status(conversation.status),
        "may_solve": thread.own and conversation.status in ACTIVE_STATUSES,
        "may_reply": thread.own and conversation.status != Status.CLOSED,
    }


def _request_page(
    request: HttpRequest,
    user: User,
    *,
    customer: Customer,
    number: int,
    form: ReplyForm | None = None,
    status: int = 200,
) -> HttpResponse:
    try:
        thread = selectors.request_thread(user, customer, number)
    except NotFound:
        raise Http404 from None
    context = _thread_context(thread, customer)
    context["form"] = form or ReplyForm()
    context["section"] = "home"
    return render(request, "portal/request.html", context, status=status)


@require_GET
@customer_page
def request_detail(
    request: HttpRequest, user: User, customer: Customer, number: int
) -> HttpResponse:
    return _request_page(request, user, customer=customer, number=number)


@require_GET
@customer_page
def thread(request: HttpRequest, user: User, customer: Customer, number: int) -> HttpResponse:
    """The thread region alone, for htmx to swap in when the request changed."""
    try:
        found = selectors.request_thread(user, customer, number)
    except NotFound:
        raise Http404 from None
    return render(request, "portal/_thread.html", _thread_context(found, customer))


@require_POST
@customer_page
def reply(request: HttpRequest, user: User, customer: Customer, number: int) -> HttpResponse:
    try:
        found = selectors.request_thread(user, customer, number)
    except NotFound:
        raise Http404 from None
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        if not found.own:
            form.add_error(None, _("Only the person who opened this request can reply to it."))
        else:
            try:
                conversations.add_customer_message(
                    found.conversation,
                    by=user,
                    text=form.cleaned_data["text"],
                    channel=Channel.PORTAL,
                    attachments=uploads(form.cleaned_data["attachments"]),
                    via=Via.PORTAL,
                )
            except ServiceError as error:
                apply_service_error(form, error)
            else:
                messages.success(request, _("Your reply was sent."))
                return redirect("portal:request", number=number)
    return _request_page(request, user, customer=customer, number=number, form=form, status=422)


@require_POST
@customer_page
def solve(request: HttpRequest, user: User, customer: Customer, number: int) -> HttpResponse:
    try:
        found = selectors.request_thread(user, customer, number)
    except NotFound:
        raise Http404 from None
    if not found.own:
        raise Http404
    try:
        conversations.set_status(found.conversation, by=user, status=Status.SOLVED, via=Via.PORTAL)
    except ServiceError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("Marked as solved. Reply any time if you need more help."))
    return redirect("portal:request", number=number)


@require_GET
@customer_page
def attachment(request: HttpRequest, user: User, customer: Customer, pk: int) -> FileResponse:
    """A file from the request's public thread; a note's file is as absent as a missing one."""
    try:
        found = access_attachment(user, pk)
    except NotFound:
        raise Http404 from None
    return FileResponse(
        found.file.open("rb"),
        as_attachment=True,
        filename=found.filename,
        content_type=found.content_type,
    )
