"""A per-process gate on full image decodes: a weighted, first-come-first-served semaphore on bytes.

Each decode holds its estimated memory (see ``processing.decode_cost``) while it runs; decodes wait, in
arrival order, until what the running ones hold plus their own fits the budget. A decode larger than the
whole budget still runs, alone. gunicorn's gthread workers run requests in threads, so the gate is
``threading`` based and per process: with N worker processes the worst case is N budgets.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager


class DecodeGate:
    def __init__(self, budget_bytes: int) -> None:
        if budget_bytes < 1:
            raise ValueError("the decode budget must be positive")
        self.budget = budget_bytes
        self._held = 0
        self._running = 0
        self._queue: deque[object] = deque()
        self._cond = threading.Condition()

    @property
    def held(self) -> int:
        return self._held

    @contextmanager
    def hold(self, cost: int) -> Iterator[None]:
        cost = max(1, min(cost, self.budget))  # larger than the budget: waits for all of it, runs alone
        ticket = object()
        with self._cond:
            self._queue.append(ticket)
            while self._queue[0] is not ticket or self._held + cost > self.budget:
                self._cond.wait()
            self._queue.popleft()
            self._held += cost
            self._running += 1
            self._cond.notify_all()  # the next in line may fit too
        try:
            yield
        finally:
            with self._cond:
                self._held -= cost
                self._running -= 1
                self._cond.notify_all()


_gates: dict[int, DecodeGate] = {}
_gates_lock = threading.Lock()


def gate_for(budget_bytes: int) -> DecodeGate:
    """The process's gate for this budget (one per distinct budget, normally exactly one)."""
    with _gates_lock:
        gate = _gates.get(budget_bytes)
        if gate is None:
            gate = _gates[budget_bytes] = DecodeGate(budget_bytes)
        return gate
