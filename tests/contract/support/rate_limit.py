"""The run's rate limit (`--rate-limit 10/s`, or `N/min`): over all pytest-xdist workers together.

pyrate-limiter's sliding window log (it admits at most `limit` per window, no burst beyond it),
in its SQLite bucket: a file of the run's shared folder (`plugin.shared_run_dir`) that every
worker opens, its reads and writes serialised between processes by an advisory file lock
(`FileLock`), so the limit holds for the run, not per worker. Every request the suite causes
waits for its slot before it leaves (`transport.before_request`): probes, retries, cleanup.

The window is `DELIVERY_MARGIN_S` longer than the unit asked for: a request is timed when it
takes its slot, and reaches the server a little later, by a delay that varies; with the margin
the server sees at most `limit` requests in any one second (or minute) as long as that delay
varies by less than the margin.
"""

from __future__ import annotations

import fcntl
import os
import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from pyrate_limiter import Limiter, Rate
from pyrate_limiter.buckets.sqlite_bucket import Queries, SQLiteBucket

BUCKET_FILE = "rate-limit.sqlite"
TABLE = "contract_requests"
ITEM = "target"
DELIVERY_MARGIN_S = 0.5
UNITS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0}
RATE_SYNTAX = re.compile(r"^\s*(\d+)\s*/\s*([a-z]+)\s*$")


@dataclass(frozen=True)
class RateSpec:
    limit: int  # requests
    per: float  # in this many seconds

    @classmethod
    def parse(cls, text: str) -> RateSpec:
        """`10/s`, `600/min`."""
        match = RATE_SYNTAX.match(text.lower())
        if match is None or match[2] not in UNITS or int(match[1]) < 1:
            raise ValueError(f"--rate-limit {text!r}: expected N/s or N/min with N >= 1, e.g. 10/s")
        return cls(int(match[1]), UNITS[match[2]])

    def __str__(self) -> str:
        return f"{self.limit}/{'s' if self.per == 1.0 else 'min'}"


class FileLock:
    """A re-entrant lock between threads and processes: an RLock, and `flock` on a file while
    the outermost holder holds it (pyrate-limiter's `LockLike`)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not self._thread_lock.acquire(blocking, timeout if blocking else -1):
            return False
        if self._depth == 0:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)  # the other processes of the run: briefly held, so blocking
        self._depth += 1
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        self._thread_lock.release()

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.release()


def create_bucket_file(run_dir: Path) -> None:
    """The bucket's table, made once by the process that made the run's folder."""
    path = run_dir / BUCKET_FILE
    with FileLock(path.with_suffix(".lock")), sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(Queries.CREATE_BUCKET_TABLE.format(table=TABLE))
        connection.execute(Queries.CREATE_INDEX_ON_TIMESTAMP.format(index_name=f"idx_{TABLE}_ts", table_name=TABLE))
    connection.close()


def shared_limiter(rate: RateSpec, run_dir: Path) -> Limiter:
    """This process's limiter on the run's shared bucket."""
    path = run_dir / BUCKET_FILE
    connection = sqlite3.connect(path, isolation_level="DEFERRED", check_same_thread=False, timeout=60.0)
    window_ms = int(round((rate.per + DELIVERY_MARGIN_S) * 1000))
    bucket = SQLiteBucket([Rate(rate.limit, window_ms)], connection, TABLE, lock=FileLock(path.with_suffix(".lock")))
    return Limiter(bucket)


@dataclass
class RunRateLimit:
    """The limiter of this process, or none."""

    rate: RateSpec | None = None
    limiter: Limiter | None = None

    def configure(self, rate: RateSpec | None, run_dir: Path | None) -> None:
        self.close()
        self.rate = rate
        if rate is not None:
            assert run_dir is not None, "a rate limit over workers needs the run's shared folder"
            self.limiter = shared_limiter(rate, run_dir)

    def acquire(self) -> None:
        """Wait for the next slot (blocking: a request is never dropped, only delayed)."""
        if self.limiter is not None:
            self.limiter.try_acquire(ITEM)

    def close(self) -> None:
        if self.limiter is not None:
            self.limiter.close()
            self.limiter = None


RATE_LIMIT = RunRateLimit()
