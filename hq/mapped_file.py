"""Zeroed memory that several processes can map from one file, with a lock that holds across them."""

from __future__ import annotations

import fcntl
import mmap
import os
import threading
from pathlib import Path

# POSIX record locks belong to the process, not to the fd: two maps of one file in one process would both get
# lockf at once, and closing any fd of the file drops the process's lock on it. So every map of one file in a
# process shares one threading.Lock, held around lockf and around close().
_file_locks: dict[tuple[int, int], threading.Lock] = {}
_file_locks_guard = threading.Lock()


class MappedFile:
    """``size`` bytes of zeroed memory: a file mapped by every process that opens it, or anonymous memory.

    Open it in the process that uses it (after fork, not before): the lock state is per process.
    """

    def __init__(self, path: Path | None, size: int, what: str) -> None:
        self.fd: int | None = None
        if path is None:
            self.lock = threading.Lock()
            self.map = mmap.mmap(-1, size)
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        st = os.fstat(fd)
        with _file_locks_guard:
            self.lock = _file_locks.setdefault((st.st_dev, st.st_ino), threading.Lock())
        with self.lock:  # even this first lockf/unlock and the close on error would upset another map's lock
            try:
                # Several workers may create the file at once: the one that finds it empty sizes it, under lockf.
                fcntl.lockf(fd, fcntl.LOCK_EX)
                try:
                    found = os.fstat(fd).st_size
                    if found == 0:
                        os.ftruncate(fd, size)
                    elif found != size:
                        raise ValueError(
                            f"{path} holds {found} bytes; a {what} needs {size}: it was made with another size "
                            "(or is another file). Delete it or give each table its own file."
                        )
                finally:
                    fcntl.lockf(fd, fcntl.LOCK_UN)
                self.map = mmap.mmap(fd, size)
            except BaseException:
                os.close(fd)
                raise
        self.fd = fd

    # A class-based context manager rather than @contextmanager: that costs about a microsecond more a call.
    def __enter__(self) -> None:
        """Exclusive use against this process's threads and, when file-backed, every other process."""
        self.lock.acquire()
        if self.fd is not None:
            try:
                # Released by the kernel if the process dies, so a killed worker can not leave the file locked.
                fcntl.lockf(self.fd, fcntl.LOCK_EX)
            except BaseException:
                self.lock.release()
                raise

    def __exit__(self, *exc: object) -> None:
        try:
            if self.fd is not None:
                fcntl.lockf(self.fd, fcntl.LOCK_UN)
        finally:
            self.lock.release()

    def close(self) -> None:
        with self.lock:
            self.map.close()
            if self.fd is not None:
                os.close(self.fd)
                self.fd = None
