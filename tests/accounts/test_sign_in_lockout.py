"""record_sign_in_failure / clear_sign_in_failures / sign_in_locked_until: the lockout rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from frontdesk.accounts.events import SignInLocked
from frontdesk.accounts.models import SignInFailure
from frontdesk.accounts.selectors import sign_in_locked_until
from frontdesk.accounts.services import clear_sign_in_failures, record_sign_in_failure
from frontdesk.core.models import Event
from tests.conftest import Personas
from tests.events import collected

T0 = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _limits(settings: Any) -> None:
    settings.SIGN_IN_FAILURE_LIMIT = 3
    settings.SIGN_IN_LOCKOUT_S = 600


def test_failures_below_the_limit_do_not_lock(db: None) -> None:
    record_sign_in_failure("anna@example.com", at=T0)
    row = record_sign_in_failure("anna@example.com", at=T0 + timedelta(seconds=10))

    assert row.failures == 2
    assert row.locked_until is None
    assert sign_in_locked_until("anna@example.com", at=T0 + timedelta(seconds=11)) is None


def test_the_failure_reaching_the_limit_locks_the_email_for_the_window(db: None) -> None:
    for second in range(3):
        row = record_sign_in_failure("Anna@Example.com ", at=T0 + timedelta(seconds=second))

    assert row.locked_until == T0 + timedelta(seconds=2 + 600)
    assert sign_in_locked_until("anna@example.com", at=T0 + timedelta(seconds=5)) == (
        row.locked_until
    )
    after = T0 + timedelta(seconds=2 + 600)
    assert sign_in_locked_until("anna@example.com", at=after) is None


def test_failures_spread_beyond_the_window_start_a_new_count(db: None) -> None:
    record_sign_in_failure("anna@example.com", at=T0)
    record_sign_in_failure("anna@example.com", at=T0 + timedelta(seconds=1))
    row = record_sign_in_failure("anna@example.com", at=T0 + timedelta(seconds=601))

    assert row.failures == 1
    assert row.first_failed_at == T0 + timedelta(seconds=601)
    assert row.locked_until is None


def test_failures_while_locked_do_not_extend_the_lock(db: None) -> None:
    for second in range(3):
        record_sign_in_failure("anna@example.com", at=T0 + timedelta(seconds=second))

    row = record_sign_in_failure("anna@example.com", at=T0 + timedelta(seconds=300))

    assert row.locked_until == T0 + timedelta(seconds=602)
    assert row.failures == 3


def test_lock_writes_one_audit_row_and_announces_it_to_the_user(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with collected(SignInLocked) as seen, django_capture_on_commit_callbacks(execute=True):
        for second in range(4):
            record_sign_in_failure(people.agent.email, at=T0 + timedelta(seconds=second))

    audit = Event.objects.get(action="sign_in.locked")
    assert audit.actor_id is None
    assert audit.via == "web"
    assert audit.data["email"] == people.agent.email
    assert audit.data["user_id"] == people.agent.pk
    assert audit.data["failures"] == 3
    assert len(seen) == 1
    assert isinstance(seen[0], SignInLocked)
    assert seen[0].user_id == people.agent.pk
    assert seen[0].audience.user_ids == frozenset({people.agent.pk})


def test_unknown_email_is_locked_too_without_naming_a_user(db: None) -> None:
    for second in range(3):
        record_sign_in_failure("nobody@example.com", at=T0 + timedelta(seconds=second))

    audit = Event.objects.get(action="sign_in.locked")
    assert audit.data["user_id"] is None


def test_clear_forgets_the_failures(db: None) -> None:
    record_sign_in_failure("anna@example.com", at=T0)

    clear_sign_in_failures("ANNA@example.com")

    assert not SignInFailure.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_failures_all_count(settings: Any) -> None:
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    import threading

    from django.db import connection

    settings.SIGN_IN_FAILURE_LIMIT = 100
    barrier = threading.Barrier(8)

    def fail() -> None:
        try:
            barrier.wait()
            record_sign_in_failure("race@example.com", at=T0)
        finally:
            connection.close()

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert SignInFailure.objects.get(email="race@example.com").failures == 8
