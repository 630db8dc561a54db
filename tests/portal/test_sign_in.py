"""Signing in with a password or a mailed link, and signing up with a verified address."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.customers.models import Customer
from frontdesk.portal import services
from frontdesk.portal.models import PortalToken, TokenPurpose
from tests.conftest import Personas

# Mail leaves on commit, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)
BASE = "http://testserver"
SAME_ANSWER = "If jana@acme.example has an account"


def _link_in(message: Any, name: str) -> str:
    match = re.search(rf"{BASE}(/portal/{name}/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def _signed_in_as(client: Client) -> int | None:
    response = client.get(reverse("portal:home"))
    if response.status_code != 200:
        return None
    return int(client.session["_auth_user_id"])


def test_password_sign_in_lands_on_my_requests(client: Client, people: Personas) -> None:
    response = client.post(
        reverse("portal:login"),
        {"username": "jana@acme.example", "password": "correct horse battery"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    assert _signed_in_as(client) == people.customer_user.pk


def test_wrong_password_is_refused_without_signing_in(client: Client, people: Personas) -> None:
    response = client.post(
        reverse("portal:login"), {"username": "jana@acme.example", "password": "nope"}
    )
    assert response.status_code == 422
    assert "Wrong email or password." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_in_does_not_follow_an_outside_next(client: Client, people: Personas) -> None:
    response = client.post(
        reverse("portal:login") + "?next=https://evil.example/",
        {"username": "jana@acme.example", "password": "correct horse battery"},
    )
    assert response["Location"] == reverse("portal:home")


def test_link_request_answers_the_same_for_unknown_addresses(
    client: Client, people: Personas, mailoutbox: list[Any]
) -> None:
    known = client.post(reverse("portal:request_link"), {"email": "jana@acme.example"})
    unknown = client.post(reverse("portal:request_link"), {"email": "nobody@acme.example"})
    staff = client.post(reverse("portal:request_link"), {"email": "anna@example.com"})
    assert known.status_code == unknown.status_code == staff.status_code == 200

    def strip(response: Any) -> str:
        main = str(response.content.decode()).split("<main", 1)[1].split("</main>", 1)[0]
        return main.replace("nobody@", "jana@").replace("anna@example.com", "jana@acme.example")

    assert strip(known) == strip(unknown) == strip(staff)
    assert [m.to for m in mailoutbox] == [["jana@acme.example"]]


def test_magic_link_signs_in_once(client: Client, people: Personas, mailoutbox: list[Any]) -> None:
    client.post(reverse("portal:request_link"), {"email": "Jana@Acme.example"})
    link = _link_in(mailoutbox[0], "link")
    assert "15 minutes" in mailoutbox[0].body

    # Looking at the link (a mail scanner does) signs no one in and burns nothing.
    confirm = client.get(link)
    assert confirm.status_code == 200
    assert "_auth_user_id" not in client.session

    response = client.post(link)
    assert response.status_code == 302
    assert _signed_in_as(client) == people.customer_user.pk

    client.logout()
    again = client.post(link)
    assert again.status_code == 410
    assert "already been used" in again.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(link).status_code == 410


def test_only_the_digest_of_the_link_is_stored(people: Personas, mailoutbox: list[Any]) -> None:
    services.request_sign_in_link("jana@acme.example", base_url=BASE)
    raw = _link_in(mailoutbox[0], "link").split("/")[-2]
    token = PortalToken.objects.get()
    assert raw not in token.digest
    assert len(token.digest) == 64


def test_magic_link_expires_after_15_minutes(people: Personas, mailoutbox: list[Any]) -> None:
    start = timezone.now()
    services.request_sign_in_link("jana@acme.example", base_url=BASE, at=start)
    services.request_sign_in_link("jana@acme.example", base_url=BASE, at=start)
    late, in_time = (_link_in(m, "link").split("/")[-2] for m in mailoutbox)

    with pytest.raises(services.LinkError) as expired:
        services.use_sign_in_link(late, at=start + timedelta(minutes=15))
    assert expired.value.reason == "expired"
    user = services.use_sign_in_link(in_time, at=start + timedelta(minutes=14, seconds=59))
    assert user == people.customer_user


def test_expired_link_shows_a_clear_page(client: Client, people: Personas) -> None:
    services.request_sign_in_link("jana@acme.example", base_url=BASE)
    PortalToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    token = mail.outbox[0].body.split("/portal/link/")[1].split("/")[0]
    response = client.post(reverse("portal:magic_link", args=[token]))
    assert response.status_code == 410
    assert "This link has expired." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_wrong_token_shows_a_clear_page(client: Client, people: Personas) -> None:
    for method in (client.get, client.post):
        response = method(reverse("portal:magic_link", args=["not-a-real-token"]))
        assert response.status_code == 410
        assert "This link is not valid." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_link_of_a_deactivated_customer_signs_no_one_in(
    client: Client, people: Personas, mailoutbox: list[Any]
) -> None:
    services.request_sign_in_link("jana@acme.example", base_url=BASE)
    User.objects.filter(pk=people.customer_user.pk).update(is_active=False)
    response = client.post(_link_in(mailoutbox[0], "link"))
    assert response.status_code == 410
    assert "_auth_user_id" not in client.session


def _sign_up(
    client: Client,
    email: str = "new@shop.example",
    password: str = "a long passphrase 42",  # noqa: S107
) -> Any:
    return client.post(
        reverse("portal:signup"), {"name": "Nora New", "email": email, "password": password}
    )


def test_sign_up_verify_and_sign_in(
    client: Client, people: Personas, mailoutbox: list[Any]
) -> None:
    response = _sign_up(client)
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    user = User.objects.get(email="new@shop.example")
    assert not user.is_active
    assert user.is_customer
    assert not Customer.objects.filter(user=user).exists()
    # Not yet verified: the password does not sign in.
    assert client.post(reverse("portal:login"), {"username": "new@shop.example",
                       "password": "a long passphrase 42"}).status_code == 422  # fmt: skip

    link = _link_in(mailoutbox[0], "verify")
    assert client.post(link).status_code == 302
    assert _signed_in_as(client) == user.pk
    user.refresh_from_db()
    assert user.is_active
    customer = Customer.objects.get(user=user)
    assert customer.primary_email == "new@shop.example"
    assert client.post(link).status_code == 410

    client.logout()
    response = client.post(
        reverse("portal:login"),
        {"username": "new@shop.example", "password": "a long passphrase 42"},
    )
    assert response.status_code == 302
    assert _signed_in_as(client) == user.pk


def test_sign_up_links_the_existing_customer_of_that_email(
    client: Client, people: Personas, mailoutbox: list[Any]
) -> None:
    _sign_up(client, email="piotr@example.org")
    client.post(_link_in(mailoutbox[0], "verify"))
    people.other_customer.refresh_from_db()
    assert people.other_customer.user is not None
    assert people.other_customer.user.email == "piotr@example.org"
    assert Customer.objects.filter(identities__normalized="piotr@example.org").count() == 1


def test_sign_up_for_an_existing_account_looks_the_same_and_changes_nothing(
    client: Client, people: Personas, mailoutbox: list[Any]
) -> None:
    before = people.customer_user.password
    response = _sign_up(client, email="jana@acme.example")
    fresh = _sign_up(client, email="someone@acme.example")
    assert response.status_code == fresh.status_code == 200
    people.customer_user.refresh_from_db()
    assert people.customer_user.password == before
    assert "you already have one" in mailoutbox[0].body
    assert "Hello Jana Nováková" in mailoutbox[0].body
    assert "/portal/verify/" not in mailoutbox[0].body


def test_second_sign_up_cannot_set_the_password_the_first_link_activates(
    client: Client, people: Personas, mailoutbox: list[Any]
) -> None:
    _sign_up(client, password="owner passphrase 1")
    _sign_up(client, password="intruder passphrase 2")
    owners_link = _link_in(mailoutbox[0], "verify")
    client.post(owners_link)
    user = User.objects.get(email="new@shop.example")
    assert user.check_password("owner passphrase 1")
    assert not user.check_password("intruder passphrase 2")
    # The other pending link died with the first one used.
    client.logout()
    assert client.post(_link_in(mailoutbox[1], "verify")).status_code == 410


def test_sign_up_refuses_bad_input_and_writes_nothing(client: Client, people: Personas) -> None:
    response = client.post(
        reverse("portal:signup"), {"name": "", "email": "not-an-email", "password": "123"}
    )
    assert response.status_code == 422
    weak = client.post(
        reverse("portal:signup"), {"name": "Nora", "email": "nora@shop.example", "password": "123"}
    )
    assert weak.status_code == 422
    assert "too short" in weak.content.decode()
    assert not User.objects.filter(email="nora@shop.example").exists()
    assert not PortalToken.objects.exists()


def test_verification_link_expires(people: Personas, mailoutbox: list[Any]) -> None:
    start = timezone.now()
    services.sign_up(
        services.SignUp(name="Nora", email="nora@shop.example", password="a long passphrase 42"),
        base_url=BASE,
        at=start,
    )
    token = _link_in(mailoutbox[0], "verify").split("/")[-2]
    with pytest.raises(services.LinkError) as error:
        services.verify_email(token, at=start + services.VERIFY_LINK_LIFETIME)
    assert error.value.reason == "expired"
    assert not User.objects.get(email="nora@shop.example").is_active


def test_a_sign_in_link_does_not_verify_and_vice_versa(
    people: Personas, mailoutbox: list[Any]
) -> None:
    services.request_sign_in_link("jana@acme.example", base_url=BASE)
    token = _link_in(mailoutbox[0], "link").split("/")[-2]
    with pytest.raises(services.LinkError):
        services.verify_email(token)
    assert PortalToken.objects.get().purpose == TokenPurpose.SIGN_IN


@pytest.mark.django_db(transaction=False)
def test_mail_leaves_only_after_commit(
    people: Personas, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.request_sign_in_link("jana@acme.example", base_url=BASE)
    assert mailoutbox == []
    assert len(callbacks) == 1


def test_link_requests_cannot_flood_an_inbox(people: Personas, mailoutbox: list[Any]) -> None:
    start = timezone.now()
    for _ in range(services.MAX_LINKS_PER_WINDOW + 3):
        services.request_sign_in_link("jana@acme.example", base_url=BASE, at=start)
    assert len(mailoutbox) == services.MAX_LINKS_PER_WINDOW
    later = start + services.SIGN_IN_LINK_LIFETIME + timedelta(seconds=1)
    services.request_sign_in_link("jana@acme.example", base_url=BASE, at=later)
    assert len(mailoutbox) == services.MAX_LINKS_PER_WINDOW + 1
