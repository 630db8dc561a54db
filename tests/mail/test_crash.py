"""Never lose, never duplicate: mail intake through crashes, on real servers.

Each test breaks an ingest of ~150 messages part way — the worker killed, the
database restarted, the IMAP connection cut — then lets it run again to the end,
and counts: every message exactly once (one InboundMessage row and one message
per Message-ID, threaded replies in their conversations) and, where the mail came
from IMAP, every message flagged as imported.
"""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from frontdesk.mail.models import InboundMessage, Mailbox, Security
from frontdesk.mail.polling import IMPORTED, poll_mailboxes
from frontdesk.mail.services import create_mailbox
from tests.mail import crash_support as crash
from tests.mail.conftest import Dovecot, ImapAccount
from tests.realtime.sessions import shareable_test_database

MESSAGES = 150
# Break the ingest once this many messages are in: well past the start, well before the end.
BREAK_AT = 20
# Messages an import commits together: several batches before BREAK_AT, many after it.
IMPORT_BATCH = 5
WAIT_S = 90.0
CHILD_TIMEOUT_S = 180.0


def mailbox_values(account: ImapAccount, port: int, security: str) -> dict[str, Any]:
    return {
        "name": "Support",
        "email": "support@frontdesk.example",
        "imap_host": "127.0.0.1",
        "imap_port": port,
        "imap_security": security,
        # The test certificate is self-signed; the proxy tests pass TLS through unchanged.
        "verify_certificates": False,
        "imap_username": account.username,
        "imap_password": account.password,
    }


def assert_each_imported_once(found: crash.Tally, batch: crash.Batch) -> None:
    assert found.imported_once(batch), {
        "missing": sorted(set(batch.message_ids) - set(found.inbound)),
        "repeated": sorted(k for k, n in (found.inbound | found.messages).items() if n > 1),
    }
    assert found.conversations == batch.conversations
    assert found.quarantined == 0


def assert_all_flagged(dovecot: Dovecot, account: ImapAccount) -> None:
    assert crash.imap_flagged(dovecot, account, IMPORTED) == (MESSAGES, MESSAGES)


def wait_for_progress(count: Callable[[], int], child: subprocess.Popen[str]) -> int:
    """Wait until BREAK_AT messages are in; the count then, which must be short of all."""
    crash.wait_until(lambda: count() >= BREAK_AT or child.poll() is not None, timeout_s=WAIT_S)
    now = count()
    if now < BREAK_AT and child.poll() is not None:
        _, out, err = crash.finish(child, timeout_s=10)
        pytest.fail(f"the child exited with {child.returncode} after {now} messages:\n{out}{err}")
    assert now >= BREAK_AT, f"only {now} messages in after {WAIT_S:.0f} s"
    assert now < MESSAGES, "the ingest finished before it could be broken; send more mail"
    return now


# --- a) the worker killed mid-batch ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(
    dovecot: Dovecot, imap_account: ImapAccount, tmp_path: Path
) -> None:
    if not shareable_test_database():
        pytest.skip("a child process needs PostgreSQL or a file SQLite test database")
    batch = crash.generated_mail(MESSAGES)
    crash.append_all(dovecot, imap_account, batch.messages)
    create_mailbox(by=None, **mailbox_values(imap_account, dovecot.port, Security.NONE))
    env = crash.child_environment(
        tmp_path / "home", crash.shared_database_url(), settings.SECRET_KEY
    )
    worker = crash.start_child(crash.poller_command(seconds=WAIT_S), env, tmp_path)
    try:
        wait_for_progress(InboundMessage.objects.count, worker)
    finally:
        crash.kill_hard(worker)
    committed = InboundMessage.objects.count()
    _, flagged = crash.imap_flagged(dovecot, imap_account, IMPORTED)

    again = crash.run_poller(env, tmp_path, timeout_s=CHILD_TIMEOUT_S)

    assert worker.returncode == -9
    assert BREAK_AT <= committed < MESSAGES
    assert (again.returncode, again.done, again.failures) == (0, True, 0), again.stderr
    # Committed but killed before its flag was stored: fetched again, known by its key.
    assert again.outcomes.get("duplicate", 0) == committed - flagged
    assert again.outcomes.get("created", 0) + again.outcomes.get("threaded", 0) == (
        MESSAGES - committed
    )
    assert_each_imported_once(crash.tally(batch), batch)
    assert_all_flagged(dovecot, imap_account)


