"""Periodic jobs: declared next to their code, run once per interval across all workers.

A job is a plain function decorated with ``@periodic(name, every=...)`` in its
app's ``tasks.py``. Every ``frontdesk worker`` (and every ``frontdesk serve``
with its embedded worker) runs a `Scheduler`; each one polls the
``core.PeriodicJob`` rows and claims a due job with one conditional UPDATE::

    UPDATE core_periodicjob SET next_run_at = now + interval
     WHERE name = %s AND next_run_at <= now

The database lets exactly one of the racing UPDATEs change the row, so however
many nodes run a scheduler, the job is enqueued once per interval. The claim
and the enqueued task commit together: a failed enqueue gives the claim back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any, TypeVar

from django.db import DatabaseError, connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Value
from django.db.models.functions import Coalesce, Least
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django_tasks import task

from frontdesk.core.models import PeriodicJob

logger = logging.getLogger(__name__)

JobFunction = Callable[[], Any]
JobT = TypeVar("JobT", bound=JobFunction)

# Modules that declare jobs but are not an app's tasks.py.
EXTRA_JOB_MODULES = ("frontdesk.core.worker",)


@dataclass(frozen=True)
class PeriodicSpec:
    """One registered job: its unique name, how often it runs, and what it calls."""

    name: str
    every: timedelta
    func: JobFunction

    @property
    def interval_s(self) -> int:
        return max(1, int(self.every.total_seconds()))


# PeriodicJob.name's max_length.
_NAME_MAX_LENGTH = 100

_registry: dict[str, PeriodicSpec] = {}
_discovered = False


def periodic(name: str, every: timedelta) -> Callable[[JobT], JobT]:
    """Register the decorated function to run every `every`, once across all workers.

    The function takes no arguments, must be safe to run twice (a crash between
    claim and finish can repeat it on the next interval), and returns None or a
    JSON-serialisable summary that is kept with the task result.
    """
    if every < timedelta(seconds=1):
        raise ValueError(f"periodic job {name!r} must run at most once a second")
    if not 0 < len(name) <= _NAME_MAX_LENGTH:
        raise ValueError(f"periodic job name {name!r} must have 1 to 100 characters")

    def register(func: JobT) -> JobT:
        existing = _registry.get(name)
        if existing is not None and _qualname(existing.func) != _qualname(func):
            raise ValueError(f"periodic job {name!r} is already registered by {existing.func!r}")
        _registry[name] = PeriodicSpec(name=name, every=every, func=func)
        return func

    return register


def _qualname(func: JobFunction) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def unregister(name: str) -> None:
    """Forget a job; for tests that register their own."""
    _registry.pop(name, None)


def discover_jobs() -> None:
    """Import every installed app's tasks.py so their @periodic declarations register."""
    global _discovered  # noqa: PLW0603 - a once-per-process import guard
    if _discovered:
        return
    autodiscover_modules("tasks")
    for module in EXTRA_JOB_MODULES:
        import_module(module)
    _discovered = True


def registered_jobs() -> list[PeriodicSpec]:
    discover_jobs()
    return sorted(_registry.values(), key=lambda spec: spec.name)


def get_job(name: str) -> PeriodicSpec:
    discover_jobs()
    try:
        return _registry[name]
    except KeyError:
        raise LookupError(f"no periodic job named {name!r}") from None


@task()
def run_periodic_job(name: str) -> Any:
    """The task a claimed job becomes; any worker may pick it up."""
    spec = get_job(name)
    logger.info("running periodic job %s", name)
    return spec.func()


def sync_jobs(specs: Iterable[PeriodicSpec], *, now: datetime) -> None:
    """Make sure every job has its claim row, and pick up changed intervals.

    New jobs are due at once. A shortened interval pulls the next run forward
    to the last run plus the new interval, so a job does not wait out the old one.
    """
    specs = list(specs)
    PeriodicJob.objects.bulk_create(
        [PeriodicJob(name=s.name, interval_s=s.interval_s, next_run_at=now) for s in specs],
        ignore_conflicts=True,
    )
    for spec in specs:
        due_under_new_interval = Coalesce(
            ExpressionWrapper(F("last_run_at") + spec.every, output_field=DateTimeField()),
            Value(now),
        )
        PeriodicJob.objects.filter(name=spec.name).exclude(interval_s=spec.interval_s).update(
            interval_s=spec.interval_s,
            next_run_at=Least(F("next_run_at"), due_under_new_interval),
        )


def claim(spec: PeriodicSpec, *, now: datetime, worker_id: str) -> bool:
    """Try to take this interval's run of `spec`; True for exactly one caller per interval."""
    updated = PeriodicJob.objects.filter(name=spec.name, next_run_at__lte=now).update(
        next_run_at=now + spec.every,
        last_run_at=now,
        last_worker=worker_id[:100],
        runs=F("runs") + 1,
    )
    return updated == 1


class Scheduler:
    """Polls the claim rows and enqueues each due job it wins."""

    def __init__(
        self,
        *,
        worker_id: str,
        jobs: Iterable[PeriodicSpec] | None = None,
        poll_s: float = 5.0,
    ) -> None:
        self.worker_id = worker_id
        self.poll_s = poll_s
        self._jobs = None if jobs is None else {spec.name: spec for spec in jobs}
        self._synced = False

    @property
    def jobs(self) -> dict[str, PeriodicSpec]:
        if self._jobs is None:
            self._jobs = {spec.name: spec for spec in registered_jobs()}
        return self._jobs

    def tick(self, now: datetime | None = None) -> list[str]:
        """Claim and enqueue every due job; returns the names this scheduler won."""
        now = now or timezone.now()
        jobs = self.jobs
        if not jobs:
            return []
        if not self._synced:
            sync_jobs(jobs.values(), now=now)
            self._synced = True
        # One cheap read first, so idle polls issue no UPDATE at all.
        due = PeriodicJob.objects.filter(name__in=jobs, next_run_at__lte=now).values_list(
            "name", flat=True
        )
        won: list[str] = []
        for name in sorted(due):
            spec = jobs[name]
            with transaction.atomic():
                if claim(spec, now=now, worker_id=self.worker_id):
                    run_periodic_job.enqueue(name)
                    won.append(name)
        for name in won:
            logger.info("scheduled periodic job %s", name)
        return won

    def run(self, stop: threading.Event) -> None:
        """Tick until `stop` is set; a database outage is logged and retried."""
        logger.info("scheduler %s started with %d jobs", self.worker_id, len(self.jobs))
        try:
            while not stop.is_set():
                try:
                    self.tick()
                except DatabaseError:
                    logger.exception("scheduler tick failed; retrying")
                    self._synced = False
                    connection.close()
                stop.wait(self.poll_s)
        finally:
            connection.close()
