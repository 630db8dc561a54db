"""Signed webhook deliveries: POST a JSON body, retry with backoff, log every attempt.

Signature: the header ``X-Frontdesk-Signature: t=<unix time>,v1=<hex>``, where hex is
HMAC-SHA256 with the webhook's secret over ``"<unix time>.<body>"`` (the body's exact
bytes). A receiver recomputes it, compares in constant time and refuses an old `t`, which
stops replays; `verify_signature` does exactly that. ``X-Frontdesk-Delivery`` carries the
delivery's id, the same on every retry, so a receiver can drop duplicates.

Delivery: a `WebhookDelivery` row is written with the change that caused it. An attempt
first claims it (pending → sending, one conditional UPDATE, so two workers never send it
together), then POSTs, then records a `WebhookAttempt` (status code, duration, error) and
moves the delivery to delivered, back to pending with the next attempt's time, or failed
after MAX_ATTEMPTS. Any answer but 2xx counts as a failure; redirects are not followed.
A claim older than STALE_SENDING belongs to a worker that died and is taken back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from frontdesk.automation.models import DeliveryState, Webhook, WebhookAttempt, WebhookDelivery
from frontdesk.core.errors import InvalidInput
from frontdesk.mail import crypto

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Frontdesk-Signature"
DELIVERY_HEADER = "X-Frontdesk-Delivery"
EVENT_HEADER = "X-Frontdesk-Event"
TIMEOUT_S = 10.0
MAX_ATTEMPTS = 6
# Wait after attempt n (1-based) before the next one: 30 s, 2 min, 10 min, 30 min, 2 h.
RETRY_DELAYS = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=2),
)
STALE_SENDING = timedelta(minutes=5)
SWEEP_LIMIT = 100
SIGNATURE_TOLERANCE_S = 300
# Enough of an error answer to tell what went wrong.
_ERROR_BODY = 300
_SCHEMES = ("http", "https")


# --- secrets and signatures ------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES or not parts.hostname:
        raise InvalidInput(_("Give an http:// or https:// address."), field="url")
    if parts.username or parts.password:
        raise InvalidInput(_("Put no password in the address; the signature proves the sender."),
                           field="url")  # fmt: skip
    return url


def stored_secret(secret: str) -> str:
    return crypto.encrypt(secret)


def readable_secret(webhook: Webhook) -> str:
    """The plain secret, for the admin who configures the receiver."""
    return crypto.decrypt(webhook.secret)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(
    secret: str, header: str, body: bytes, *, now: float | None = None,
    tolerance_s: int = SIGNATURE_TOLERANCE_S,
) -> bool:  # fmt: skip
    """What a receiver does: the same HMAC, compared in constant time, and not too old."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode("utf-8")


# --- attempts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300  # noqa: PLR2004


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is the answer: a signed body is not re-sent elsewhere


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float = TIMEOUT_S) -> Answer:
    """One POST; never raises for what the network or the receiver does."""
    check_url(url)
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310 - http(s) only, checked above
    opener = urllib.request.build_opener(_NoRedirects)
    started = time.monotonic()
    status: int | None = None
    error = ""
    try:
        with opener.open(request, timeout=timeout) as response:
            status = int(response.status)
            response.read(_ERROR_BODY)
    except urllib.error.HTTPError as answer:
        status = int(answer.code)
        error = _error_text(answer)
    except (urllib.error.URLError, OSError, ValueError) as failure:
        reason = getattr(failure, "reason", None) or failure
        error = str(reason) or type(failure).__name__
    duration_ms = int((time.monotonic() - started) * 1000)
    return Answer(status_code=status, error=error, duration_ms=duration_ms)


def _error_text(answer: urllib.error.HTTPError) -> str:
    try:
        text = answer.read(_ERROR_BODY).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return f"HTTP {answer.code}" + (f": {text}" if text else "")


def attempt_delivery(delivery_id: int, *, now: datetime | None = None) -> str:
    """One attempt, under a claim; "delivered", "retry", "failed" or "skipped" (not ours)."""
    now = now or timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, state=DeliveryState.PENDING, next_attempt_at__lte=now
    ).update(state=DeliveryState.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if claimed != 1:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    answer = _send(delivery)
    return _finish(delivery, answer, claimed_at=now)


def _send(delivery: WebhookDelivery) -> Answer:
    webhook = delivery.webhook
    if not webhook.active:
        return Answer(status_code=None, error=_("The webhook is switched off."), duration_ms=0)
    try:
        secret = readable_secret(webhook)
    except crypto.CredentialError as error:
        return Answer(status_code=None, error=str(error), duration_ms=0)
    body = body_of(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Frontdesk-Webhooks/1",
        SIGNATURE_HEADER: signature(secret, int(time.time()), body),
        DELIVERY_HEADER: str(delivery.pk),
        EVENT_HEADER: delivery.event,
    }
    try:
        return post(webhook.url, body, headers)
    except InvalidInput as error:
        return Answer(status_code=None, error=error.detail, duration_ms=0)


def _finish(delivery: WebhookDelivery, answer: Answer, *, claimed_at: datetime) -> str:
    finished_at = timezone.now()
    if answer.ok:
        outcome, changes = (
            "delivered",
            {"state": DeliveryState.DELIVERED, "finished_at": finished_at},
        )
    elif delivery.attempts >= MAX_ATTEMPTS or not delivery.webhook.active:
        outcome, changes = "failed", {"state": DeliveryState.FAILED, "finished_at": finished_at}
    else:
        delay = RETRY_DELAYS[min(delivery.attempts, len(RETRY_DELAYS)) - 1]
        outcome = "retry"
        changes = {"state": DeliveryState.PENDING, "next_attempt_at": claimed_at + delay}
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            at=claimed_at,
            status_code=answer.status_code,
            duration_ms=answer.duration_ms,
            error=answer.error[:2000],
            ok=answer.ok,
        )
        # Fenced on this claim: a sweep that judged this worker dead has handed it on.
        WebhookDelivery.objects.filter(
            pk=delivery.pk, state=DeliveryState.SENDING, claimed_at=claimed_at
        ).update(last_status_code=answer.status_code, last_error=answer.error[:2000], **changes)
    if not answer.ok:
        logger.warning("webhook delivery %s attempt %s: %s", delivery.pk, delivery.attempts,
                       answer.error or answer.status_code)  # fmt: skip
    return outcome


def next_attempt_at(delivery_id: int) -> datetime | None:
    return (
        WebhookDelivery.objects.filter(pk=delivery_id, state=DeliveryState.PENDING)
        .values_list("next_attempt_at", flat=True)
        .first()
    )


def due_deliveries(*, now: datetime | None = None, limit: int = SWEEP_LIMIT) -> list[int]:
    """Deliveries to attempt now: pending ones whose time came, and stale claims taken back."""
    now = now or timezone.now()
    WebhookDelivery.objects.filter(
        state=DeliveryState.SENDING, claimed_at__lt=now - STALE_SENDING
    ).update(state=DeliveryState.PENDING, next_attempt_at=now)
    return list(
        WebhookDelivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