# --- b) PostgreSQL restarted mid-ingest ------------------------------------------------------


@pytest.fixture(scope="module", name="private_postgres")
def private_postgres_fixture(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[crash.PrivatePostgres, str]]:
    """A PostgreSQL server of this module's own and a migrated database to copy per test."""
    bin_dir = crash.postgres_bin_dir()
    if bin_dir is None:
        pytest.skip("the PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    server = crash.start_private_postgres(bin_dir)
    try:
        template = "fd_crash_template"
        url = server.create_database(template)
        crash.migrate(url, tmp_path_factory.mktemp("migrate") / "home", settings.SECRET_KEY)
        yield server, template
    finally:
        crash.remove_private_postgres(server)


@pytest.fixture(name="fresh_database")
def fresh_database_fixture(private_postgres: tuple[crash.PrivatePostgres, str]) -> str:
    server, template = private_postgres
    return server.create_database(f"fd_crash_{secrets.token_hex(4)}", template=template)


def test_a_postgresql_restart_mid_poll_loses_and_duplicates_nothing(
    private_postgres: tuple[crash.PrivatePostgres, str],
    fresh_database: str,
    dovecot: Dovecot,
    imap_account: ImapAccount,
    tmp_path: Path,
) -> None:
    server, _ = private_postgres
    batch = crash.generated_mail(MESSAGES)
    crash.append_all(dovecot, imap_account, batch.messages)
    env = crash.child_environment(tmp_path / "home", fresh_database, settings.SECRET_KEY)
    values = mailbox_values(imap_account, dovecot.port, Security.NONE)
    worker = crash.start_child(
        crash.poller_command(rounds=200, seconds=CHILD_TIMEOUT_S - 10, mailbox=values),
        env,
        tmp_path,
    )
    try:
        wait_for_progress(lambda: crash.inbound_count_sql(fresh_database), worker)
        server.restart("immediate")
        first = crash.poller_report(*crash.finish(worker, timeout_s=CHILD_TIMEOUT_S))
    finally:
        if worker.poll() is None:
            crash.kill_hard(worker)

    again = crash.run_poller(env, tmp_path, timeout_s=CHILD_TIMEOUT_S)

    # The worker saw the database go, rode it out, and finished on its own.
    assert first.failures >= 1, first.stderr
    assert (first.returncode, first.done) == (0, True), first.stderr
    assert (again.returncode, again.done, again.outcomes) == (0, True, {}), again.stderr
    # At most the one message whose commit answer was lost (the outcomes of the round the
    # restart broke are not counted: that round ended in an error).
    assert first.outcomes.get("duplicate", 0) <= 1
    assert_each_imported_once(crash.tally_sql(fresh_database, batch), batch)
    assert_all_flagged(dovecot, imap_account)


def test_a_postgresql_restart_mid_import_loses_and_duplicates_nothing(
    private_postgres: tuple[crash.PrivatePostgres, str], fresh_database: str, tmp_path: Path
) -> None:
    server, _ = private_postgres
    batch = crash.generated_mail(MESSAGES)
    maildir = crash.write_maildir(tmp_path / "Maildir", batch.messages)
    env = crash.child_environment(tmp_path / "home", fresh_database, settings.SECRET_KEY)
    command = crash.import_command(maildir, batch=IMPORT_BATCH)
    importer = crash.start_child(command, env, tmp_path)
    try:
        wait_for_progress(lambda: crash.inbound_count_sql(fresh_database), importer)
        server.restart("immediate")
        first_code, _, first_err = crash.finish(importer, timeout_s=CHILD_TIMEOUT_S)
    finally:
        if importer.poll() is None:
            crash.kill_hard(importer)
    committed = crash.inbound_count_sql(fresh_database)

    code, out, err = crash.finish(
        crash.start_child(command, env, tmp_path), timeout_s=CHILD_TIMEOUT_S
    )

    # An import has no one to retry for it: it stops with an error, and is run again.
    assert first_code != 0, first_err
    assert BREAK_AT <= committed < MESSAGES
    # Whole batches or nothing of them: the one the restart broke was rolled back.
    assert committed % IMPORT_BATCH == 0
    assert code == 0, err
    counts = json.loads(out)
    assert counts["messages"] == MESSAGES
    assert counts["duplicates"] == committed
    assert counts["conversations_created"] + counts["threaded"] == MESSAGES - committed
    assert_each_imported_once(crash.tally_sql(fresh_database, batch), batch)


# --- b2) an import killed mid-batch ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_import_killed_mid_batch_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    if not shareable_test_database():
        pytest.skip("a child process needs PostgreSQL or a file SQLite test database")
    batch = crash.generated_mail(MESSAGES)
    maildir = crash.write_maildir(tmp_path / "Maildir", batch.messages)
    env = crash.child_environment(
        tmp_path / "home", crash.shared_database_url(), settings.SECRET_KEY
    )
    command = crash.import_command(maildir, batch=IMPORT_BATCH)
    importer = crash.start_child(command, env, tmp_path)
    try:
        wait_for_progress(InboundMessage.objects.count, importer)
    finally:
        crash.kill_hard(importer)
    committed = InboundMessage.objects.count()

    code, out, err = crash.finish(
        crash.start_child(command, env, tmp_path), timeout_s=CHILD_TIMEOUT_S
    )

    assert importer.returncode == -9
    assert BREAK_AT <= committed < MESSAGES
    # The batch the kill broke left nothing: its conversations, customers and keys rolled back.
    assert committed % IMPORT_BATCH == 0
    assert code == 0, err
    counts = json.loads(out)
    assert counts["duplicates"] == committed
    assert counts["conversations_created"] + counts["threaded"] == MESSAGES - committed
    assert_each_imported_once(crash.tally(batch), batch)


# --- c) the IMAP connection cut mid-fetch ----------------------------------------------------


def poll_once() -> tuple[str, dict[str, int]]:
    (result,) = poll_mailboxes()
    return result.error, dict(result.outcomes)


@pytest.mark.django_db
@pytest.mark.parametrize("security", [Security.NONE, Security.STARTTLS])
def test_a_connection_cut_mid_fetch_loses_and_duplicates_nothing(
    dovecot: Dovecot, imap_account: ImapAccount, security: str
) -> None:
    batch = crash.generated_mail(MESSAGES)
    crash.append_all(dovecot, imap_account, batch.messages)
    # Well into the bodies: the greeting, login, SELECT and SEARCH take a few kB at most.
    cut = batch.total_bytes * 2 // 5
    with crash.cutting_proxy(dovecot.port, cut_after_server_bytes=cut) as proxy:
        create_mailbox(by=None, **mailbox_values(imap_account, proxy.port, security))

        cut_error, cut_outcomes = poll_once()
        after_cut = InboundMessage.objects.count()
        proxy.cut_after_server_bytes = None
        clean_error, clean_outcomes = poll_once()

    assert proxy.cuts == 1
    assert "connection" in cut_error.lower()
    assert 0 < after_cut < MESSAGES
    assert sum(cut_outcomes.values()) == after_cut
    assert clean_error == ""
    assert sum(clean_outcomes.values()) == MESSAGES - after_cut
    assert_each_imported_once(crash.tally(batch), batch)
    assert_all_flagged(dovecot, imap_account)
    mailbox = Mailbox.objects.get()
    assert mailbox.last_error == ""


@pytest.mark.django_db
def test_a_connection_cut_before_the_flag_is_stored_gives_a_duplicate_not_a_copy(
    dovecot: Dovecot, imap_account: ImapAccount
) -> None:
    batch = crash.generated_mail(MESSAGES)
    crash.append_all(dovecot, imap_account, batch.messages)
    # The 10th STORE never reaches the server: its message is committed, not flagged.
    with crash.cutting_proxy(dovecot.port, cut_at_command=(b"STORE", 10)) as proxy:
        create_mailbox(by=None, **mailbox_values(imap_account, proxy.port, Security.NONE))

        cut_error, _ = poll_once()
        committed = InboundMessage.objects.count()
        _, flagged = crash.imap_flagged(dovecot, imap_account, IMPORTED)
        proxy.cut_at_command = None
        clean_error, clean_outcomes = poll_once()

    assert proxy.cuts == 1
    assert cut_error != ""
    assert committed > flagged
    assert clean_error == ""
    assert clean_outcomes.get("duplicate", 0) == committed - flagged
    assert sum(clean_outcomes.values()) == MESSAGES - flagged
    assert_each_imported_once(crash.tally(batch), batch)
    assert_all_flagged(dovecot, imap_account)
