"""Bounded producer/consumer stages on threads: memory is O(queue sizes), errors stop every stage."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

logger = logging.getLogger(__name__)

END = object()  # closes a queue


class Cancelled(Exception):
    """The run was cancelled (the app's Cancel button, or Ctrl-C)."""


class StageRunner:
    """Starts stages connected by bounded queues; the first error (or a cancel) stops them all."""

    def __init__(self, cancel_event: threading.Event | None = None):
        self.cancel = cancel_event or threading.Event()
        self._failed = threading.Event()
        self._error: BaseException | None = None
        self._threads: list[threading.Thread] = []

    def _fail(self, exc: BaseException) -> None:
        if self._error is None:
            self._error = exc
        self._failed.set()

    def stopped(self) -> bool:
        return self.cancel.is_set() or self._failed.is_set()

    def put(self, q: queue.Queue, item: Any) -> None:
        while True:
            if self.stopped():
                raise Cancelled()
            try:
                q.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def take(self, q: queue.Queue) -> Any:
        """The next item of ``q``, waiting in short slices so a stop request is noticed."""
        while True:
            try:
                return q.get(timeout=0.1)
            except queue.Empty:
                if self.stopped():
                    raise Cancelled() from None

    def iterate(self, q: queue.Queue) -> Iterator[Any]:
        while True:
            item = self.take(q)
            if item is END:
                return
            yield item

    def start(
        self, name: str, produce: Callable[[], Iterable[Any]] | Callable[[], None], out: queue.Queue | None
    ) -> None:
        """Run ``produce`` in a thread, putting what it yields into ``out`` (then an end marker)."""

        def body() -> None:
            try:
                result = produce()
                if out is not None:
                    for item in result:
                        self.put(out, item)
                    self.put(out, END)
            except Cancelled:
                pass
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                logger.debug("stage %s failed", name, exc_info=True)
                self._fail(exc)

        thread = threading.Thread(target=body, name=f"latentsync-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def finish(self, main_error: BaseException | None = None) -> None:
        """Wait for all stages; re-raise the first error (a stage's, or the main thread's)."""
        if main_error is not None:
            self._fail(main_error)
        for thread in self._threads:
            while thread.is_alive():
                thread.join(timeout=0.2)
        if self._error is not None and not isinstance(self._error, Cancelled):
            raise self._error
        if self.cancel.is_set():
            raise Cancelled()
