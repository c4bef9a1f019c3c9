"""`--state-file FILE`: the default workspace's state kept in a file between runs.

At start the mock loads FILE when it exists (instead of the seed; reset still goes back to the
seed), and says in one line which it did. It writes FILE on shutdown and on `POST /__mock/save`,
atomically: the JSON goes to a temporary file in the same folder, is flushed to disk (fsync),
then renamed over FILE, and the folder is synced. A process killed at any point leaves either the previous FILE or the new one
whole, never part of one; a killed save may leave its `.FILE.*.tmp` file behind, which the next
save in that folder removes.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Callable

from .domain.service import Domain
from .state_format import serialize_state

logger = logging.getLogger("mock_server.persistence")

# Called between the fsync of the temporary file and the rename: tests hook a pause here to kill
# the process in the middle of a save.
before_rename: Callable[[Path], None] | None = None


def state_bytes(domain: Domain) -> bytes:
    """The domain's state as the JSON that `/__mock/state` exports and imports."""
    field_order = {segment: resource.stored for segment, resource in domain.resources.items()}
    snapshot = domain.snapshot()
    return serialize_state(snapshot.directory.to_data(), snapshot.entities, field_order)


def _temporary_prefix(path: Path) -> str:
    return f".{path.name}."


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` by `data` so that a reader, or a crash, sees the old file or the new one."""
    folder = path.parent if str(path.parent) else Path(".")
    for stale in folder.glob(f"{_temporary_prefix(path)}*.tmp"):  # left by a killed save
        stale.unlink(missing_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=_temporary_prefix(path), suffix=".tmp", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if before_rename is not None:
            before_rename(path)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself reaches the disk
    finally:
        os.close(directory)


class StateFile:
    """Saves of one domain to one file; one save at a time."""

    def __init__(self, path: Path, domain: Domain) -> None:
        self.path = path
        self.domain = domain
        self.loaded = False  # whether the state at start came from the file
        self._lock = threading.Lock()

    def load(self, import_state: Callable[[bytes], None]) -> None:
        """Load the file with `import_state` when it exists (a StateError, a ValueError, when it
        does not load); otherwise the state stays the seed's and the first save creates the file."""
        if self.path.exists():
            import_state(self.path.read_bytes())
            self.loaded = True

    def start_line(self) -> str:
        """What the mock says at start about the file: what it loaded from it, or that it starts
        from the seed and will write the file."""
        saves = "on shutdown and on POST /__mock/save"
        if self.loaded:
            entities = sum(len(table) for table in self.domain.store.tables.values())
            return f"state loaded from {self.path} ({entities} entities); saved there {saves}"
        return f"{self.path} does not exist yet: started from the seed; the state is saved there {saves}"

    def save(self) -> int:
        """Write the state now; the number of bytes written."""
        with self._lock:
            data = state_bytes(self.domain)
            write_atomically(self.path, data)
        logger.info("state saved to %s (%d bytes)", self.path, len(data))
        return len(data)
