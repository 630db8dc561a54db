"""Collecting the domain events a block of test code publishes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from frontdesk.core.events import DomainEvent, subscribe, unsubscribe


@contextmanager
def collected(event_type: type[DomainEvent] = DomainEvent) -> Iterator[list[DomainEvent]]:
    """Events of `event_type` delivered while the block runs (on commit: pair it with
    `django_capture_on_commit_callbacks(execute=True)`)."""
    seen: list[DomainEvent] = []
    handler = seen.append
    subscribe(event_type, handler)
    try:
        yield seen
    finally:
        unsubscribe(event_type, handler)
