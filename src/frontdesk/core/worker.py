"""Running background tasks: the django-tasks-db worker plus the periodic scheduler.

`BackgroundWorker` runs both on daemon threads of the current process, so
`frontdesk serve` can embed them next to the web server and `frontdesk worker`
can run them alone. Any number of workers may run against one PostgreSQL
database: tasks are claimed with SELECT ... FOR UPDATE SKIP LOCKED by
django-tasks-db, periodic jobs by the conditional UPDATE in `scheduling`.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from types import FrameType
from typing import Protocol

from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from frontdesk.core.scheduling import PeriodicSpec, Scheduler, periodic

logger = logging.getLogger(__name__)

_RESTART_DELAY_S = 5.0


def new_worker_id() -> str:
    """Unique across the pool: host, process and a random suffix (64 characters at most)."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(4)}"[:64]


def uses_database_backend(alias: str = DEFAULT_TASK_BACKEND_ALIAS) -> bool:
    """False when tasks run elsewhere (e.g. the immediate backend): no worker is needed."""
    return isinstance(task_backends[alias], DatabaseBackend)


class BackgroundWorker:
    """A task worker and a scheduler on two daemon threads of this process."""

    def __init__(
        self,
        *,
        worker_id: str | None = None,
        queue_names: tuple[str, ...] = ("*",),
        interval_s: float = 1.0,
        scheduler_poll_s: float = 5.0,
        run_scheduler: bool = True,
        jobs: Iterable[PeriodicSpec] | None = None,
        backend_name: str = DEFAULT_TASK_BACKEND_ALIAS,
    ) -> None:
        """`jobs` limits the scheduler to those periodic jobs (default: all registered)."""
        self.worker_id = worker_id or new_worker_id()
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._worker: Worker | None = None
        if uses_database_backend(backend_name):
            self._worker = Worker(
                queue_names=list(queue_names),
                interval=interval_s,
                batch=False,
                backend_name=backend_name,
                startup_delay=False,
                max_tasks=None,
                worker_id=self.worker_id,
                excluded_queue_names=[],
            )
        else:
            logger.info("task backend %r is not a database backend: no task worker", backend_name)
        self._scheduler = (
            Scheduler(worker_id=self.worker_id, jobs=jobs, poll_s=scheduler_poll_s)
            if run_scheduler
            else None
        )

    def start(self) -> None:
        if self._worker is not None:
            worker = self._worker
            self._spawn("frontdesk-tasks", lambda: self._run_tasks(worker))
        if self._scheduler is not None:
            scheduler = self._scheduler
            self._spawn("frontdesk-scheduler", lambda: scheduler.run(self.stopping))
        logger.info("background worker %s started", self.worker_id)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=f"{name}-{self.worker_id}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def is_running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask both threads to finish (a running task completes first) and wait for them."""
        self.stopping.set()
        if self._worker is not None:
            self._worker.running = False
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads = [thread for thread in self._threads if thread.is_alive()]
        if self._threads:
            logger.warning("background threads still busy after %.0f s", timeout_s)

    def _run_tasks(self, worker: Worker) -> None:
        try:
            while not self.stopping.is_set():
                try:
                    worker.run()
                except DatabaseError:
                    # The database went away; the worker's loop does not survive that,
                    # so start it again once the database may be back.
                    logger.exception("task worker failed; restarting")
                    connections.close_all()
                    self.stopping.wait(_RESTART_DELAY_S)
                else:
                    return
        finally:
            connections.close_all()


class Companion(Protocol):
    """Something that runs beside the task worker (the IMAP IDLE watchers)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def run_until_signalled(
    worker: BackgroundWorker, *, banner: str = "", companions: Sequence[Companion] = ()
) -> None:
    """Run `worker` in the foreground until SIGTERM or SIGINT; a second signal exits at once.

    `banner` is printed once the signal handlers are in place, so whoever waits for
    it (a supervisor, a test) may send SIGTERM right away and get a clean stop.
    `companions` start after it and stop before the worker, which may take as long as
    its current task: what they hold (IMAP leases) is handed over without that wait.
    """
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise SystemExit(1)
        logger.warning("received %s: finishing the current task", signal.strsignal(signum))
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    if banner:
        print(banner, flush=True)
    worker.start()
    started: list[Companion] = []
    try:
        for companion in companions:
            companion.start()
            started.append(companion)
        while not stop.wait(3600):
            pass
        for companion in reversed(started):
            companion.stop()
        started.clear()
        worker.stop()
    finally:
        for companion in reversed(started):
            companion.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@periodic("prune_task_results", every=timedelta(hours=1))
def prune_task_results() -> dict[str, int]:
    """Delete finished task results past the retention period so the table stays small."""
    days = settings.TASK_RESULT_RETENTION_DAYS
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return {"deleted": deleted}
