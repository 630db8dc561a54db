"""Hand pushes to the channel layer without making the caller wait for it.

A push runs after the change it reports has committed, in whatever thread made
the change: a request, a task, an import of thousands of mails. Waiting there
for the layer (a Redis round trip, and for code without an event loop a new
loop in a new thread on every call) costs the caller milliseconds per change
and up to the time limit when the layer is stuck. So a push is only queued:

- code that runs for an event loop (a sync view under the ASGI server, a test
  scenario) schedules the send on that loop, where the in-memory layer's
  sockets live, and returns;
- everything else (the CLI, the worker, the mail listener's threads) puts it
  on the queue of one sender thread per process, which keeps its own event
  loop (and so its Redis connections) and sends in the order pushes came.

Either way each send is cut off after `timeout_s`, and a failure is logged and
skipped. The queue is bounded: when the layer falls that far behind, further
pushes are dropped (and counted in the log), never held in memory without end.
Pages still show the truth on their next refresh; a push only says when.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Sequence
from typing import Any

from asgiref.sync import SyncToAsync
from channels.layers import BaseChannelLayer

logger = logging.getLogger(__name__)

Send = tuple[str, dict[str, Any]]
Item = tuple[BaseChannelLayer, Sequence[Send], float]

# Pushes waiting for the sender thread; each is one event's notices.
QUEUE_CAPACITY = 5000
# At most one "dropped" line in this many seconds, with the count since the last.
DROP_LOG_INTERVAL_S = 10.0
# How long a process that ends waits for its queued pushes.
EXIT_FLUSH_S = 2.0


def push(layer: BaseChannelLayer, sends: Sequence[Send], *, timeout_s: float) -> None:
    """Send `sends` (group, message) through `layer` soon; never raises, never waits."""
    if not sends:
        return
    loop = _serving_loop()
    if loop is not None and _schedule_on(loop, layer, sends, timeout_s):
        return
    _sender().submit((layer, tuple(sends), timeout_s))


def flush(timeout_s: float) -> bool:
    """Wait until the pushes queued so far are sent (or given up); False on timing out.

    For the end of a command, and for tests that look at what a push did.
    """
    current = _current
    return current.wait_idle(timeout_s) if current is not None else True


# --- on the caller's event loop --------------------------------------------------------------


def _serving_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop this thread does sync work for (asgiref's sync_to_async)."""
    local = SyncToAsync.threadlocal
    if getattr(local, "main_event_loop_pid", None) != os.getpid():
        return None
    loop: asyncio.AbstractEventLoop | None = getattr(local, "main_event_loop", None)
    return loop if loop is not None and loop.is_running() and not loop.is_closed() else None


def _schedule_on(
    loop: asyncio.AbstractEventLoop,
    layer: BaseChannelLayer,
    sends: Sequence[Send],
    timeout_s: float,
) -> bool:
    coroutine = _send_logged(layer, sends, timeout_s)
    try:
        asyncio.run_coroutine_threadsafe(coroutine, loop)
    except RuntimeError:  # the loop closed meanwhile
        coroutine.close()
        return False
    return True


async def _send_logged(layer: BaseChannelLayer, sends: Sequence[Send], timeout_s: float) -> None:
    try:
        async with asyncio.timeout(timeout_s):
            for group, message in sends:
                await layer.group_send(group, message)
    except Exception:
        logger.warning("realtime push of %d messages failed; skipped", len(sends), exc_info=True)


# --- the sender thread -----------------------------------------------------------------------


class Sender:
    """One daemon thread with its own event loop, sending queued pushes in order."""

    def __init__(self, capacity: int = QUEUE_CAPACITY) -> None:
        self.pid = os.getpid()
        self.capacity = capacity
        self._queue: queue.Queue[Item] = queue.Queue(maxsize=capacity)
        self._dropped = 0
        self._dropped_logged_at = 0.0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="realtime-sender", daemon=True)
        self._thread.start()

    def submit(self, item: Item) -> None:
        """Queue `item` (layer, sends, time limit); when the queue is full, drop it."""
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._note_dropped()

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until every queued push is sent or given up; False when `timeout_s` ran out."""
        deadline = time.monotonic() + timeout_s
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._queue.all_tasks_done.wait(left)
        return True

    def _note_dropped(self) -> None:
        with self._lock:
            self._dropped += 1
            now = time.monotonic()
            if now - self._dropped_logged_at < DROP_LOG_INTERVAL_S:
                return
            count, self._dropped, self._dropped_logged_at = self._dropped, 0, now
        logger.warning(
            "realtime pushes dropped: %d waiting already, %d more not sent",
            self.capacity,
            count,
        )

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        while True:
            layer, sends, timeout_s = self._queue.get()
            try:
                loop.run_until_complete(_send_logged(layer, sends, timeout_s))
            except Exception:  # noqa: BLE001 - the thread must outlive any one push
                logger.warning("realtime push failed; skipped", exc_info=True)
            finally:
                self._queue.task_done()


_current: Sender | None = None
_start_lock = threading.Lock()


def _sender() -> Sender:
    """This process's sender, started on first use (and again in a forked child)."""
    global _current  # noqa: PLW0603 - one sender per process
    current = _current
    if current is not None and current.pid == os.getpid():
        return current
    with _start_lock:
        if _current is None or _current.pid != os.getpid():
            _current = Sender()
        return _current


@atexit.register
def _flush_at_exit() -> None:
    # A command that ends right after its last change still sends what it queued.
    current = _current
    if current is not None and current.pid == os.getpid():
        current.wait_idle(EXIT_FLUSH_S)
