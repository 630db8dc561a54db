from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.db import connection
from django_tasks import task
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from frontdesk.core.models import PeriodicJob
from frontdesk.core.scheduling import get_job, periodic, unregister
from frontdesk.core.worker import BackgroundWorker, new_worker_id


@task()
def shout(text: str) -> str:
    return text.upper()


def wait_for(predicate: Callable[[], bool], *, timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


# Shared-cache in-memory SQLite (the default test database) locks whole tables and
# ignores the busy timeout, so worker threads there fail where a real file would not.
threads_share_the_database = pytest.mark.skipif(
    connection.vendor == "sqlite" and not connection.settings_dict["TEST"].get("NAME"),
    reason="threads need PostgreSQL or a file SQLite test database (FRONTDESK_TEST_SQLITE_NAME)",
)


def run_enqueued_tasks() -> None:
    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-batch",
        excluded_queue_names=[],
    ).run()


@pytest.fixture
def background() -> Iterator[list[BackgroundWorker]]:
    started: list[BackgroundWorker] = []
    yield started
    for worker in started:
        worker.stop(timeout_s=10)


def test_worker_ids_are_unique_and_fit_the_column() -> None:
    ids = {new_worker_id() for _ in range(20)}
    assert len(ids) == 20
    assert all(len(worker_id) <= 64 for worker_id in ids)


@pytest.mark.django_db(transaction=True)
def test_task_enqueued_on_the_database_backend_is_run_by_the_worker() -> None:
    result = shout.enqueue("hello")

    run_enqueued_tasks()

    stored = DBTaskResult.objects.get(pk=result.id)
    assert stored.status == "SUCCESSFUL"
    assert stored.return_value == "HELLO"


@threads_share_the_database
@pytest.mark.django_db(transaction=True)
def test_background_worker_runs_enqueued_tasks_on_its_thread(
    background: list[BackgroundWorker],
) -> None:
    result = shout.enqueue("hello")
    worker = BackgroundWorker(interval_s=0.05, run_scheduler=False)
    background.append(worker)
    worker.start()

    def finished() -> bool:
        return DBTaskResult.objects.filter(pk=result.id, status="SUCCESSFUL").exists()

    assert wait_for(finished)
    assert DBTaskResult.objects.get(pk=result.id).return_value == "HELLO"
    assert DBTaskResult.objects.get(pk=result.id).worker_ids == [worker.worker_id]


@threads_share_the_database
@pytest.mark.django_db(transaction=True)
def test_embedded_scheduler_enqueues_due_jobs_and_the_worker_runs_them(
    background: list[BackgroundWorker],
) -> None:
    ran: list[str] = []

    @periodic("test_embedded_job", every=timedelta(hours=1))
    def embedded_job() -> None:
        ran.append("yes")

    try:
        worker = BackgroundWorker(
            interval_s=0.05, scheduler_poll_s=0.05, jobs=[get_job("test_embedded_job")]
        )
        background.append(worker)
        worker.start()

        assert wait_for(lambda: ran == ["yes"])
        assert PeriodicJob.objects.get(name="test_embedded_job").last_worker == worker.worker_id
    finally:
        unregister("test_embedded_job")


@threads_share_the_database
@pytest.mark.django_db(transaction=True)
def test_stopped_worker_leaves_no_thread_running() -> None:
    worker = BackgroundWorker(interval_s=0.05, scheduler_poll_s=0.05, jobs=[])
    worker.start()
    assert worker.is_running()

    worker.stop(timeout_s=10)

    assert not worker.is_running()
