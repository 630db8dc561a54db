"""Webhooks against a real HTTP server on 127.0.0.1 that checks the signature."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from frontdesk.automation import services as automation
from frontdesk.automation import webhooks
from frontdesk.automation.models import DeliveryState, Webhook, WebhookDelivery
from frontdesk.automation.tasks import retry_webhooks
from frontdesk.core.errors import InvalidInput
from frontdesk.core.scheduling import get_job
from tests.automation.conftest import Live, MakeTrigger, Open
from tests.conftest import Personas

SECRET = "whsec_test-secret-0123456789"


@dataclass
class Receiver:
    """What the server answers, in turn (the last one repeats), and what it received."""

    url: str
    answers: list[int] = field(default_factory=lambda: [200])
    received: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            header = self.headers.get(webhooks.SIGNATURE_HEADER, "")
            valid = webhooks.verify_signature(SECRET, header, body)
            with state.lock:
                status = state.answers.pop(0) if len(state.answers) > 1 else state.answers[0]
                state.received.append(
                    {
                        "valid": valid,
                        "body": json.loads(body),
                        "path": self.path,
                        "delivery": self.headers.get(webhooks.DELIVERY_HEADER),
                        "event": self.headers.get(webhooks.EVENT_HEADER),
                        "content_type": self.headers.get("Content-Type"),
                    }
                )
            status = status if valid else 401
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"nope" if status >= 400 else b"ok")

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/frontdesk"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def hook(people: Personas, receiver: Receiver, secret: str = SECRET) -> Webhook:
    return automation.create_webhook(by=people.admin, name="CRM", url=receiver.url, secret=secret)


Send = Callable[[Webhook], WebhookDelivery]


@pytest.fixture
def send(live: Live, open_conversation: Open, make_trigger: MakeTrigger) -> Send:
    """A new conversation sets off a trigger that posts to the webhook: the delivery after its
    first attempt."""

    def first_attempt(webhook: Webhook) -> WebhookDelivery:
        make_trigger(
            "Tell the CRM", ["conversation_created"], [{"type": "webhook", "webhook": webhook.pk}]
        )
        with live():
            open_conversation()
        return WebhookDelivery.objects.get()

    return first_attempt


def test_a_trigger_posts_a_signed_json_body_the_server_verifies(
    people: Personas,
    receiver: Receiver,
    live: Live,
    open_conversation: Open,
    make_trigger: MakeTrigger,
) -> None:
    webhook = hook(people, receiver)
    trigger = make_trigger(
        "Tell the CRM", ["conversation_created"], [{"type": "webhook", "webhook": webhook.pk}]
    )
    with live():
        conversation = open_conversation(tags=["vip"])
    (request,) = receiver.received
    assert request["valid"] is True
    assert request["path"] == "/hooks/frontdesk"
    assert request["content_type"] == "application/json"
    assert request["event"] == "conversation_created"
    body = request["body"]
    assert body["rule"] == {"kind": "trigger", "id": trigger.pk, "name": "Tell the CRM"}
    assert body["conversation"]["number"] == conversation.number
    assert body["conversation"]["tags"] == ["vip"]
    assert body["conversation"]["customer"]["name"] == "Jana Nováková"
    delivery = WebhookDelivery.objects.get()
    assert request["delivery"] == str(delivery.pk)
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        DeliveryState.DELIVERED,
        1,
        200,
    )
    (attempt,) = delivery.attempt_rows.all()
    assert (attempt.ok, attempt.status_code, attempt.error) == (True, 200, "")
    assert attempt.duration_ms < 10_000


def test_a_500_is_retried_later_and_every_attempt_is_logged(
    people: Personas, receiver: Receiver, send: Send
) -> None:
    receiver.answers = [500, 200]
    delivery = send(hook(people, receiver))
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        DeliveryState.PENDING,
        1,
        500,
    )
    assert delivery.last_error == "HTTP 500: nope"
    first_wait = delivery.next_attempt_at - delivery.attempt_rows.get().at
    assert first_wait == webhooks.RETRY_DELAYS[0]
    # Not due yet: the sweep leaves it; once due, it goes.
    assert webhooks.due_deliveries(now=delivery.next_attempt_at - timedelta(seconds=1)) == []
    assert webhooks.due_deliveries(now=delivery.next_attempt_at) == [delivery.pk]
    # The scheduler's sweep sends it once its time has come (here: moved into the past).
    assert retry_webhooks() == {"enqueued": 0}
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert get_job("automation_webhook_retries").func is retry_webhooks
    assert retry_webhooks() == {"enqueued": 1}
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        DeliveryState.DELIVERED,
        2,
        200,
    )
    attempts = list(delivery.attempt_rows.order_by("number"))
    assert [(a.number, a.status_code, a.ok) for a in attempts] == [(1, 500, False), (2, 200, True)]
    assert [r["valid"] for r in receiver.received] == [True, True]
    assert len({r["delivery"] for r in receiver.received}) == 1
    # Delivered: another attempt (a duplicate task) sends nothing.
    assert webhooks.attempt_delivery(delivery.pk, now=delivery.next_attempt_at) == "skipped"
    assert len(receiver.received) == 2


def test_a_delivery_fails_for_good_after_the_last_attempt(
    people: Personas, receiver: Receiver, send: Send
) -> None:
    receiver.answers = [503]
    delivery = send(hook(people, receiver))
    for _ in range(webhooks.MAX_ATTEMPTS - 1):
        delivery.refresh_from_db()
        webhooks.attempt_delivery(delivery.pk, now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.FAILED, webhooks.MAX_ATTEMPTS)
    assert delivery.attempt_rows.count() == webhooks.MAX_ATTEMPTS
    assert webhooks.due_deliveries(now=delivery.next_attempt_at + timedelta(days=1)) == []


def test_a_wrong_secret_is_refused_by_the_receiver(
    people: Personas, receiver: Receiver, send: Send
) -> None:
    delivery = send(hook(people, receiver, secret="whsec_someone-else-entirely"))
    assert [r["valid"] for r in receiver.received] == [False]
    assert delivery.last_status_code == 401


def test_an_unreachable_receiver_is_an_error_attempt_not_a_crash(
    people: Personas, send: Send
) -> None:
    webhook = automation.create_webhook(by=people.admin, name="Down", url="http://127.0.0.1:9/x")
    delivery = send(webhook)
    assert delivery.state == DeliveryState.PENDING
    (attempt,) = delivery.attempt_rows.all()
    assert attempt.status_code is None and attempt.error


def test_signatures_are_checked_for_tampering_and_age() -> None:
    body = b'{"a":1}'
    header = webhooks.signature(SECRET, 1_700_000_000, body)
    assert webhooks.verify_signature(SECRET, header, body, now=1_700_000_010)
    assert not webhooks.verify_signature(SECRET, header, b'{"a":2}', now=1_700_000_010)
    assert not webhooks.verify_signature(
        "whsec_other-secret-value", header, body, now=1_700_000_010
    )
    assert not webhooks.verify_signature(SECRET, header, body, now=1_700_009_999)
    assert not webhooks.verify_signature(SECRET, "garbage", body)


def test_the_secret_is_stored_encrypted_and_urls_must_be_http(people: Personas) -> None:
    webhook = automation.create_webhook(
        by=people.admin, name="CRM", url="https://crm.example/h", secret=SECRET
    )
    assert SECRET not in webhook.secret
    assert webhooks.readable_secret(Webhook.objects.get(pk=webhook.pk)) == SECRET
    generated = automation.create_webhook(by=people.admin, name="Gen", url="https://x.example/")
    assert webhooks.readable_secret(generated).startswith("whsec_")
    for url in ("ftp://x.example/", "file:///etc/passwd", "https://user:pw@x.example/", "nope"):
        with pytest.raises(InvalidInput):
            automation.create_webhook(by=people.admin, name=f"Bad {url}", url=url)
