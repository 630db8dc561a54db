"""Sign-in with lockout, password reset by email, and the personal settings pages."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from frontdesk.accounts.models import ApiToken, Presence, SignInFailure, User
from frontdesk.accounts.services import create_api_token, record_sign_in_failure
from frontdesk.core.models import Event
from tests.conftest import Personas

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _limits(settings: Any) -> None:
    settings.SIGN_IN_FAILURE_LIMIT = 3
    settings.SIGN_IN_LOCKOUT_S = 600


def sign_in(client: Client, email: str, password: str, **extra: str) -> Any:
    return client.post(
        reverse("accounts:login"), {"username": email, "password": password, **extra}
    )


# --- signing in -------------------------------------------------------------------------------


def test_login_page_links_to_password_reset(client: Client, db: None) -> None:
    response = client.get(reverse("accounts:login"))

    assert response.status_code == 200
    assert reverse("accounts:password_reset") in response.content.decode()


def test_staff_sign_in_goes_to_the_workspace_and_clears_failures(
    client: Client, people: Personas
) -> None:
    record_sign_in_failure(people.agent.email)

    response = sign_in(client, "Anna@Example.com", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert not SignInFailure.objects.exists()


def test_wrong_password_says_so_and_counts(client: Client, people: Personas) -> None:
    response = sign_in(client, people.agent.email, "nope")

    assert response.status_code == 200
    assert "Wrong email or password." in response.content.decode()
    assert SignInFailure.objects.get(email=people.agent.email).failures == 1


def test_lockout_refuses_even_the_right_password_with_its_own_message(
    client: Client, people: Personas
) -> None:
    for _attempt in range(2):
        sign_in(client, people.agent.email, "nope")
    third = sign_in(client, people.agent.email, "nope")
    locked_until = SignInFailure.objects.get(email=people.agent.email).locked_until
    assert locked_until is not None

    response = sign_in(client, people.agent.email, PASSWORD)

    page = response.content.decode()
    expected = f"Too many failed attempts. Try again after {locked_until:%H:%M} UTC."
    assert expected in third.content.decode()
    assert expected in page
    assert "Wrong email or password." not in page
    assert "_auth_user_id" not in client.session
    assert Event.objects.filter(action="sign_in.locked").count() == 1


def test_lock_time_is_shown_in_the_site_time_zone(
    client: Client, people: Personas, settings: Any
) -> None:
    settings.TIME_ZONE = "Asia/Bangkok"
    for _attempt in range(3):
        record_sign_in_failure(people.agent.email)
    until = SignInFailure.objects.get().locked_until
    assert until is not None

    response = sign_in(client, people.agent.email, PASSWORD)

    local = timezone.localtime(until, timezone.get_fixed_timezone(7 * 60))
    assert f"Try again after {local:%H:%M}" in response.content.decode()


def test_sign_in_works_again_after_the_lock_window(client: Client, people: Personas) -> None:
    long_ago = timezone.now() - timedelta(seconds=601)
    for _attempt in range(3):
        record_sign_in_failure(people.agent.email, at=long_ago)

    response = sign_in(client, people.agent.email, PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(people.agent.pk)


def test_customer_signing_in_here_is_sent_to_the_portal(client: Client, people: Personas) -> None:
    response = sign_in(client, people.customer_user.email, PASSWORD, next="/inbox/")

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")


def test_sign_out_by_post(client: Client, people: Personas) -> None:
    client.force_login(people.agent)

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


# --- password reset ---------------------------------------------------------------------------


def _link_from(message: Any) -> str:
    match = re.search(r"https?://[^/\s]+(/password-reset/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_password_reset_by_email_end_to_end(
    client: Client, people: Personas, mailoutbox: list[Any]
) -> None:
    response = client.post(reverse("accounts:password_reset"), {"email": "ANNA@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [people.agent.email]

    form_page = client.get(_link_from(mailoutbox[0]), follow=True)
    assert form_page.status_code == 200
    assert form_page.context["validlink"]
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_url,
        {"new_password1": "a brand new passphrase", "new_password2": "a brand new passphrase"},
    )
    assert done.status_code == 302
    assert done["Location"] == reverse("accounts:password_reset_complete")

    people.agent.refresh_from_db()
    assert people.agent.check_password("a brand new passphrase")
    assert sign_in(Client(), people.agent.email, "a brand new passphrase").status_code == 302
    # The link works once.
    again = client.get(_link_from(mailoutbox[0]), follow=True)
    assert not again.context["validlink"]


def test_password_reset_for_an_unknown_email_sends_nothing_and_tells_nothing(
    client: Client, db: None, mailoutbox: list[Any]
) -> None:
    response = client.post(reverse("accounts:password_reset"), {"email": "who@example.com"})

    assert response.status_code == 302
    assert mailoutbox == []


def test_password_reset_ends_a_lockout(
    client: Client, people: Personas, mailoutbox: list[Any]
) -> None:
    for _attempt in range(3):
        record_sign_in_failure(people.agent.email)
    client.post(reverse("accounts:password_reset"), {"email": people.agent.email})
    set_url = client.get(_link_from(mailoutbox[0]), follow=True).redirect_chain[-1][0]

    client.post(
        set_url, {"new_password1": "another fine phrase", "new_password2": "another fine phrase"}
    )

    assert not SignInFailure.objects.exists()


# --- settings ---------------------------------------------------------------------------------


def _preferences(**overrides: str) -> dict[str, str]:
    data = {
        "language": "",
        "time_zone": "Europe/Prague",
        "signature": "Anna\nOrders",
        "notify_on_assignment": "on",
        "presence": Presence.AWAY,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_settings_save_preferences_and_presence(client: Client, people: Personas) -> None:
    client.force_login(people.agent)

    response = client.post(reverse("accounts:settings"), _preferences(), follow=True)

    assert "Saved." in response.content.decode()
    user = User.objects.get(pk=people.agent.pk)
    assert user.time_zone == "Europe/Prague"
    assert user.signature == "Anna\nOrders"
    assert user.notify_on_assignment
    assert not user.notify_on_customer_reply
    assert user.presence == Presence.AWAY


def test_settings_bad_time_zone_shows_the_error_on_the_field(
    client: Client, people: Personas
) -> None:
    client.force_login(people.agent)

    response = client.post(reverse("accounts:settings"), _preferences(time_zone="Mars/Base"))

    assert response.status_code == 200
    assert "Mars/Base is not a time zone" in str(response.context["form"].errors["time_zone"])
    assert User.objects.get(pk=people.agent.pk).time_zone == "UTC"


def test_choosing_polish_renders_the_workspace_in_polish(client: Client, people: Personas) -> None:
    client.force_login(people.agent)

    client.post(reverse("accounts:settings"), _preferences(language="pl"))
    response = client.get(reverse("accounts:settings_password"))

    page = response.content.decode()
    assert '<html lang="pl">' in page
    # Django's own catalogue translates the password form's labels.
    assert "Stare hasło" in page


def test_change_password_keeps_this_session(client: Client, people: Personas) -> None:
    client.force_login(people.agent)

    response = client.post(
        reverse("accounts:settings_password"),
        {
            "old_password": PASSWORD,
            "new_password1": "a different passphrase",
            "new_password2": "a different passphrase",
        },
        follow=True,
    )

    assert "Your password was changed." in response.content.decode()
    assert User.objects.get(pk=people.agent.pk).check_password("a different passphrase")
    assert client.get(reverse("accounts:settings")).status_code == 200


def test_settings_is_for_staff_customers_go_to_the_portal(client: Client, people: Personas) -> None:
    client.force_login(people.customer_user)

    response = client.get(reverse("accounts:settings"))

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")


def test_new_token_is_shown_once(client: Client, people: Personas) -> None:
    client.force_login(people.agent)

    created = client.post(
        reverse("accounts:settings_tokens"), {"name": "CRM sync", "expires_days": "30"}
    )

    raw = created.context["created_token"]
    assert raw.startswith("fd_")
    assert raw in created.content.decode()
    assert created["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=people.agent)
    assert token.name == "CRM sync"
    later = client.get(reverse("accounts:settings_tokens")).content.decode()
    assert raw not in later
    assert token.prefix in later
    assert "CRM sync" in later


def test_token_with_bad_expiry_shows_the_error(client: Client, people: Personas) -> None:
    client.force_login(people.agent)

    response = client.post(reverse("accounts:settings_tokens"), {"name": "x", "expires_days": "0"})

    assert response.context["created_token"] is None
    assert "expires_days" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_revoke_own_token(client: Client, people: Personas) -> None:
    token, _raw = create_api_token(people.agent, by=people.agent, name="old")
    client.force_login(people.agent)

    response = client.post(reverse("accounts:settings_token_revoke", args=[token.pk]), follow=True)

    assert "was revoked" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_someone_elses_token_cannot_be_revoked(client: Client, people: Personas) -> None:
    token, _raw = create_api_token(people.colleague, by=people.colleague)
    client.force_login(people.agent)

    response = client.post(reverse("accounts:settings_token_revoke", args=[token.pk]))

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
