from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from frontdesk.core.models import PeriodicJob
from frontdesk.core.scheduling import (
    PeriodicSpec,
    Scheduler,
    get_job,
    periodic,
    registered_jobs,
    run_periodic_job,
    unregister,
)
from frontdesk.core.worker import prune_task_results

runs: list[str] = []


def count_run() -> dict[str, int]:
    runs.append("ran")
    return {"runs": len(runs)}


@pytest.fixture
def job() -> Iterator[PeriodicSpec]:
    runs.clear()
    periodic("test_count_run", every=timedelta(minutes=1))(count_run)
    yield get_job("test_count_run")
    unregister("test_count_run")
    runs.clear()


def run_enqueued_tasks() -> None:
    # The worker closes connections between tasks, which ends a test's wrapping
    # transaction: tests that call this need django_db(transaction=True).
    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


def enqueued_job_names() -> list[str]:
    results = DBTaskResult.objects.filter(task_path=run_periodic_job.module_path)
    return [result.args_kwargs["args"][0] for result in results]


def test_periodic_registers_the_function_under_its_name(job: PeriodicSpec) -> None:
    assert job.func is count_run
    assert job.every == timedelta(minutes=1)
    assert job.interval_s == 60


def test_housekeeping_job_is_registered() -> None:
    names = [spec.name for spec in registered_jobs()]
    assert "prune_task_results" in names


def test_a_name_taken_by_another_function_is_refused(job: PeriodicSpec) -> None:
    def impostor() -> None:
        return None

    with pytest.raises(ValueError, match="already registered"):
        periodic("test_count_run", every=timedelta(minutes=1))(impostor)


def test_intervals_under_a_second_are_refused() -> None:
    with pytest.raises(ValueError, match="once a second"):
        periodic("too_often", every=timedelta(milliseconds=10))


@pytest.mark.django_db
def test_first_tick_claims_a_new_job_and_enqueues_it(job: PeriodicSpec) -> None:
    now = timezone.now()
    won = Scheduler(worker_id="a", jobs=[job]).tick(now)

    assert won == ["test_count_run"]
    assert enqueued_job_names() == ["test_count_run"]
    row = PeriodicJob.objects.get(name="test_count_run")
    assert row.next_run_at == now + timedelta(minutes=1)
    assert row.last_worker == "a"
    assert row.runs == 1


@pytest.mark.django_db
def test_second_scheduler_claims_nothing_within_the_interval(job: PeriodicSpec) -> None:
    now = timezone.now()
    Scheduler(worker_id="a", jobs=[job]).tick(now)

    won = Scheduler(worker_id="b", jobs=[job]).tick(now + timedelta(seconds=59))

    assert won == []
    assert enqueued_job_names() == ["test_count_run"]


@pytest.mark.django_db
def test_job_is_due_again_once_its_interval_has_passed(job: PeriodicSpec) -> None:
    now = timezone.now()
    first = Scheduler(worker_id="a", jobs=[job])
    second = Scheduler(worker_id="b", jobs=[job])
    first.tick(now)

    assert second.tick(now + timedelta(minutes=1)) == ["test_count_run"]
    assert first.tick(now + timedelta(minutes=1, seconds=30)) == []
    assert PeriodicJob.objects.get(name="test_count_run").last_worker == "b"


@pytest.mark.django_db
def test_shortened_interval_pulls_the_next_run_forward(job: PeriodicSpec) -> None:
    now = timezone.now()
    hourly = PeriodicSpec(name=job.name, every=timedelta(hours=1), func=job.func)
    Scheduler(worker_id="a", jobs=[hourly]).tick(now)

    won = Scheduler(worker_id="a", jobs=[job]).tick(now + timedelta(minutes=2))

    assert won == ["test_count_run"]
    assert PeriodicJob.objects.get(name="test_count_run").interval_s == 60


@pytest.mark.django_db(transaction=True)
def test_claimed_job_is_run_by_the_task_worker(job: PeriodicSpec) -> None:
    Scheduler(worker_id="a", jobs=[job]).tick()

    run_enqueued_tasks()

    assert runs == ["ran"]
    result = DBTaskResult.objects.get(task_path=run_periodic_job.module_path)
    assert result.status == "SUCCESSFUL"
    assert result.return_value == {"runs": 1}


@pytest.mark.django_db(transaction=True)
def test_prune_task_results_deletes_only_old_finished_results(job: PeriodicSpec) -> None:
    for _ in range(3):
        run_periodic_job.enqueue("test_count_run")
    run_enqueued_tasks()
    old, recent, _ = DBTaskResult.objects.order_by("enqueued_at")
    DBTaskResult.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=30))
    waiting = run_periodic_job.enqueue("test_count_run")

    assert prune_task_results() == {"deleted": 1}

    remaining = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert old.pk not in remaining
    assert recent.pk in remaining
    assert waiting.id in {str(pk) for pk in remaining}


@pytest.mark.skipif(
    connection.vendor == "sqlite" and not connection.settings_dict["TEST"].get("NAME"),
    reason="racing connections need PostgreSQL or a file SQLite test database",
)
@pytest.mark.django_db(transaction=True)
def test_racing_schedulers_run_a_job_exactly_once_per_interval(job: PeriodicSpec) -> None:
    nodes = 6
    start = timezone.now()
    # Every node sees the same clock, ten seconds a step, for five whole intervals.
    instants = [start + timedelta(seconds=10 * step) for step in range(31)]
    barrier = threading.Barrier(nodes, timeout=30)
    wins: list[tuple[datetime, str]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def node(worker_id: str) -> None:
        scheduler = Scheduler(worker_id=worker_id, jobs=[job])
        try:
            for instant in instants:
                barrier.wait()
                for name in scheduler.tick(instant):
                    with lock:
                        wins.append((instant, worker_id))
                    assert name == job.name
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=node, args=(f"node-{i}",)) for i in range(nodes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    won_at = sorted(instant for instant, _ in wins)
    assert won_at == [start + timedelta(minutes=minute) for minute in range(6)]
    run_enqueued_tasks()
    assert len(runs) == 6
    assert PeriodicJob.objects.get(name=job.name).runs == 6
