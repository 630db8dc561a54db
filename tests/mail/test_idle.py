"""IMAP IDLE watchers against a real Dovecot: mail within seconds, one watcher per mailbox."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from imapclient import SEEN

from frontdesk.core.models import Event
from frontdesk.mail.idle import IdleSupervisor, IdleTiming
from frontdesk.mail.models import Mailbox
from frontdesk.mail.polling import IMPORTED, mailboxes_to_poll
from frontdesk.mail.services import (
    claim_idle_lease,
    release_idle_leases,
    renew_idle_leases,
    set_mailbox_active,
)
from tests.cli.conftest import cli_environment, frontdesk_command
from tests.mail.conftest import Dovecot, ImapAccount
from tests.mail.test_polling import FIRST, MORE, eml, flags, imap_mailbox, stored

# Shared-cache in-memory SQLite locks whole tables: watcher threads need PostgreSQL or a file.
threads_share_the_database = pytest.mark.skipif(
    connection.vendor == "sqlite" and not connection.settings_dict["TEST"].get("NAME"),
    reason="threads need PostgreSQL or a file SQLite test database (FRONTDESK_TEST_SQLITE_NAME)",
)

# Short enough for tests; the refresh stays long, so only the server's notice imports quickly.
FAST = IdleTiming(
    lease=timedelta(seconds=2),
    tick_s=0.2,
    refresh_s=60.0,
    wake_s=0.2,
    backoff_first_s=0.5,
    backoff_max_s=2.0,
    timeout_s=5.0,
)
WAIT_S = 15.0


def wait_for(predicate: Callable[[], bool], *, timeout_s: float = WAIT_S) -> float:
    """Seconds until `predicate` held; fails the test after `timeout_s`."""
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout_s, "timed out"
        time.sleep(0.05)
    return time.monotonic() - started


@pytest.fixture(name="supervisors")
def supervisors_fixture() -> Iterator[Callable[..., IdleSupervisor]]:
    """Start IDLE supervisors (`owner`, optional timing); all are stopped after the test."""
    started: list[IdleSupervisor] = []

    def start(owner: str, timing: IdleTiming = FAST) -> IdleSupervisor:
        supervisor = IdleSupervisor(owner=owner, timing=timing)
        supervisor.start()
        started.append(supervisor)
        return supervisor

    yield start
    for supervisor in started:
        supervisor.stop(timeout_s=20)
    assert not any(supervisor.is_running() for supervisor in started)


def owner_of(mailbox: Mailbox) -> str:
    mailbox.refresh_from_db()
    return mailbox.idle_owner


# --- the lease ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_lease_goes_to_one_owner_until_it_runs_out_and_leaves_no_trace(
    dovecot: Dovecot, imap_account: ImapAccount
) -> None:
    mailbox = imap_mailbox(dovecot, imap_account)
    updated_at = mailbox.updated_at
    events = Event.objects.count()

    assert claim_idle_lease(mailbox.pk, owner="a", lease=timedelta(minutes=1))
    assert not claim_idle_lease(mailbox.pk, owner="b", lease=timedelta(minutes=1))
    assert claim_idle_lease(mailbox.pk, owner="a", lease=timedelta(minutes=1))
    assert renew_idle_leases([mailbox.pk], owner="b", lease=timedelta(minutes=1)) == set()
    assert renew_idle_leases([mailbox.pk], owner="a", lease=timedelta(seconds=-1)) == {mailbox.pk}
    # Ran out: b takes it, and a's renewal no longer holds it.
    assert claim_idle_lease(mailbox.pk, owner="b", lease=timedelta(minutes=1))
    assert renew_idle_leases([mailbox.pk], owner="a", lease=timedelta(minutes=1)) == set()
    release_idle_leases([mailbox.pk], owner="a")
    assert owner_of(mailbox) == "b"
    release_idle_leases([mailbox.pk], owner="b")

    mailbox.refresh_from_db()
    assert (mailbox.idle_owner, mailbox.idle_lease_until) == ("", None)
    assert mailbox.updated_at == updated_at
    assert Event.objects.count() == events


@pytest.mark.django_db
def test_an_inactive_mailbox_is_never_leased(dovecot: Dovecot, imap_account: ImapAccount) -> None:
    mailbox = imap_mailbox(dovecot, imap_account)
    set_mailbox_active(mailbox, by=None, active=False)

    assert not claim_idle_lease(mailbox.pk, owner="a", lease=timedelta(minutes=1))


# --- watching -------------------------------------------------------------------------------


@threads_share_the_database
@pytest.mark.django_db(transaction=True)
def test_mail_appended_while_watching_is_imported_within_seconds_without_a_poll(
    dovecot: Dovecot, imap_account: ImapAccount, supervisors: Callable[..., IdleSupervisor]
) -> None:
    dovecot.append(imap_account, eml(FIRST[0]))
    mailbox = imap_mailbox(dovecot, imap_account)
    updated_at = mailbox.updated_at

    worker = supervisors("worker-a")
    wait_for(lambda: stored(FIRST[0]) == 1)
    wait_for(lambda: worker.watching() == {mailbox.pk})
    dovecot.append(imap_account, eml(FIRST[1]))
    seconds = wait_for(lambda: stored(FIRST[1]) == 1)

    # The refresh is a minute away: the server's notice brought it.
    assert seconds < 5
    assert owner_of(mailbox) == "worker-a"
    assert list(mailboxes_to_poll()) == []
    wait_for(lambda: all(IMPORTED in f for f in flags(dovecot, imap_account)))
    assert all(SEEN not in f for f in flags(dovecot, imap_account))
    mailbox.refresh_from_db()
    assert mailbox.updated_at == updated_at
    assert mailbox.last_error == ""
    assert not Event.objects.filter(action="mailbox.updated").exists()
    assert [stored(name) for name in FIRST[:2]] == [1, 1]


@threads_share_the_database
@pytest.mark.django_db(transaction=True)
def test_one_of_two_workers_watches_and_the_other_takes_over_once_the_lease_runs_out(
    dovecot: Dovecot, imap_account: ImapAccount, supervisors: Callable[..., IdleSupervisor]
) -> None:
    mailbox = imap_mailbox(dovecot, imap_account)
    first = supervisors("worker-a")
    wait_for(lambda: first.watching() == {mailbox.pk})
    second = supervisors("worker-b")
    time.sleep(FAST.lease.total_seconds() + 5 * FAST.tick_s)  # longer than a lease

    assert second.watching() == set()
    assert owner_of(mailbox) == "worker-a"

    # worker-a dies: nobody renews its lease, nobody gives it back.
    first.stop(release=False)
    assert first.watching() == set()
    mailbox.refresh_from_db()
    assert mailbox.idle_owner == "worker-a"
    lease_until = mailbox.idle_lease_until
    assert lease_until is not None
    left = (lease_until - timezone.now()).total_seconds()
    seconds = wait_for(lambda: second.watching() == {mailbox.pk})

    # Not before the lease ran out (the claim is conditional), and soon after.
    assert left - 0.3 <= seconds < FAST.lease.total_seconds() + 2
    mailbox.refresh_from_db()
    assert mailbox.idle_owner == "worker-b"
    assert mailbox.idle_lease_until is not None and mailbox.idle_lease_until > lease_until
    dovecot.append(imap_account, eml(FIRST[0]))
    wait_for(lambda: stored(FIRST[0]) == 1)
    time.sleep(0.5)
    assert stored(FIRST[0]) == 1


@threads_share_the_database
@pytest.mark.django_db(transaction=True)
def test_a_clean_stop_joins_the_threads_releases_the_lease_and_the_other_worker_takes_over(
    dovecot: Dovecot, imap_account: ImapAccount, supervisors: Callable[..., IdleSupervisor]
) -> None:
    mailbox = imap_mailbox(dovecot, imap_account)
    slow_lease = replace(FAST, lease=timedelta(seconds=30))
    first = supervisors("worker-a", slow_lease)
    wait_for(lambda: first.watching() == {mailbox.pk})
    watcher = first.watcher(mailbox.pk)
    assert watcher is not None
    second = supervisors("worker-b", slow_lease)

    first.stop()

    assert not first.is_running()
    assert first.watching() == set()
    mailbox.refresh_from_db()
    assert mailbox.idle_owner in ("", "worker-b")
    # Taken over at once, not after the 30 s lease.
    assert wait_for(lambda: second.watching() == {mailbox.pk}, timeout_s=5) < 5
    dovecot.append(imap_account, eml(FIRST[0]))
    wait_for(lambda: stored(FIRST[0]) == 1)
    second.stop()
    mailbox.refresh_from_db()
    assert (mailbox.idle_owner, mailbox.idle_lease_until) == ("", None)
    assert list(mailboxes_to_poll()) == [mailbox]


@threads_share_the_database
@pytest.mark.django_db(transaction=True)
def test_a_kicked_connection_is_reconnected_and_mail_keeps_coming_once(
    dovecot: Dovecot, imap_account: ImapAccount, supervisors: Callable[..., IdleSupervisor]
) -> None:
    dovecot.append(imap_account, eml(FIRST[0]))
    mailbox = imap_mailbox(dovecot, imap_account)
    worker = supervisors("worker-a")
    wait_for(lambda: stored(FIRST[0]) == 1)
    watcher = worker.watcher(mailbox.pk)
    assert watcher is not None

    def connected(times: int) -> Callable[[], bool]:
        return lambda: watcher.connections == times

    def imported(name: str) -> Callable[[], bool]:
        return lambda: stored(name) == 1

    for times, name in enumerate(FIRST[1:], start=2):
        answer = dovecot.doveadm("kick", imap_account.username)
        assert answer.returncode == 0, answer.stderr
        wait_for(connected(times))
        dovecot.append(imap_account, eml(name))
        wait_for(imported(name))

    assert worker.watching() == {mailbox.pk}
    assert [stored(name) for name in FIRST] == [1, 1, 1]
    wait_for(lambda: all(IMPORTED in f for f in flags(dovecot, imap_account)))
    # A dropped connection that came back at once is no error to show.
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""


@threads_share_the_database
@pytest.mark.django_db(transaction=True)
def test_a_refused_sign_in_is_shown_on_the_mailbox_and_retried_with_backoff(
    dovecot: Dovecot, imap_account: ImapAccount, supervisors: Callable[..., IdleSupervisor]
) -> None:
    mailbox = imap_mailbox(dovecot, imap_account, imap_password="not-the-password")
    worker = supervisors("worker-a")

    wait_for(lambda: Mailbox.objects.get(pk=mailbox.pk).last_error.startswith("IMAP Sign-in"))
    time.sleep(2.5)
    watcher = worker.watcher(mailbox.pk)

    assert watcher is not None
    # 0.5 s, 1 s, then 2 s between tries (jitter shortens each by half at most): a few.
    assert 2 <= watcher.failures <= 6
    # The same failure again is no news for the mailbox's history.
    assert Event.objects.filter(action="mailbox.polled", object_id=mailbox.pk).count() == 1
    assert worker.watching() == {mailbox.pk}
    assert owner_of(mailbox) == "worker-a"


@threads_share_the_database
@pytest.mark.django_db(transaction=True)
def test_mailboxes_added_and_deactivated_while_running_are_followed(
    dovecot: Dovecot, supervisors: Callable[..., IdleSupervisor]
) -> None:
    worker = supervisors("worker-a")
    first_account, second_account = dovecot.add_user(), dovecot.add_user()
    time.sleep(3 * FAST.tick_s)
    assert worker.watching() == set()

    first = imap_mailbox(dovecot, first_account, email="a@example.com")
    second = imap_mailbox(dovecot, second_account, email="b@example.com")
    wait_for(lambda: worker.watching() == {first.pk, second.pk})
    set_mailbox_active(first, by=None, active=False)
    wait_for(lambda: worker.watching() == {second.pk})
    wait_for(lambda: owner_of(first) == "")

    dovecot.append(first_account, eml(MORE[0]))
    dovecot.append(second_account, eml(MORE[1]))
    wait_for(lambda: stored(MORE[1]) == 1)
    time.sleep(1.0)
    assert stored(MORE[0]) == 0
    assert IMPORTED not in flags(dovecot, first_account)[0]


# --- in `frontdesk worker` ------------------------------------------------------------------


def shared_database_url() -> str:
    """The URL of this test run's database, for a child process to share it."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@threads_share_the_database
@pytest.mark.django_db(transaction=True)
def test_the_worker_command_watches_mailboxes_and_gives_them_back_on_sigterm(
    dovecot: Dovecot, imap_account: ImapAccount, tmp_path: Path
) -> None:
    mailbox = imap_mailbox(dovecot, imap_account)
    home = tmp_path / "home"
    home.mkdir()
    env = cli_environment(
        home,
        FRONTDESK_DATABASE_URL=shared_database_url(),
        FRONTDESK_SECRET_KEY=settings.SECRET_KEY,
        # No interval poll while the test runs: only IDLE can bring the mail in.
        FRONTDESK_MAIL_POLL_S="3600",
    )
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        frontdesk_command("worker"),
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: owner_of(mailbox) != "" or worker.poll() is not None, timeout_s=60)
        assert worker.poll() is None
        dovecot.append(imap_account, eml(FIRST[0]))
        # Far sooner than the interval poll or the IDLE refresh could bring it.
        wait_for(lambda: stored(FIRST[0]) == 1, timeout_s=30)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            output, _ = worker.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()

    assert worker.returncode == 0, output
    mailbox.refresh_from_db()
    assert (mailbox.idle_owner, mailbox.idle_lease_until) == ("", None)
