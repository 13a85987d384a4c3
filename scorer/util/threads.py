"""One call in a background thread, for I/O that can overlap the history stream."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable


class Background:
    """Run one call in a daemon thread; ``result()`` waits and re-raises. A daemon thread,
    unlike a pool's, never holds up the exit when the scan fails before asking for it (an
    API source may still be waiting out a rate limit). ``start=False``: started by the first
    ``start()`` or ``result()``."""

    def __init__(self, fn: Callable[..., object], *args: object, start: bool = True):
        self._value: object = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self._started = False
        if start:
            self.start()

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._thread.start()

    def _run(self, fn: Callable[..., object], args: tuple) -> None:
        try:
            self._value = fn(*args)
        except BaseException as err:  # handed to the caller by result()
            self._error = err

    def result(self):
        self.start()
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


_cleanups: list[Background] = []


def clean_up_later(fn: Callable[[], object]) -> None:
    """Run ``fn`` (closing processes, say) in the background: the caller goes on meanwhile,
    and the console entry waits for it before leaving (``wait_for_clean_ups``), so that the
    processes are reaped rather than left to exit on their own."""
    _cleanups.append(Background(fn))


def wait_for_clean_ups() -> None:
    while _cleanups:
        with contextlib.suppress(Exception):
            _cleanups.pop().result()
