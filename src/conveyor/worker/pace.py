"""How fast a worker is finishing executions: what it claims ahead of its free slots is sized by it."""

from __future__ import annotations

import collections
import threading
import time


class Pace:
    """Executions this worker finished per second over the last `window` seconds."""

    def __init__(self, window: float = 1.0) -> None:
        self._window = window
        self._done: collections.deque[tuple[float, int]] = collections.deque()
        self._total = 0
        self._lock = threading.Lock()  # the completer adds, the claim loop reads

    def add(self, n: int) -> None:
        now = time.monotonic()
        with self._lock:
            self._done.append((now, n))
            self._total += n
            self._trim(now)

    def per_second(self) -> float:
        with self._lock:
            self._trim(time.monotonic())
            return self._total / self._window

    def _trim(self, now: float) -> None:
        while self._done and self._done[0][0] < now - self._window:
            self._total -= self._done.popleft()[1]
