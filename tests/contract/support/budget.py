"""The run's request budget (`--max-requests N`): at most N requests to the target, over all
pytest-xdist workers together; then the run stops, partial.

Every request the suite causes takes one unit before it leaves (`transport.before_request`); the
units are counted in a SQLite file of the run's shared folder (`shared_run_dir`), which every
worker opens, so the bound holds for the run, not per worker. Once the budget is spent a request
raises `BudgetSpent`: the test in flight ends without a verdict on the target (support/plugin.py),
no new test starts, and the run's summary says it is partial and why (`BUDGET.partial_reason`).

Past N only the cleanup may send (`BUDGET.cleaning()`: the deletes of what the run created, and
on a mock putting its clock back), so nothing the run made stays on the target.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

COUNTER_FILE = "request-budget.sqlite"
# seconds a worker waits for another's write to the counter before giving up (SQLite's busy timeout)
COUNTER_TIMEOUT_S = 60.0


class BudgetSpent(RuntimeError):
    """The run has sent its --max-requests: no verdict on the target from here on."""


@dataclass
class SharedCounter:
    """An integer in a SQLite file, incremented atomically across processes, up to a limit."""

    path: Path
    _connection: sqlite3.Connection | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def create(self) -> None:
        with sqlite3.connect(self.path, timeout=COUNTER_TIMEOUT_S) as connection:
            connection.execute("CREATE TABLE IF NOT EXISTS budget (used INTEGER NOT NULL)")
            if connection.execute("SELECT COUNT(*) FROM budget").fetchone()[0] == 0:
                connection.execute("INSERT INTO budget (used) VALUES (0)")
        connection.close()

    def _open(self) -> sqlite3.Connection:
        if self._connection is None:
            # autocommit: the single UPDATE below is its own transaction, atomic between processes
            self._connection = sqlite3.connect(self.path, timeout=COUNTER_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        return self._connection

    def take(self, limit: int) -> bool:
        """One unit, if fewer than `limit` were taken by anyone; whether it was granted."""
        with self._lock:
            cursor = self._open().execute("UPDATE budget SET used = used + 1 WHERE used < ?", (limit,))
            return cursor.rowcount == 1

    def used(self) -> int:
        with self._lock:
            return int(self._open().execute("SELECT used FROM budget").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


@dataclass
class RequestBudget:
    """The budget of this process's requests (shared with the other workers through `counter`)."""

    limit: int | None = None  # None: no budget
    counter: SharedCounter | None = None
    # why the run is partial (None: it is not); gathered from the workers by support/plugin.py
    partial_reason: str | None = None
    refusals: int = 0  # requests of this process refused: a test tells its own from another worker's
    _cleaning: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def configure(self, limit: int | None, run_dir: Path | None) -> None:
        self.close()
        self.limit = limit
        self.partial_reason = None
        if limit is not None:
            assert run_dir is not None, "a request budget needs the run's shared folder"
            self.counter = SharedCounter(run_dir / COUNTER_FILE)

    @property
    def spent(self) -> bool:
        return self.partial_reason is not None

    def take(self, describe: str) -> None:
        """One request's unit, or `BudgetSpent`; the cleanup's requests pass when spent."""
        if self.limit is None or self.counter is None:
            return
        if self._cleaning and self.spent:
            return
        if self.counter.take(self.limit):
            return
        if self._cleaning:
            return  # the cleanup always runs: what the run made is deleted
        with self._lock:
            self.refusals += 1
            if self.partial_reason is None:
                self.partial_reason = f"the request budget was spent: {self.limit} requests were sent (--max-requests {self.limit})"
        raise BudgetSpent(f"{self.partial_reason}; not sent: {describe}")

    @contextmanager
    def cleaning(self) -> Iterator[None]:
        """The cleanup's requests, which may go past the budget."""
        with self._lock:
            self._cleaning += 1
        try:
            yield
        finally:
            with self._lock:
                self._cleaning -= 1

    def used(self) -> int | None:
        return None if self.counter is None else self.counter.used()

    def close(self) -> None:
        if self.counter is not None:
            self.counter.close()


BUDGET = RequestBudget()
